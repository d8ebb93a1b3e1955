"""Who is calling: ``[api] auth_strategy`` = noauth, http_basic, keystone.

Each strategy is a WSGI middleware that leaves the caller in oslo.context's
headers (``X-User-Id``, ``X-Project-Id``, ``X-Roles``); :class:`Context`
then builds the :class:`volflow.context.RequestContext` every controller
acts with. An ``admin`` role makes an admin context.

* ``noauth`` (Cinder's): ``X-Auth-Token: USER:PROJECT``; ``admin:admin``
  is an admin. A token without a project (keystoneauth's ``none`` plugin
  sends ``notused``) acts for the project the URL names, and no token at
  all as user ``volflow`` there. Nothing is checked: for tests and a
  laptop only.
* ``http_basic``: oslo.middleware's basic auth against an htpasswd file
  of bcrypt entries; a user acts for the project of the same name, and
  the user ``admin`` is an admin.
* ``keystone``: keystonemiddleware's ``auth_token`` (configured in
  ``[keystone_authtoken]``) validates the token and sets the headers.
"""

from keystonemiddleware import auth_token
from oslo_middleware import base
from oslo_middleware import basic_auth
import webob.dec

from volflow.api import faults
from volflow import context as volflow_context
from volflow import exception

CONTEXT_KEY = 'volflow.context'
NOAUTH_USER = 'volflow'
ADMIN = 'admin'

#: The caller headers a strategy sets; never taken from the client.
_CALLER = ('HTTP_X_USER_ID', 'HTTP_X_PROJECT_ID', 'HTTP_X_ROLES')


def _url_project(path):
    """The ``{project_id}`` of ``/v3/{project_id}/...`` (or v2), if any."""
    parts = path.strip('/').split('/')
    if len(parts) >= 2 and parts[0] in ('v2', 'v3'):
        return parts[1]
    return None


def _set_caller(environ, user_id, project_id, admin):
    environ['HTTP_X_USER_ID'] = user_id
    environ['HTTP_X_PROJECT_ID'] = project_id
    roles = [role.strip() for role in
             environ.get('HTTP_X_ROLES', '').split(',') if role.strip()]
    if admin and ADMIN not in roles:
        roles.append(ADMIN)
    environ['HTTP_X_ROLES'] = ','.join(roles)


class NoAuth:
    """Cinder's noauth: the token says who the caller is."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        token = req.headers.get('X-Auth-Token', '').strip()
        user_id, _sep, project_id = token.partition(':')
        user_id = user_id or NOAUTH_USER
        project_id = project_id or _url_project(req.path_info) or user_id
        _set_caller(req.environ, user_id, project_id,
                    admin=(user_id, project_id) == (ADMIN, ADMIN))
        return req.get_response(self.application)


class _BasicAuth(basic_auth.BasicAuthMiddleware):
    """oslo.middleware's basic auth, on volflow's own option."""

    def __init__(self, application, auth_file):
        # The parent reads [oslo_middleware]; volflow's option is [api]'s.
        base.ConfigurableMiddleware.__init__(self, application)
        self.auth_file = auth_file
        try:
            basic_auth.validate_auth_file(auth_file)
        except Exception as exc:
            raise exception.ConfigError(
                reason=f"[api] http_basic_auth_user_file '{auth_file}' is "
                       f"not a readable htpasswd file of bcrypt entries "
                       f"({type(exc).__name__})") from None


class _BasicCaller:
    """After basic auth: the user acts for the project of its name."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        user = req.environ.get('HTTP_X_USER')
        if not user:
            raise faults.HTTPError(401, 'Authentication required.')
        _set_caller(req.environ, user, user, admin=user == ADMIN)
        return req.get_response(self.application)


class _Scrub:
    """Drop caller headers a client sent: only the strategy sets them."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        for key in _CALLER:
            environ.pop(key, None)
        return self.application(environ, start_response)


class Context:
    """Build the request context from the caller headers."""

    def __init__(self, application):
        self.application = application

    @webob.dec.wsgify
    def __call__(self, req):
        headers = req.headers
        user_id = headers.get('X-User-Id') or headers.get('X-User')
        project_id = headers.get('X-Project-Id') or headers.get(
            'X-Tenant-Id')
        if not (user_id and project_id):
            raise faults.HTTPError(401, 'Authentication required.')
        roles = [role.strip() for role in headers.get('X-Roles', '').split(
            ',') if role.strip()]
        ctx = volflow_context.RequestContext(
            user_id=user_id, project_id=project_id,
            is_admin=ADMIN in roles, roles=roles,
            request_id=req.environ.get('openstack.request_id'))
        req.environ[CONTEXT_KEY] = ctx
        # The request's log lines name it, and only its lines.
        with volflow_context.acting(ctx):
            return req.get_response(self.application)


def pipeline(application, conf):
    """``application`` behind the configured strategy and the context."""
    application = Context(application)
    strategy = conf.api.auth_strategy
    if strategy == 'noauth':
        application = NoAuth(application)
        # The token decides; a client's X-Roles may add the admin role.
        return application
    if strategy == 'http_basic':
        application = _BasicAuth(_BasicCaller(application),
                                 conf.api.http_basic_auth_user_file)
        return _Scrub(application)
    return auth_token.AuthProtocol(application,
                                   {'oslo_config_config': conf})
