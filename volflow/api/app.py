"""The WSGI application: oslo.middleware, auth, faults, the v3 router.

From the outside in: ``http_proxy_to_wsgi`` (the scheme and host a proxy
saw, when ``[oslo_middleware] enable_proxy_headers_parsing``),
``request_id`` (``x-openstack-request-id`` on every response), the
access log (one INFO line per request: method, path, status, time,
request id),

:class:`~volflow.api.faults.FaultWrapper` (every error Cinder-shaped),
the image service under ``/image`` (:mod:`volflow.api.image`, uploads
stream to a file), ``sizelimit`` (``[api] max_request_body_size``), then
``healthcheck``
(``GET /healthcheck``) and version discovery without authentication, and
the v3 router behind the configured auth strategy.

:func:`build` makes a new application with collaborators of its own (a
policy enforcer, the controllers); nothing is shared between two of them
but what is passed in.
"""

import time

from oslo_config import cfg
from oslo_log import log as logging
from oslo_middleware import healthcheck
from oslo_middleware import http_proxy_to_wsgi
from oslo_middleware import request_id
from oslo_middleware import sizelimit

from volflow.api import auth
from volflow.api import faults
from volflow.api import image
from volflow.api import policy
from volflow.api import router
from volflow.api.v3 import actions
from volflow.api.v3 import extensions
from volflow.api.v3 import hosts
from volflow.api.v3 import messages
from volflow.api.v3 import metadata
from volflow.api.v3 import projects
from volflow.api.v3 import qos_specs
from volflow.api.v3 import quotas
from volflow.api.v3 import services
from volflow.api.v3 import snapshots
from volflow.api.v3 import types
from volflow.api.v3 import volumes
from volflow.api.v3 import zones
from volflow.api import versions
from volflow.volume import api as volume_api

HEALTHCHECK_PATH = '/healthcheck'

LOG = logging.getLogger(__name__)

_CONTROLLERS = {
    'volumes': volumes.VolumeController,
    'snapshots': snapshots.SnapshotController,
    'volume_actions': actions.VolumeActionController,
    'volume_metadata': metadata.VolumeMetadataController,
    'snapshot_actions': actions.SnapshotActionController,
    'snapshot_metadata': metadata.SnapshotMetadataController,
    'types': types.TypeController,
    'quotas': quotas.QuotaController,
    'quota_classes': quotas.QuotaClassController,
    'limits': quotas.LimitsController,
    'extensions': extensions.ExtensionController,
    'zones': zones.ZoneController,
    'pools': zones.PoolController,
    'projects': projects.ProjectController,
    'qos_specs': qos_specs.QosSpecsController,
    'messages': messages.MessageController,
    'hosts': hosts.HostController,
    'capabilities': hosts.CapabilityController,
    'services': services.ServiceController,
}


class _Dispatch:
    """Health and versions without authentication; the rest behind it."""

    def __init__(self, authenticated):
        self.authenticated = authenticated
        self.health = healthcheck.Healthcheck(None, _private_conf())

    def __call__(self, environ, start_response):
        path = environ.get('PATH_INFO', '')
        if path.rstrip('/') == HEALTHCHECK_PATH:
            return self.health(environ, start_response)
        if versions.is_versions_path(path):
            return versions.application(environ, start_response)
        return self.authenticated(environ, start_response)


def _private_conf():
    """A ConfigOpts of a middleware's own: no override leaks to CONF."""
    private = cfg.ConfigOpts()
    private(args=[], default_config_files=[], default_config_dirs=[])
    return private


class _DeclaredSize:
    """Refuse a body whose declared length is over the limit, up front.

    oslo.middleware's limiter below still counts what is read, for bodies
    without a Content-Length (chunked) or with a false one.
    """

    def __init__(self, application, limit):
        self.application = application
        self.limit = limit

    def __call__(self, environ, start_response):
        declared = environ.get('CONTENT_LENGTH') or '0'
        if declared.isdigit() and int(declared) > self.limit:
            response = faults.fault_response(
                413, f'Request body of {declared} bytes is larger than '
                     f'max_request_body_size ({self.limit} bytes).')
            return response(environ, start_response)
        return self.application(environ, start_response)


def _size_limited(application, limit):
    limiter = sizelimit.RequestBodySizeLimiter(application, _private_conf())
    limiter.oslo_conf.set_override('max_request_body_size', limit,
                                   group='oslo_middleware')
    return _DeclaredSize(limiter, limit)


class _Images:
    """``/image`` to the image service's application, the rest on."""

    def __init__(self, images, application):
        self.images = images
        self.application = application

    def __call__(self, environ, start_response):
        if image.is_image_path(environ.get('PATH_INFO', '')):
            return self.images(environ, start_response)
        return self.application(environ, start_response)


class _AccessLog:
    """One INFO line per request: method, path, status, time, request id.

    Logged with the request's own context (user and project) when it was
    authenticated; the request id is oslo.middleware's, the one the
    response carries.
    """

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        started = time.monotonic()
        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen['status'] = status.split(' ', 1)[0]
            return start_response(status, headers, exc_info)

        try:
            return self.application(environ, recording_start_response)
        finally:
            path = environ.get('PATH_INFO', '')
            if environ.get('QUERY_STRING'):
                path = f"{path}?{environ['QUERY_STRING']}"
            LOG.info('%(method)s %(path)s %(status)s %(time).3fs '
                     '%(request_id)s',
                     {'method': environ.get('REQUEST_METHOD'),
                      'path': path, 'status': seen.get('status', '-'),
                      'time': time.monotonic() - started,
                      'request_id': environ.get('openstack.request_id')},
                     context=environ.get(auth.CONTEXT_KEY))


def build(conf, api=None):
    """A new WSGI application serving ``conf``'s volflow.

    :param api: the :class:`volflow.volume.api.API` to act through
        (default: one built from ``conf``, as the command line builds it).
    """
    api = api or volume_api.API(conf=conf)
    enforcer = policy.Policy(conf)
    controllers = {name: controller(api, enforcer, conf)
                   for name, controller in _CONTROLLERS.items()}
    application = auth.pipeline(router.Router(controllers), conf)
    application = _Dispatch(application)
    application = _size_limited(application, conf.api.max_request_body_size)
    # Image uploads stream to a file: no body size limit for them.
    application = _Images(image.Application(api.image_service, conf),
                          application)
    application = faults.FaultWrapper(application)
    application = _AccessLog(application)
    application = request_id.RequestId(application)
    return http_proxy_to_wsgi.HTTPProxyToWSGI(application, conf)
