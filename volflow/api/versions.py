"""Version discovery: ``GET /`` (300, as Cinder) and ``GET /v3/``."""

import json

import webob
import webob.dec

from volflow.api import microversion

UPDATED = '2020-04-01T00:00:00Z'


def version_v3(req):
    """The one version volflow serves, with its microversion range."""
    return {
        'id': 'v3.0',
        'status': 'CURRENT',
        'version': microversion.text(microversion.MAX_VERSION),
        'min_version': microversion.text(microversion.MIN_VERSION),
        'updated': UPDATED,
        'links': [
            {'rel': 'describedby', 'type': 'text/html',
             'href': 'https://docs.openstack.org/'},
            {'rel': 'self', 'href': f'{req.application_url}/v3/'},
        ],
        'media-types': [
            {'base': 'application/json',
             'type': 'application/vnd.openstack.volume+json;version=3'},
        ],
    }


def is_versions_path(path):
    return path.rstrip('/') in ('', '/v3')


@webob.dec.wsgify
def application(req):
    """Answer ``GET /`` and ``GET /v3/``."""
    status = 300 if req.path_info.rstrip('/') == '' else 200
    response = webob.Response(status=status,
                              content_type='application/json',
                              charset='utf-8')
    response.body = json.dumps({'versions': [version_v3(req)]}).encode(
        'utf-8')
    return response
