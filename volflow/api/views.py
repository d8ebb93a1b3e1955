"""Response bodies: volflow's records in Cinder's shapes.

Field names, nesting and value types are Cinder's (api-ref
``api-ref/source/v3/``): volumes carry ``links``, ``bootable`` as the
strings ``"true"``/``"false"``, ``attachments``, and for admins
``os-vol-host-attr:host``; datetimes are ISO 8601.
"""

import datetime
import urllib.parse

from volflow.api import microversion


def _time(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def _links(req, collection, record_id, project_id):
    base = req.application_url.rstrip('/')
    major = 'v2' if req.path_info.startswith('/v2/') else 'v3'
    return [
        {'href': f'{base}/{major}/{project_id}/{collection}/{record_id}',
         'rel': 'self'},
        {'href': f'{base}/{project_id}/{collection}/{record_id}',
         'rel': 'bookmark'},
    ]


def _next_links(req, collection, items, limit):
    """``[{"rel": "next", ...}]`` when a page is full, else ``[]``."""
    if not items or limit is None or len(items) < limit:
        return []
    params = {key: value for key, value in req.GET.items()
              if key != 'marker'}
    params['marker'] = items[-1]['id']
    query = urllib.parse.urlencode(params)
    return [{'rel': 'next', 'href': f'{req.path_url}?{query}'}]


def collection(req, name, items, limit, view):
    """A list body: ``{name: [view(item)...]}``, with its links if any."""
    body = {name: [view(item) for item in items]}
    links = _next_links(req, name, items, limit)
    if links:
        body[f'{name}_links'] = links
    return body


def volume_summary(req, volume):
    return {'id': volume['id'], 'name': volume.get('name'),
            'links': _links(req, 'volumes', volume['id'],
                            volume['project_id'])}


def _volume_metadata(volume):
    """User metadata, with the ``readonly`` flag an admin set (Cinder's)."""
    metadata = dict(volume.get('metadata') or {})
    admin_metadata = volume.get('admin_metadata') or {}
    if 'readonly' in admin_metadata:
        metadata['readonly'] = admin_metadata['readonly']
    return metadata


def _bootable(volume):
    bootable = volume.get('bootable')
    if bootable is None:
        bootable = bool(volume.get('image_id'))
    return 'true' if bootable else 'false'


def volume_detail(req, volume, show_host=False, extended=True, host=None):
    """A volume as Cinder's detail view shows it.

    :param extended: with the attributes Cinder adds to show and detail
        only (``os-vol-tenant-attr:tenant_id``, ``volume_image_metadata``
        and, for admins, ``os-vol-host-attr:host`` and the migration
        attributes); a create or an update answers without them.
    :param host: the ``host@backend#pool`` shown to admins.
    """
    view = {
        'id': volume['id'],
        'name': volume.get('name'),
        'description': volume.get('description'),
        'size': volume.get('size'),
        'status': volume.get('status'),
        'availability_zone': volume.get('availability_zone'),
        'volume_type': volume.get('volume_type'),
        'snapshot_id': volume.get('snapshot_id'),
        'source_volid': volume.get('source_volid'),
        'metadata': _volume_metadata(volume),
        'user_id': volume.get('user_id'),
        'created_at': _time(volume.get('created_at')),
        'updated_at': _time(volume.get('updated_at')),
        'bootable': _bootable(volume),
        'encrypted': False,
        'multiattach': bool(volume.get('multiattach')),
        'attachments': [],
        'replication_status': None,
        'consistencygroup_id': None,
        'migration_status': volume.get('migration_status'),
        'links': _links(req, 'volumes', volume['id'], volume['project_id']),
    }
    if extended:
        view['os-vol-tenant-attr:tenant_id'] = volume.get('project_id')
        image_metadata = volume.get('image_metadata')
        if image_metadata is None and volume.get('image_id'):
            image_metadata = {'image_id': volume['image_id']}
        if image_metadata:
            view['volume_image_metadata'] = dict(image_metadata)
        if show_host:
            view['os-vol-host-attr:host'] = host
            view['os-vol-mig-status-attr:migstat'] = volume.get(
                'migration_status')
            view['os-vol-mig-status-attr:name_id'] = None
    if microversion.at_least(req, 3, 13):
        view['group_id'] = None
    if microversion.at_least(req, 3, 21) and show_host:
        view['provider_id'] = None
    if microversion.at_least(req, 3, 48):
        view['service_uuid'] = None
        view['shared_targets'] = False
    return view


def snapshot_detail(req, snapshot, extended=True):
    """A snapshot as Cinder shows it.

    :param extended: with the ``os-extended-snapshot-attributes:*`` Cinder
        adds to show and detail only (not to create, update or a list
        without detail).
    """
    view = {
        'id': snapshot['id'],
        'name': snapshot.get('name'),
        'description': snapshot.get('description'),
        'volume_id': snapshot.get('volume_id'),
        'size': snapshot.get('volume_size'),
        'status': snapshot.get('status'),
        'created_at': _time(snapshot.get('created_at')),
        'updated_at': _time(snapshot.get('updated_at')),
        'metadata': dict(snapshot.get('metadata') or {}),
    }
    if extended:
        view['os-extended-snapshot-attributes:progress'] = (
            snapshot.get('progress') or _progress(snapshot))
        view['os-extended-snapshot-attributes:project_id'] = snapshot.get(
            'project_id')
    if microversion.at_least(req, 3, 14):
        view['group_snapshot_id'] = None
    if microversion.at_least(req, 3, 41):
        view['user_id'] = snapshot.get('user_id')
    return view


def _progress(snapshot):
    return '100%' if snapshot.get('status') == 'available' else '0%'


#: Extra specs every project sees; the others are admins' (Cinder's
#: user-visible extra specs).
USER_VISIBLE_EXTRA_SPECS = ('RESKEY:availability_zones', 'multiattach',
                            'replication_enabled')


def volume_type(req, vtype, all_specs=True, qos=False, access=True):
    """A volume type as Cinder shows it.

    :param all_specs: every extra spec (admins), else the user-visible
        ones.
    :param qos: with ``qos_specs_id`` (admins, never on create or update).
    :param access: with ``os-volume-type-access:is_public`` (not on
        update).
    """
    specs = dict(vtype.get('extra_specs') or {})
    if not all_specs:
        specs = {key: value for key, value in specs.items()
                 if key in USER_VISIBLE_EXTRA_SPECS}
    view = {
        'id': vtype['id'],
        'name': vtype['name'],
        'description': vtype.get('description'),
        'is_public': vtype.get('is_public', True),
        'extra_specs': specs,
    }
    if access:
        view['os-volume-type-access:is_public'] = view['is_public']
    if qos:
        view['qos_specs_id'] = vtype.get('qos_specs_id')
    return view
