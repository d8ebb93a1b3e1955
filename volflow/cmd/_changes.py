"""The command handlers that change existing volumes and snapshots.

``extend``, ``set``, ``unset`` and ``snapshot-delete``: each checks all
its input before changing anything, prints the record as it is after the
change and returns the exit status (1 when the change failed on the
backend: the volume says why).
"""

from volflow.cmd import _output
from volflow.cmd import _util
from volflow import exception


def _emit_volume(volume, args):
    view = _output.volume_view(volume)
    _output.emit(view, args.format, lambda: _output.record_table(view))


def volume_extend(args, api, ctx, conf):
    """Grow a volume; exit 1 if the backend failed (size unchanged)."""
    volume = api.extend(ctx, args.id, args.new_size)
    _emit_volume(volume, args)
    if volume['status'] != 'available':
        _util.fail(f"Volume {args.id} was not extended: it is "
                   f"'{volume['status']}': {volume.get('reason')}")
        return 1
    return 0


def volume_set(args, api, ctx, conf):
    """Change a volume's name, description or metadata keys, at once."""
    properties = _util.parse_pairs('--property', args.property) or {}
    values = {}
    if args.display_name is not None:
        values['name'] = args.display_name
    if args.description is not None:
        values['description'] = args.description
    if not values and not properties:
        raise exception.InvalidInput(
            reason='set needs at least one of --name, --description, '
                   '--property')
    if properties:
        values['metadata'] = {**api.get_volume_metadata(ctx, args.id),
                              **properties}
    _emit_volume(api.update(ctx, args.id, values), args)
    return 0


def volume_unset(args, api, ctx, conf):
    """Remove metadata keys of a volume; an absent key changes nothing."""
    metadata = api.get_volume_metadata(ctx, args.id)
    missing = [key for key in args.property if key not in metadata]
    if missing:
        raise exception.MetadataNotFound(kind='Volume', id=args.id,
                                         key=', '.join(missing))
    for key in args.property:
        del metadata[key]
    _emit_volume(api.update(ctx, args.id, {'metadata': metadata}), args)
    return 0


def snapshot_delete(args, api, ctx, conf):
    """Delete a snapshot and give its quota back."""
    api.delete_snapshot(ctx, args.id)
    view = {'id': args.id, 'status': 'deleted'}
    _output.emit(view, args.format,
                 lambda: f'Snapshot {args.id}: deleted.')
    return 0


def add_parsers(subparsers, command, positive_int):
    """Add the subparsers of these commands.

    :param command: makes a subparser with the common options.
    :param positive_int: the argparse type of sizes.
    """
    parser = command(subparsers, 'extend', volume_extend,
                     'Grow an available volume to NEW_SIZE GB.')
    parser.add_argument('id', metavar='ID', help='Volume id.')
    parser.add_argument('new_size', metavar='NEW_SIZE', type=positive_int,
                        help='New size in GB, larger than the current one.')
    parser = command(subparsers, 'set', volume_set,
                     "Change a volume's name, description or metadata.")
    parser.add_argument('id', metavar='ID', help='Volume id.')
    parser.add_argument('--name', dest='display_name', help='New name.')
    parser.add_argument('--description', help='New description.')
    parser.add_argument('--property', metavar='KEY=VALUE', action='append',
                        help='A metadata pair to add or change; repeat for '
                             'more.')
    parser = command(subparsers, 'unset', volume_unset,
                     "Remove metadata keys of a volume.")
    parser.add_argument('id', metavar='ID', help='Volume id.')
    parser.add_argument('--property', metavar='KEY', action='append',
                        required=True,
                        help='A metadata key to remove; repeat for more.')
    parser = command(subparsers, 'snapshot-delete', snapshot_delete,
                     'Delete a snapshot and give its quota back.')
    parser.add_argument('id', metavar='ID', help='Snapshot id.')
