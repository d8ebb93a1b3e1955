"""The images volflow keeps, served as a subset of Glance's Image API v2.

Served under ``/image`` of the same ``volflow api`` (register
``http://HOST:PORT/image`` as the ``image`` service in the catalog):
the image service and the volumes share one database and one image
directory, so one process serving both needs no second service to keep
in step, and a volume created from an image reads the bytes uploaded
here. What is served is what ``openstack image create --file``,
``image list``, ``image show``, ``image delete``, ``image save`` and
Tempest's volume tests use:

* ``GET /image/`` and ``/image/versions``: version discovery;
* ``POST /v2/images`` (``queued``), ``GET /v2/images`` (filters
  ``name``, ``status``, ``visibility``, ``owner``; ``limit``,
  ``marker``), ``GET``, ``PATCH`` (JSON patch: add, replace, remove)
  and ``DELETE /v2/images/{id}``;
* ``PUT /v2/images/{id}/file`` (the bytes: the image becomes
  ``active``) and ``GET`` (download);
* ``POST /v2/images/{id}/actions/deactivate`` and ``reactivate``.

Glance's policy defaults: only an admin makes an image public; only the
owner (or an admin) changes or deletes one; a protected image is not
deleted. The request body size limit of the volume API does not apply
to uploads, which stream to the file.
"""

import json

from oslo_utils import timeutils
from oslo_utils import uuidutils
import routes
import webob
import webob.dec
import webob.static

from volflow.api import auth
from volflow.api import faults
from volflow import exception

PREFIX = '/image'
#: The newest Image API version whose calls used here behave as Glance's.
VERSION = '2.16'
CHUNK = 65536

#: Fields Glance keeps beside the custom properties, stored in the image
#: record's properties under these names.
_KEPT = ('disk_format', 'container_format', 'min_ram', 'protected',
         'tags', 'visibility', 'os_hidden', 'updated_at')
#: Fields a client may not set.
_READ_ONLY = ('status', 'size', 'virtual_size', 'checksum', 'os_hash_algo',
              'os_hash_value', 'owner', 'created_at', 'updated_at', 'self',
              'file', 'schema', 'locations', 'direct_url')
_SYSTEM = _KEPT + ('checksum', 'os_hash_algo', 'os_hash_value')
_VISIBILITIES = ('public', 'private', 'shared', 'community')
_ROUTES = (
    ('/v2/images', 'POST', 'create'),
    ('/v2/images', 'GET', 'index'),
    ('/v2/images/{id}', 'GET', 'show'),
    ('/v2/images/{id}', 'PATCH', 'update'),
    ('/v2/images/{id}', 'DELETE', 'delete'),
    ('/v2/images/{id}/file', 'PUT', 'upload'),
    ('/v2/images/{id}/file', 'GET', 'download'),
    ('/v2/images/{id}/actions/deactivate', 'POST', 'deactivate'),
    ('/v2/images/{id}/actions/reactivate', 'POST', 'reactivate'),
)


def is_image_path(path):
    return path == PREFIX or path.startswith(PREFIX + '/')


def _time(value):
    return value.strftime('%Y-%m-%dT%H:%M:%SZ') if value else None


def view(image):
    """Glance's body of an image record."""
    properties = dict(image.get('properties') or {})
    visibility = properties.get('visibility') or (
        'public' if image['is_public'] else 'shared')
    body = {key: value for key, value in properties.items()
            if key not in _SYSTEM}
    body.update({
        'id': image['id'], 'name': image['name'],
        'status': image['status'], 'visibility': visibility,
        'protected': bool(properties.get('protected', False)),
        'os_hidden': bool(properties.get('os_hidden', False)),
        'checksum': properties.get('checksum'),
        'os_hash_algo': properties.get('os_hash_algo'),
        'os_hash_value': properties.get('os_hash_value'),
        'size': image['size'], 'virtual_size': None,
        'min_disk': image['min_disk'] or 0,
        'min_ram': properties.get('min_ram', 0),
        'disk_format': properties.get('disk_format'),
        'container_format': properties.get('container_format'),
        'owner': image['project_id'],
        'created_at': _time(image.get('created_at')),
        'updated_at': properties.get('updated_at') or _time(
            image.get('created_at')),
        'tags': list(properties.get('tags') or []),
        'self': f'/v2/images/{image["id"]}',
        'file': f'/v2/images/{image["id"]}/file',
        'schema': '/v2/schemas/image',
    })
    return body


def _json(body, status=200):
    response = webob.Response(status=status, content_type='application/json',
                              charset='utf-8')
    response.body = json.dumps(body).encode('utf-8')
    return response


def _non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise faults.HTTPError(
            400, f"Image {name} '{value}' must be an integer, 0 or greater")
    return value


class ImageController:
    """The Image API v2 calls on one image service."""

    def __init__(self, image_service):
        self.images = image_service

    # Checks -------------------------------------------------------------
    def _owned(self, ctx, image_id):
        image = self.images.show(ctx, image_id)
        if not ctx.is_admin and image['project_id'] != ctx.project_id:
            raise faults.HTTPError(
                403, f'Image {image_id} belongs to another project.')
        return image

    def _apply(self, ctx, record, key, value, remove=False):
        """Set (or remove) one field of ``record`` (name, min_disk, props)."""
        if key in _READ_ONLY or key == 'id':
            raise faults.HTTPError(403, f"Attribute '{key}' is read-only.")
        properties = record['properties']
        if key == 'name':
            record['name'] = None if remove else value
        elif key == 'min_disk':
            record['min_disk'] = 0 if remove else _non_negative(key, value)
        elif remove:
            properties.pop(key, None)
            if key == 'visibility':
                record['is_public'] = False
        elif key == 'visibility':
            if value not in _VISIBILITIES:
                raise faults.HTTPError(
                    400, f"Image visibility '{value}' is none of "
                         f"{', '.join(_VISIBILITIES)}")
            if value == 'public' and not ctx.is_admin:
                raise faults.HTTPError(
                    403, "Only an admin may set visibility 'public'.")
            properties['visibility'] = value
            record['is_public'] = value == 'public'
        elif key == 'min_ram':
            properties[key] = _non_negative(key, value)
        elif key in ('protected', 'os_hidden'):
            if not isinstance(value, bool):
                raise faults.HTTPError(
                    400, f"Image {key} '{value}' must be true or false")
            properties[key] = value
        elif key == 'tags':
            if not (isinstance(value, list) and
                    all(isinstance(tag, str) for tag in value)):
                raise faults.HTTPError(
                    400, f"Image tags '{value}' must be a list of strings")
            properties[key] = sorted(set(value))
        else:
            if value is not None and not isinstance(value, str):
                raise faults.HTTPError(
                    400, f"Image property '{key}' must be a string")
            properties[key] = value

    # Calls --------------------------------------------------------------
    def create(self, req, ctx, body):
        if not isinstance(body, dict):
            raise faults.HTTPError(400, 'A JSON object is expected.')
        image_id = body.pop('id', None)
        if image_id is not None and not uuidutils.is_uuid_like(image_id):
            raise faults.HTTPError(
                400, f"Image id '{image_id}' is not a UUID.")
        record = {'name': None, 'min_disk': 0, 'is_public': False,
                  'properties': {}}
        for key, value in body.items():
            self._apply(ctx, record, key, value)
        image = self.images.register(
            ctx, record['name'], min_disk=record['min_disk'],
            is_public=record['is_public'], properties=record['properties'])
        return _json(view(image), status=201)

    def index(self, req, ctx):
        params = req.GET
        images = sorted(self.images.get_all(ctx),
                        key=lambda i: (i.get('created_at') is not None,
                                       i.get('created_at'), i['id']),
                        reverse=True)
        shown = [view(image) for image in images]
        for key in ('name', 'status', 'visibility', 'owner'):
            if key in params:
                shown = [i for i in shown if i[key] == params[key]]
        if 'visibility' not in params:
            shown = [i for i in shown if i['visibility'] != 'community' or
                     i['owner'] == ctx.project_id]
        if 'marker' in params:
            ids = [i['id'] for i in shown]
            if params['marker'] not in ids:
                raise faults.HTTPError(
                    400, f"Marker '{params['marker']}' is no image listed.")
            shown = shown[ids.index(params['marker']) + 1:]
        body = {'first': '/v2/images', 'schema': '/v2/schemas/images'}
        if 'limit' in params:
            try:
                limit = _non_negative('limit', int(params['limit']))
            except ValueError:
                raise faults.HTTPError(
                    400, f"Limit '{params['limit']}' is not an integer.")
            if len(shown) > limit:
                shown = shown[:limit]
                body['next'] = (f'/v2/images?limit={limit}&marker='
                                f'{shown[-1]["id"]}' if shown else None)
        body['images'] = shown
        return _json(body)

    def show(self, req, ctx, id):
        return _json(view(self.images.show(ctx, id)))

    def update(self, req, ctx, id, body):
        image = self._owned(ctx, id)
        if not isinstance(body, list):
            raise faults.HTTPError(400, 'A JSON patch (a list) is expected.')
        record = {'name': image['name'], 'min_disk': image['min_disk'],
                  'is_public': image['is_public'],
                  'properties': dict(image['properties'] or {})}
        for change in body:
            op = change.get('op') if isinstance(change, dict) else None
            path = change.get('path', '') if op else ''
            if op not in ('add', 'replace', 'remove') or not (
                    isinstance(path, str) and path.startswith('/')):
                raise faults.HTTPError(
                    400, f"Patch operation '{change}' is not an add, "
                         f"replace or remove of a /path.")
            self._apply(ctx, record, path[1:], change.get('value'),
                        remove=op == 'remove')
        record['properties']['updated_at'] = _time(timeutils.utcnow())
        return _json(view(self.images.update(ctx, id, record)))

    def delete(self, req, ctx, id):
        image = self._owned(ctx, id)
        if (image['properties'] or {}).get('protected'):
            raise faults.HTTPError(403, f'Image {id} is protected.')
        self.images.delete(ctx, id)
        return webob.Response(status=204)

    def upload(self, req, ctx, id):
        self._owned(ctx, id)
        stream = req.environ['wsgi.input']

        def chunks():
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    return
                yield chunk

        try:
            self.images.upload(ctx, id, chunks())
        except exception.InvalidImage as exc:
            raise faults.HTTPError(409, str(exc))
        return webob.Response(status=204)

    def download(self, req, ctx, id):
        image = self.images.show(ctx, id)
        if image['status'] == 'deactivated' and not ctx.is_admin:
            raise faults.HTTPError(403, f'Image {id} is deactivated.')
        if image['status'] != 'active':
            return webob.Response(status=204)
        response = webob.Response(status=200,
                                  content_type='application/octet-stream')
        response.app_iter = webob.static.FileIter(self.images.open(ctx, id))
        response.content_length = image['size']
        checksum = (image['properties'] or {}).get('checksum')
        if checksum:
            response.headers['Content-MD5'] = checksum
        return response

    def _status(self, ctx, id, wanted, allowed):
        image = self._owned(ctx, id)
        if image['status'] not in allowed:
            raise faults.HTTPError(
                403, f"Image {id} is {image['status']}: it can't become "
                     f"{wanted}.")
        self.images.update(ctx, id, {'status': wanted})
        return webob.Response(status=204)

    def deactivate(self, req, ctx, id):
        return self._status(ctx, id, 'deactivated',
                            ('active', 'deactivated'))

    def reactivate(self, req, ctx, id):
        return self._status(ctx, id, 'active', ('active', 'deactivated'))


def _versions(req):
    base = req.host_url + PREFIX
    return {'versions': [
        {'id': f'v{VERSION}', 'status': 'CURRENT',
         'links': [{'rel': 'self', 'href': f'{base}/v2/'}]},
        {'id': 'v2.0', 'status': 'SUPPORTED',
         'links': [{'rel': 'self', 'href': f'{base}/v2/'}]},
    ]}


class _Router:
    """Dispatch below ``/image`` to the controller."""

    def __init__(self, controller):
        self.controller = controller
        self.mapper = routes.Mapper()
        for path, method, action in _ROUTES:
            self.mapper.connect(path, action=action,
                                conditions={'method': [method]})

    @webob.dec.wsgify
    def __call__(self, req):
        try:
            return self._dispatch(req)
        except Exception as exc:
            return faults.from_exception(exc)

    def _dispatch(self, req):
        match = self.mapper.match(environ=req.environ)
        if match is None:
            raise faults.HTTPError(404, 'The resource could not be found.')
        ctx = req.environ[auth.CONTEXT_KEY]
        action = getattr(self.controller, match.pop('action'))
        if req.method in ('POST', 'PATCH') and match.get('id') is None:
            match['body'] = _body(req)
        elif req.method == 'PATCH':
            match['body'] = _body(req)
        return action(req, ctx, **match)


def _body(req):
    try:
        return json.loads(req.body.decode('utf-8') or 'null')
    except (ValueError, UnicodeDecodeError):
        raise faults.HTTPError(400, 'Malformed request body: it is not '
                                    'valid JSON.')


class Application:
    """``/image``: versions without authentication, the rest behind it."""

    def __init__(self, image_service, conf):
        self.authenticated = auth.pipeline(
            _Router(ImageController(image_service)), conf)

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')[len(PREFIX):]
        environ['SCRIPT_NAME'] = environ.get('SCRIPT_NAME', '') + PREFIX
        environ['PATH_INFO'] = path
        if path.rstrip('/') in ('', '/versions'):
            req = webob.Request(environ)
            status = 300 if path.rstrip('/') == '' else 200
            return _json(_versions(req), status=status)(environ,
                                                        start_response)
        return self.authenticated(environ, start_response)
