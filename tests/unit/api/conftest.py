"""The WSGI application in process, on a fresh ``tests.fuzz_world``.

:class:`Client` drives :func:`volflow.api.app.build` with webob requests
(no sockets): the world's two projects ``p1`` and ``p2``, whose volumes,
snapshots and types have fixed ids, and a volume API that runs the API
flow with stand-ins finishing the pipeline (a created volume is
``available`` at once).
"""

import json

import pytest
import webob

from tests import fuzz_world as world
from volflow.api import app


class Client:
    """Requests to one application; tokens are Cinder's noauth ones."""

    def __init__(self, application, db_api):
        self.application = application
        self.db = db_api

    def request(self, method, path, body=None, token='u1:p1',
                headers=None, raw=None):
        req = webob.Request.blank(path, method=method)
        if token is not None:
            req.headers['X-Auth-Token'] = token
        for key, value in (headers or {}).items():
            req.headers[key] = value
        if raw is not None or body is not None:
            req.body = raw if raw is not None else json.dumps(body).encode()
            req.content_type = 'application/json'
        return req.get_response(self.application)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request('POST', path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request('PUT', path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)


def fault(response):
    """``(kind, message)`` of a Cinder-shaped fault; asserts the shape."""
    body = response.json
    assert list(body) and len(body) == 1, body
    kind, inner = next(iter(body.items()))
    assert set(inner) == {'message', 'code'}, body
    assert inner['code'] == response.status_code
    assert isinstance(inner['message'], str) and inner['message']
    assert 'Traceback' not in inner['message']
    return kind, inner['message']


def build_client(conf, tmp_path, db_api=None):
    db_api = world.build_world(conf, db_api)
    api = world.make_api(db_api, conf, str(tmp_path / 'images'))
    return Client(app.build(conf, api=api), db_api)


@pytest.fixture
def client(conf, tmp_path):
    return build_client(conf, tmp_path)
