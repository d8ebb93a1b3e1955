"""``scheduler`` and ``volume --backend NAME``: the long-running services.

Both need ``[DEFAULT] transport_url``: without a broker there is nothing
to listen on (the embedded default runs the scheduler and the volume
managers inside every command instead).

A service logs to stderr at INFO unless ``--log-file`` (or another log
destination) says otherwise: unlike a command, its log is its output.
Every line is masked (:func:`volflow.redaction.install`), and
the configuration is logged at DEBUG with secrets masked, as OpenStack
services do.
"""

from oslo_log import log as logging

from volflow.cmd import _util
from volflow import exception
from volflow import transport

LOG = logging.getLogger(__name__)


def _require_transport(conf, command):
    if transport.transport_url(conf) is None:
        raise exception.ConfigError(
            reason=f'"{command}" is a service listening on a message '
                   f'broker: set [DEFAULT] transport_url (for example '
                   f'rabbit://user:password@host:5672/)')


def scheduler(args, api, ctx, conf):
    """Run the scheduler service until SIGTERM or SIGINT."""
    _require_transport(conf, 'scheduler')
    _util.service_logging(conf, LOG)
    from volflow import service  # oslo.messaging's servers: services only
    return service.scheduler_service(conf).run()


def volume(args, api, ctx, conf):
    """Run the volume service of one backend until SIGTERM or SIGINT."""
    _require_transport(conf, 'volume')
    _util.service_logging(conf, LOG)
    from volflow import service  # oslo.messaging's servers: services only
    return service.volume_service(args.backend, conf).run()


def add_parsers(subparsers):
    """Add ``scheduler`` and ``volume`` (needing no API nor context)."""
    parser = subparsers.add_parser(
        'scheduler', help='Run the scheduler service.',
        description='Run the scheduler service: place new volumes on '
                    'backends. Needs [DEFAULT] transport_url; several may '
                    'run at once.')
    parser.set_defaults(func=scheduler, needs='nothing')
    parser = subparsers.add_parser(
        'volume', help='Run the volume service of one backend.',
        description='Run the volume service of one backend: create, '
                    'delete and snapshot its volumes. Needs [DEFAULT] '
                    'transport_url; run one per backend.')
    parser.add_argument('--backend', metavar='NAME', required=True,
                        help='The backend: a section named in '
                             'enabled_backends, or "local" when it is '
                             'unset.')
    parser.set_defaults(func=volume, needs='nothing')
