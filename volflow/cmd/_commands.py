"""The command handlers other than ``create``.

Each handler takes the parsed arguments, the volume API, the request
context and the configuration, prints its result on stdout and returns
the exit status. Refusals are raised as
:class:`~volflow.exception.VolflowException` and reported by ``main``.
"""

import time

from volflow.cmd import _backends
from volflow.cmd import _graph
from volflow.cmd import _output
from volflow.cmd import _util
from volflow import exception
from volflow import quota
from volflow.scheduler import servicegroup


def _emit_record(view, args):
    _output.emit(view, args.format, lambda: _output.record_table(view))


def _emit_list(kind, views, args):
    _output.emit(views, args.format, lambda: _output.list_table(kind, views))


# Volumes -----------------------------------------------------------------
def volume_list(args, api, ctx, conf):
    """List the volumes the context may see."""
    views = [_output.volume_view(v) for v in api.get_all(ctx)]
    _emit_list('volume', views, args)
    return 0


def find_volume(api, ctx, name_or_id):
    """The volume of this id or, failing that, the one of this name.

    A name two visible volumes share is refused, naming how many: only
    an id tells them apart.
    """
    try:
        return api.get(ctx, name_or_id)
    except exception.VolumeNotFound:
        named = [volume for volume in api.get_all(ctx)
                 if volume.get('name') == name_or_id]
        if len(named) == 1:
            return named[0]
        if named:
            raise exception.InvalidInput(reason=(
                f"{len(named)} volumes are named '{name_or_id}': give the "
                f"id of the one you mean")) from None
        raise


def volume_show(args, api, ctx, conf):
    """Show one volume, with the reason if it ended in error."""
    _emit_record(_output.volume_view(find_volume(api, ctx, args.id)), args)
    return 0


def _wait_deleted(api, ctx, volume_id, timeout):
    """``'deleted'`` once the volume is gone, else its last status."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            status = api.get(ctx, volume_id)['status']
        except exception.VolumeNotFound:
            return 'deleted'
        if status != 'deleting' or time.monotonic() >= deadline:
            return status
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _delete_one(args, api, ctx, conf, name_or_id):
    """``({'id', 'status'}, reason or None)`` of one volume's delete."""
    try:
        volume_id = find_volume(api, ctx, name_or_id)['id']
        api.delete(ctx, volume_id, force=args.force, cascade=args.cascade)
    except exception.VolflowException as exc:
        if len(args.ids) == 1:
            raise
        return {'id': name_or_id, 'error': _util.reason(exc)}, (
            _util.reason(exc))
    status = _wait_deleted(api, ctx, volume_id, conf.create_timeout)
    if status != 'deleted':
        return {'id': volume_id, 'status': status}, (
            f"Volume {volume_id} was not deleted: it is '{status}'")
    return {'id': volume_id, 'status': status}, None


def volume_delete(args, api, ctx, conf):
    """Delete volumes and wait until they are gone (a manager may do it).

    Several are deleted each in turn, whatever became of the others; the
    exit status is 1 if any was not deleted, each with its reason on a
    line of stderr. JSON: one ``{'id', 'status'}`` object for one volume,
    a list of them for several (``{'id', 'error'}`` for a refused one).
    """
    results = [_delete_one(args, api, ctx, conf, name_or_id)
               for name_or_id in args.ids]
    views = [view for view, _reason in results]
    _output.emit(views if len(views) > 1 else views[0], args.format,
                 lambda: '\n'.join(
                     f"Volume {view['id']}: "
                     f"{view.get('status') or 'refused'}."
                     for view in views))
    reasons = [reason for _view, reason in results if reason]
    for reason in reasons:
        _util.fail(reason)
    return 1 if reasons else 0


# Snapshots ---------------------------------------------------------------
def snapshot_create(args, api, ctx, conf):
    """Snapshot an available volume."""
    volume_id = find_volume(api, ctx, args.volume_id)['id']
    snapshot = api.create_snapshot(ctx, volume_id,
                                   name=args.display_name)
    _emit_record(_output.snapshot_view(snapshot), args)
    return 0


def snapshot_list(args, api, ctx, conf):
    """List the snapshots the context may see."""
    views = [_output.snapshot_view(s) for s in api.get_all_snapshots(ctx)]
    _emit_list('snapshot', views, args)
    return 0


# Images ------------------------------------------------------------------
def image_create(args, api, ctx, conf):
    """Register a local file as an image."""
    image = api.image_service.create(ctx, args.display_name, args.file,
                                     min_disk=args.min_disk,
                                     is_public=args.public)
    _emit_record(_output.image_view(image), args)
    return 0


def image_delete(args, api, ctx, conf):
    """Delete an image and its bytes."""
    api.image_service.delete(ctx, args.id)
    _output.emit({'id': args.id, 'status': 'deleted'}, args.format,
                 lambda: f"Image {args.id}: deleted.")
    return 0


def image_list(args, api, ctx, conf):
    """List the project's images and the public ones."""
    views = [_output.image_view(i) for i in api.image_service.get_all(ctx)]
    _emit_list('image', views, args)
    return 0


# Volume types ------------------------------------------------------------
def type_create(args, api, ctx, conf):
    """Create a volume type with its extra specs."""
    extra_specs = _util.parse_pairs('--property', args.property)
    volume_type = api.db.volume_type_create(ctx, args.display_name,
                                            extra_specs)
    _emit_record(_output.volume_type_view(volume_type), args)
    return 0


def type_list(args, api, ctx, conf):
    """List the volume types."""
    views = [_output.volume_type_view(t)
             for t in api.db.volume_type_get_all(ctx)]
    _emit_list('volume_type', views, args)
    return 0


def _volume_type(api, ctx, name_or_id):
    """The type named ``name_or_id``, else the one of that id."""
    try:
        return api.db.volume_type_get_by_name(ctx, name_or_id)
    except exception.VolumeTypeNotFound:
        return api.db.volume_type_get(ctx, name_or_id)


def type_delete(args, api, ctx, conf):
    """Delete a volume type no volume has; never the default type."""
    volume_type = _volume_type(api, ctx, args.type)
    if volume_type['name'] == conf.default_volume_type:
        raise exception.VolumeTypeDefaultDeletionError(
            volume_type_id=volume_type['id'])
    api.db.volume_type_destroy(ctx, volume_type['id'])
    view = {'id': volume_type['id'], 'name': volume_type['name'],
            'status': 'deleted'}
    _output.emit(view, args.format,
                 lambda: f"Volume type {volume_type['name']} "
                         f"({volume_type['id']}): deleted.")
    return 0


def type_set(args, api, ctx, conf):
    """Add or replace extra specs of a volume type."""
    extra_specs = _util.parse_pairs('--property', args.property)
    volume_type = _volume_type(api, ctx, args.type)
    volume_type = api.db.volume_type_extra_specs_update(
        ctx, volume_type['id'], extra_specs)
    _emit_record(_output.volume_type_view(volume_type), args)
    return 0


def type_unset(args, api, ctx, conf):
    """Remove extra specs of a volume type; all or, if one is missing, none."""
    volume_type = _volume_type(api, ctx, args.type)
    for key in args.property:
        if key not in volume_type['extra_specs']:
            raise exception.VolumeTypeExtraSpecsNotFound(
                volume_type_id=volume_type['name'], extra_specs_key=key)
    for key in dict.fromkeys(args.property):
        api.db.volume_type_extra_specs_delete(ctx, volume_type['id'], key)
    volume_type = api.db.volume_type_get(ctx, volume_type['id'])
    _emit_record(_output.volume_type_view(volume_type), args)
    return 0


# Quotas ------------------------------------------------------------------
def _emit_quota(args, api, ctx):
    summary = api.quota.summary(ctx, ctx.project_id)
    _output.emit(summary, args.format,
                 lambda: _output.quota_table(summary))


def quota_show(args, api, ctx, conf):
    """Show the project's limits, usage and reservations."""
    _emit_quota(args, api, ctx)
    return 0


def _volume_type_name(api, ctx, name_or_id):
    try:
        return api.db.volume_type_get_by_name(ctx, name_or_id)['name']
    except exception.VolumeTypeNotFound:
        return api.db.volume_type_get(ctx, name_or_id)['name']


def quota_update(args, api, ctx, conf):
    """Set the project's limits, per type with --volume-type."""
    limits = {resource: getattr(args, resource)
              for resource in ('volumes', 'gigabytes', 'snapshots')
              if getattr(args, resource) is not None}
    if not limits:
        raise exception.InvalidInput(
            reason='quota-update needs at least one of --volumes, '
                   '--gigabytes, --snapshots')
    if args.volume_type:
        suffix = _volume_type_name(api, ctx, args.volume_type)
        limits = {f'{resource}_{suffix}': limit
                  for resource, limit in limits.items()}
    for resource, limit in limits.items():
        # Checked for all first: a refusal changes nothing.
        quota.check_limit(resource, limit)
    api.quota.check_usage(ctx, ctx.project_id, limits)
    for resource, limit in limits.items():
        api.quota.update(ctx, ctx.project_id, resource, limit)
    _emit_quota(args, api, ctx)
    return 0


# Backends and flows ------------------------------------------------------
def backend_list(args, api, ctx, conf):
    """List the backends with their capacity."""
    views = _backends.backend_views(api.db, conf)
    columns = ('name', 'volume_backend_name', 'availability_zone',
               'total_capacity_gb', 'free_capacity_gb',
               'allocated_capacity_gb')
    _output.emit(views, args.format,
                 lambda: _output.rows_table(columns, views))
    return 0


def service_list(args, api, ctx, conf):
    """List the services with their state and last report."""
    filters = {key: value for key, value in (('binary', args.binary),
                                             ('host', args.host)) if value}
    views = servicegroup.service_views(api.db, conf, filters)
    columns = ('binary', 'host', 'zone', 'status', 'state', 'updated_at')
    _output.emit(views, args.format,
                 lambda: _output.rows_table(columns, views))
    return 0


def graph(args, api, ctx, conf):
    """Print a flow, or the three linked, as Graphviz DOT.

    The flows are built with stand-ins: nothing runs.
    """
    # Building a flow never touches state, even if it loads persistence.
    conf.set_override('persistence_connection', 'memory://',
                      group='taskflow')
    if args.flow == 'pipeline':
        print(_graph.pipeline_to_dot(_graph.load_pipeline(conf)))
        return 0
    engine = _graph.load_flow_engine(args.flow, conf)
    print(_graph.engine_to_dot(engine))
    return 0
