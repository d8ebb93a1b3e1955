"""The argparse subparsers of the ``command`` sub-command option.

oslo.config calls :func:`add_parsers` with the subparsers object of its
``SubCommandOpt``; each subparser records the handler that runs it in
``func`` and what the handler needs in ``needs``: ``project`` (a volume
API and a context for ``--project-id``), ``api`` (a volume API and an
admin context) or ``nothing``.

Destinations avoid ``name``: oslo.config's ``CONF.command.name`` is the
name of the chosen command.
"""

import argparse
import os
import re

from volflow.cmd import _api
from volflow.cmd import _changes
from volflow.cmd import _commands
from volflow.cmd import _conductor
from volflow.cmd import _create
from volflow.cmd import _db
from volflow.cmd import _resume
from volflow.cmd import _services
from volflow.cmd import _trace

DEFAULT_ID = 'volflow'


def positive_int(text):
    """argparse type: an integer of at least 1."""
    digits = text.strip()
    value = int(digits) if re.fullmatch(r'[0-9]+', digits) else 0
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an integer of at least 1")
    return value


def _command(subparsers, name, func, help, needs='project'):
    parser = subparsers.add_parser(name, help=help, description=help)
    parser.set_defaults(func=func, needs=needs)
    if needs == 'project':
        parser.add_argument(
            '--project-id',
            default=os.environ.get('OS_PROJECT_ID') or DEFAULT_ID,
            help='Project to act for (default: $OS_PROJECT_ID, else '
                 f'{DEFAULT_ID}).')
        parser.add_argument(
            '--user-id',
            default=os.environ.get('OS_USER_ID') or DEFAULT_ID,
            help=f'User to act as (default: $OS_USER_ID, else {DEFAULT_ID}).')
        parser.add_argument('--admin', action='store_true',
                            help='Act with an admin context.')
    if needs != 'nothing':
        parser.add_argument('--format', choices=('table', 'json'),
                            default='table',
                            help='Output format (default: table).')
    return parser


def _add_create(subparsers):
    parser = _command(subparsers, 'create', _create.create,
                      'Create a volume: run the whole pipeline.')
    parser.add_argument('--size', metavar='GB',
                        help='Size in GB; may be omitted with --snapshot-id '
                             'or --source-volid (inherited).')
    parser.add_argument('--name', dest='display_name', help='Volume name.')
    parser.add_argument('--description', help='Volume description.')
    parser.add_argument('--volume-type', metavar='NAME_OR_ID',
                        help='Volume type.')
    parser.add_argument('--availability-zone', metavar='AZ',
                        help='Availability zone.')
    parser.add_argument('--snapshot-id', metavar='ID',
                        help='Create from this snapshot.')
    parser.add_argument('--source-volid', metavar='ID',
                        help='Create a clone of this volume.')
    parser.add_argument('--image-id', metavar='ID',
                        help='Create from this image.')
    parser.add_argument('--metadata', metavar='KEY=VALUE', action='append',
                        help='A metadata pair; repeat for more.')
    parser.add_argument('--count', metavar='N', type=positive_int, default=1,
                        help='Create N volumes concurrently.')
    parser.add_argument('--no-wait', action='store_true',
                        help='Do not wait for the volume to leave '
                             '"creating".')
    parser.add_argument('--timings', action='store_true',
                        help='Print on stderr how long each task and flow '
                             'took.')
    _trace.add_create_options(parser)


def _add_volumes(subparsers):
    _command(subparsers, 'list', _commands.volume_list, 'List volumes.')
    parser = _command(subparsers, 'show', _commands.volume_show,
                      'Show a volume.')
    parser.add_argument('id', metavar='ID',
                        help='Volume id, or its name where no other volume '
                             'has it.')
    parser = _command(subparsers, 'delete', _commands.volume_delete,
                      'Delete volumes and give their quota back.')
    parser.add_argument('ids', metavar='ID', nargs='+',
                        help='Volume id, or its name where no other volume '
                             'has it; several delete each in turn.')
    parser.add_argument('--force', action='store_true',
                        help='Admin only: delete whatever the status.')
    parser.add_argument('--cascade', action='store_true',
                        help='Delete the volume\'s snapshots first.')


def _add_snapshots_images_types(subparsers):
    parser = _command(subparsers, 'snapshot-create',
                      _commands.snapshot_create,
                      'Snapshot an available volume.')
    parser.add_argument('volume_id', metavar='VOLUME',
                        help='Volume id, or its name where no other volume '
                             'has it.')
    parser.add_argument('--name', dest='display_name',
                        help='Snapshot name.')
    _command(subparsers, 'snapshot-list', _commands.snapshot_list,
             'List snapshots.')
    parser = _command(subparsers, 'image-create', _commands.image_create,
                      'Register a local file as an image.')
    parser.add_argument('display_name', metavar='NAME', help='Image name.')
    parser.add_argument('--file', metavar='PATH', required=True,
                        help='File holding the image bytes.')
    parser.add_argument('--min-disk', metavar='GB', type=int, default=0,
                        help='Smallest volume the image fits on (GB).')
    parser.add_argument('--public', action='store_true',
                        help='Make the image visible to every project.')
    _command(subparsers, 'image-list', _commands.image_list, 'List images.')
    parser = _command(subparsers, 'image-delete', _commands.image_delete,
                      'Delete an image and its bytes.')
    parser.add_argument('id', metavar='ID', help='Image id.')
    parser = _command(subparsers, 'type-create', _commands.type_create,
                      'Create a volume type.')
    parser.add_argument('display_name', metavar='NAME', help='Type name.')
    parser.add_argument('--property', metavar='KEY=VALUE', action='append',
                        help='An extra spec; repeat for more.')
    _command(subparsers, 'type-list', _commands.type_list,
             'List volume types.')
    parser = _command(subparsers, 'type-delete', _commands.type_delete,
                      'Delete a volume type no volume has (not the default '
                      'type).')
    parser.add_argument('type', metavar='NAME_OR_ID', help='Type name or id.')
    parser = _command(subparsers, 'type-set', _commands.type_set,
                      'Add or replace extra specs of a volume type.')
    parser.add_argument('type', metavar='NAME_OR_ID', help='Type name or id.')
    parser.add_argument('--property', metavar='KEY=VALUE', action='append',
                        required=True, help='An extra spec; repeat for more.')
    parser = _command(subparsers, 'type-unset', _commands.type_unset,
                      'Remove extra specs of a volume type.')
    parser.add_argument('type', metavar='NAME_OR_ID', help='Type name or id.')
    parser.add_argument('--property', metavar='KEY', action='append',
                        required=True,
                        help='The key of an extra spec; repeat for more.')


def _add_quotas(subparsers):
    _command(subparsers, 'quota-show', _commands.quota_show,
             "Show the project's quotas, in use and reserved.")
    parser = _command(subparsers, 'quota-update', _commands.quota_update,
                      "Set the project's quota limits (-1: unlimited).")
    for resource in ('volumes', 'gigabytes', 'snapshots'):
        parser.add_argument(f'--{resource}', metavar='N', type=int,
                            help=f'Limit of {resource}.')
    parser.add_argument('--volume-type', metavar='T',
                        help='Set the per-type limits of this volume type '
                             '(volumes_T, gigabytes_T, snapshots_T).')


def add_parsers(subparsers):
    """Add one subparser per command (oslo.config's handler)."""
    _add_create(subparsers)
    _add_volumes(subparsers)
    _add_snapshots_images_types(subparsers)
    _changes.add_parsers(subparsers, _command, positive_int)
    _add_quotas(subparsers)
    _command(subparsers, 'backend-list', _commands.backend_list,
             'List backends with their capacity.', needs='api')
    parser = _command(subparsers, 'service-list', _commands.service_list,
                      'List the scheduler, volume and conductor services: '
                      'up or down, enabled or disabled, last report.',
                      needs='api')
    parser.add_argument('--binary', metavar='BINARY',
                        help='Only this binary (cinder-scheduler, '
                             'cinder-volume, volflow-conductor).')
    parser.add_argument('--host', metavar='HOST',
                        help='Only the services of this host (HOST also '
                             'matches HOST@BACKEND and HOST@BACKEND#POOL).')
    parser = _command(subparsers, 'graph', _commands.graph,
                      'Print a flow as Graphviz DOT.', needs='nothing')
    parser.add_argument('flow',
                        choices=('api', 'scheduler', 'manager', 'pipeline'),
                        help='Which flow; pipeline: the three, linked by '
                             'the casts, with inputs and outputs.')
    _trace.add_parser(subparsers, _command)
    _services.add_parsers(subparsers)
    _conductor.add_parser(subparsers)
    _resume.add_parser(subparsers)
    _api.add_parser(subparsers)
    _db.add_parser(subparsers)


def command_names():
    """The names of every command."""
    subparsers = argparse.ArgumentParser().add_subparsers()
    add_parsers(subparsers)
    return frozenset(subparsers.choices)
