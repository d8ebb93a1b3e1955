"""Version discovery: ``GET /`` (300, as Cinder), ``GET /v3/``, ``/v2/``.

v3 is ``CURRENT``; v2 is listed ``DEPRECATED``, as Cinder listed it
before removing it: its resources answer as v3.0's do
(:mod:`volflow.api.router`), for the clients and tutorials written for
it.
"""

import json

import webob
import webob.dec

from volflow.api import microversion

UPDATED = '2020-04-01T00:00:00Z'
UPDATED_V2 = '2017-02-25T12:00:00Z'


def _version(req, major, status, updated, version='', min_version=''):
    """The description of API ``v<major>`` served at ``/v<major>/``."""
    return {
        'id': f'v{major}.0',
        'status': status,
        'version': version,
        'min_version': min_version,
        'updated': updated,
        'links': [
            {'rel': 'describedby', 'type': 'text/html',
             'href': 'https://docs.openstack.org/'},
            {'rel': 'self', 'href': f'{req.application_url}/v{major}/'},
        ],
        'media-types': [
            {'base': 'application/json',
             'type': f'application/vnd.openstack.volume+json;'
                     f'version={major}'},
        ],
    }


def version_v3(req):
    """The one version volflow serves, with its microversion range."""
    return _version(req, 3, 'CURRENT', UPDATED,
                    version=microversion.text(microversion.MAX_VERSION),
                    min_version=microversion.text(microversion.MIN_VERSION))


def version_v2(req):
    """The deprecated v2 API: v3.0's behaviour, no microversions."""
    return _version(req, 2, 'DEPRECATED', UPDATED_V2)


def is_versions_path(path):
    return path.rstrip('/') in ('', '/v2', '/v3')


@webob.dec.wsgify
def application(req):
    """Answer ``GET /``, ``GET /v2/`` and ``GET /v3/``."""
    path = req.path_info.rstrip('/')
    if path == '':
        status, versions = 300, [version_v2(req), version_v3(req)]
    elif path == '/v2':
        status, versions = 200, [version_v2(req)]
    else:
        status, versions = 200, [version_v3(req)]
    response = webob.Response(status=status,
                              content_type='application/json',
                              charset='utf-8')
    response.body = json.dumps({'versions': versions}).encode('utf-8')
    return response
