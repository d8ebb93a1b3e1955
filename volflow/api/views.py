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


def volume_detail(req, volume, show_host=False):
    """A volume as Cinder's detail view shows it."""
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
        'metadata': dict(volume.get('metadata') or {}),
        'user_id': volume.get('user_id'),
        'created_at': _time(volume.get('created_at')),
        'updated_at': _time(volume.get('updated_at')),
        'bootable': 'true' if volume.get('image_id') else 'false',
        'encrypted': False,
        'multiattach': False,
        'attachments': [],
        'replication_status': None,
        'consistencygroup_id': None,
        'migration_status': None,
        'os-vol-tenant-attr:tenant_id': volume.get('project_id'),
        'links': _links(req, 'volumes', volume['id'], volume['project_id']),
    }
    if volume.get('image_id'):
        view['volume_image_metadata'] = {'image_id': volume['image_id']}
    if show_host:
        view['os-vol-host-attr:host'] = volume.get('host')
        view['os-vol-mig-status-attr:migstat'] = None
        view['os-vol-mig-status-attr:name_id'] = None
    if microversion.at_least(req, 3, 13):
        view['group_id'] = None
    if microversion.at_least(req, 3, 21) and show_host:
        view['provider_id'] = None
    if microversion.at_least(req, 3, 48):
        view['service_uuid'] = None
        view['shared_targets'] = False
    return view


def snapshot_detail(req, snapshot):
    view = {
        'id': snapshot['id'],
        'name': snapshot.get('name'),
        'description': snapshot.get('description'),
        'volume_id': snapshot.get('volume_id'),
        'size': snapshot.get('volume_size'),
        'status': snapshot.get('status'),
        'created_at': _time(snapshot.get('created_at')),
        'updated_at': _time(snapshot.get('updated_at')),
        'metadata': {},
        'os-extended-snapshot-attributes:progress': '100%',
        'os-extended-snapshot-attributes:project_id':
            snapshot.get('project_id'),
    }
    if microversion.at_least(req, 3, 14):
        view['group_snapshot_id'] = None
    if microversion.at_least(req, 3, 41):
        view['user_id'] = snapshot.get('user_id')
    return view


def volume_type(req, vtype):
    return {
        'id': vtype['id'],
        'name': vtype['name'],
        'description': vtype.get('description'),
        'is_public': True,
        'os-volume-type-access:is_public': True,
        'qos_specs_id': None,
        'extra_specs': dict(vtype.get('extra_specs') or {}),
    }
