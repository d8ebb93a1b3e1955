"""URL dispatch for ``/v3/{project_id}/...`` (routes, as Cinder's).

The same resources answer under ``/v2/{project_id}/...`` as Cinder's v2
API did before Cinder removed it (deprecated in version discovery): with
v3.0's behaviour and bodies, no microversion read from the request and
none stamped on the response, so a v2 client or a tutorial's
``POST /v2/{project_id}/volumes`` works as written.

For every request the router reads the microversion (406 when it cannot
be served), finds the controller action (404 for an unknown path, 405
for a known path with another method), refuses a URL project that is not
the caller's unless the caller is an admin (403, Cinder's message), reads
the JSON body (400 when it is not a JSON object) and answers in JSON,
saying which microversion served it.
"""

import json

import routes
import webob
import webob.dec

from volflow.api import auth
from volflow.api import faults
from volflow.api import microversion

#: The API versions served under ``/<version>/{project_id}``.
MAJOR_VERSIONS = ('v2', 'v3')
#: Where the router records which of them a request came through.
MAJOR_KEY = 'volflow.api_major'

#: (path below /v3/{project_id}, method, controller, action)
ROUTES = (
    ('/volumes', 'POST', 'volumes', 'create'),
    ('/volumes', 'GET', 'volumes', 'index'),
    ('/volumes/detail', 'GET', 'volumes', 'detail'),
    ('/volumes/summary', 'GET', 'volumes', 'summary'),
    ('/volumes/{id}', 'GET', 'volumes', 'show'),
    ('/volumes/{id}', 'PUT', 'volumes', 'update'),
    ('/volumes/{id}', 'DELETE', 'volumes', 'delete'),
    ('/volumes/{id}/action', 'POST', 'volume_actions', 'action'),
    ('/volumes/{id}/metadata', 'GET', 'volume_metadata', 'index'),
    ('/volumes/{id}/metadata', 'POST', 'volume_metadata', 'create'),
    ('/volumes/{id}/metadata', 'PUT', 'volume_metadata', 'update_all'),
    ('/volumes/{id}/metadata/{key}', 'GET', 'volume_metadata', 'show'),
    ('/volumes/{id}/metadata/{key}', 'PUT', 'volume_metadata', 'update'),
    ('/volumes/{id}/metadata/{key}', 'DELETE', 'volume_metadata',
     'delete'),
    ('/snapshots', 'POST', 'snapshots', 'create'),
    ('/snapshots', 'GET', 'snapshots', 'index'),
    ('/snapshots/detail', 'GET', 'snapshots', 'detail'),
    ('/snapshots/{id}', 'GET', 'snapshots', 'show'),
    ('/snapshots/{id}', 'PUT', 'snapshots', 'update'),
    ('/snapshots/{id}', 'DELETE', 'snapshots', 'delete'),
    ('/snapshots/{id}/action', 'POST', 'snapshot_actions', 'action'),
    ('/snapshots/{id}/metadata', 'GET', 'snapshot_metadata', 'index'),
    ('/snapshots/{id}/metadata', 'POST', 'snapshot_metadata', 'create'),
    ('/snapshots/{id}/metadata', 'PUT', 'snapshot_metadata', 'update_all'),
    ('/snapshots/{id}/metadata/{key}', 'GET', 'snapshot_metadata', 'show'),
    ('/snapshots/{id}/metadata/{key}', 'PUT', 'snapshot_metadata',
     'update'),
    ('/snapshots/{id}/metadata/{key}', 'DELETE', 'snapshot_metadata',
     'delete'),
    ('/types', 'GET', 'types', 'index'),
    ('/types', 'POST', 'types', 'create'),
    ('/types/{id}', 'GET', 'types', 'show'),
    ('/types/{id}', 'PUT', 'types', 'update'),
    ('/types/{id}', 'DELETE', 'types', 'delete'),
    ('/types/{id}/extra_specs', 'GET', 'types', 'extra_specs'),
    ('/types/{id}/extra_specs', 'POST', 'types', 'extra_specs_create'),
    ('/types/{id}/extra_specs/{key}', 'GET', 'types', 'extra_spec_show'),
    ('/types/{id}/extra_specs/{key}', 'PUT', 'types', 'extra_spec_update'),
    ('/types/{id}/extra_specs/{key}', 'DELETE', 'types',
     'extra_spec_delete'),
    ('/types/{id}/os-volume-type-access', 'GET', 'types', 'access_index'),
    ('/types/{id}/action', 'POST', 'types', 'action'),
    ('/types/{id}/encryption', 'GET', 'types', 'encryption_show'),
    ('/types/{id}/encryption', 'POST', 'types', 'encryption_create'),
    ('/types/{id}/encryption/{key}', 'GET', 'types', 'encryption_item'),
    ('/types/{id}/encryption/{key}', 'PUT', 'types', 'encryption_update'),
    ('/types/{id}/encryption/{key}', 'DELETE', 'types',
     'encryption_delete'),
    ('/qos-specs', 'GET', 'qos_specs', 'index'),
    ('/qos-specs', 'POST', 'qos_specs', 'create'),
    ('/qos-specs/{id}', 'GET', 'qos_specs', 'show'),
    ('/qos-specs/{id}', 'PUT', 'qos_specs', 'update'),
    ('/qos-specs/{id}', 'DELETE', 'qos_specs', 'delete'),
    ('/qos-specs/{id}/delete_keys', 'PUT', 'qos_specs', 'delete_keys'),
    ('/qos-specs/{id}/associations', 'GET', 'qos_specs', 'associations'),
    ('/qos-specs/{id}/associate', 'GET', 'qos_specs', 'associate'),
    ('/qos-specs/{id}/disassociate', 'GET', 'qos_specs', 'disassociate'),
    ('/qos-specs/{id}/disassociate_all', 'GET', 'qos_specs',
     'disassociate_all'),
    ('/messages', 'GET', 'messages', 'index'),
    ('/messages/{id}', 'GET', 'messages', 'show'),
    ('/messages/{id}', 'DELETE', 'messages', 'delete'),
    ('/os-hosts', 'GET', 'hosts', 'index'),
    ('/os-hosts/{id}', 'GET', 'hosts', 'show'),
    ('/capabilities/{id}', 'GET', 'capabilities', 'show'),
    ('/os-quota-sets/{id}', 'GET', 'quotas', 'show'),
    ('/os-quota-sets/{id}', 'PUT', 'quotas', 'update'),
    ('/os-quota-sets/{id}/defaults', 'GET', 'quotas', 'defaults'),
    ('/os-quota-sets/{id}', 'DELETE', 'quotas', 'delete'),
    ('/os-quota-class-sets/{id}', 'GET', 'quota_classes', 'show'),
    ('/os-quota-class-sets/{id}', 'PUT', 'quota_classes', 'update'),
    ('/limits', 'GET', 'limits', 'index'),
    ('/extensions', 'GET', 'extensions', 'index'),
    ('/os-availability-zone', 'GET', 'zones', 'index'),
    ('/scheduler-stats/get_pools', 'GET', 'pools', 'index'),
    ('/projects/{id}', 'GET', 'projects', 'show'),
    ('/os-services', 'GET', 'services', 'index'),
    ('/os-services/{id}', 'PUT', 'services', 'update'),
)


def _mapper():
    mapper = routes.Mapper()
    for major in MAJOR_VERSIONS:
        for path, method, controller, action in ROUTES:
            mapper.connect(f'/{major}/{{project_id}}{path}',
                           controller=controller, action=action,
                           conditions={'method': [method]})
    return mapper


def _any_method_mapper():
    mapper = routes.Mapper()
    for major in MAJOR_VERSIONS:
        for path, _method, controller, action in ROUTES:
            mapper.connect(f'/{major}/{{project_id}}{path}',
                           controller=controller, action=action)
    return mapper


def major_of(req):
    """``'v2'`` or ``'v3'``: the API a request came through."""
    return req.environ.get(MAJOR_KEY, 'v3')


def _reject_constant(name):
    raise ValueError(f'{name} is not JSON')


def body_of(req):
    """The request's JSON body; 400 unless it is a JSON object."""
    raw = req.body
    if not raw.strip():
        raise faults.HTTPError(400, 'Malformed request body: it is empty; '
                                    'a JSON object is expected.')
    try:
        body = json.loads(raw.decode('utf-8'),
                          parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise faults.HTTPError(400, 'Malformed request body: it is not '
                                    'valid JSON.')
    if not isinstance(body, dict):
        raise faults.HTTPError(400, 'Malformed request body: a JSON object '
                                    'is expected.')
    return body


class Response:
    """What a controller action returns: a status and a JSON body."""

    def __init__(self, body=None, status=200):
        self.body = body
        self.status = status


class Router:
    """The v3 API: dispatch to ``controllers`` by name."""

    def __init__(self, controllers):
        self.controllers = controllers
        self.mapper = _mapper()
        self.any_method = _any_method_mapper()

    @webob.dec.wsgify
    def __call__(self, req):
        if req.path_info.startswith('/v2/'):
            # v2 knew no microversions: v3.0's behaviour, nothing stamped.
            req.environ[MAJOR_KEY] = 'v2'
            req.environ[microversion.ENVIRON_KEY] = microversion.MIN_VERSION
            try:
                return self._dispatch(req)
            except Exception as exc:
                return faults.from_exception(exc)
        version = microversion.from_headers(req.headers)
        req.environ[microversion.ENVIRON_KEY] = version
        try:
            response = self._dispatch(req)
        except Exception as exc:
            response = faults.from_exception(exc)
        return microversion.stamp(response, version)

    def _dispatch(self, req):
        match = self.mapper.match(environ=req.environ)
        if match is None:
            if self.any_method.match(req.path_info) is not None:
                raise faults.HTTPError(
                    405, f'The method {req.method} is not allowed for this '
                         f'resource.')
            raise faults.HTTPError(404, 'The resource could not be found.')
        ctx = req.environ[auth.CONTEXT_KEY]
        project_id = match.pop('project_id')
        if project_id != ctx.project_id and not ctx.is_admin:
            raise faults.HTTPError(
                403, f"Malformed request URL: URL's project_id "
                     f"'{project_id}' doesn't match Context's project_id "
                     f"'{ctx.project_id}'")
        controller = self.controllers[match.pop('controller')]
        action = getattr(controller, match.pop('action'))
        if req.method in ('POST', 'PUT'):
            match['body'] = body_of(req)
        result = action(req, ctx, **match)
        response = webob.Response(status=result.status,
                                  content_type='application/json',
                                  charset='utf-8')
        if result.body is not None:
            response.body = json.dumps(result.body).encode('utf-8')
        return response
