"""``/v2/{project_id}``: the URL the create path starts at, over HTTP.

``volflow api`` runs in a subprocess; a client posts to
``/v2/{project_id}/volumes`` as Cinder's v2 API took it (no microversion
header) and the volume ends ``available``; version discovery lists v2
as ``DEPRECATED`` beside the current v3.
"""

import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.functional import test_api_clients


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    api = test_api_clients.ApiServer(tmp_path_factory.mktemp('v2'))
    yield api
    assert api.stop() == 0


def _call(server, method, path, body=None, headers=()):
    request = urllib.request.Request(
        f'{server.url}{path}', method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers=dict({'X-Auth-Token': 'u2:proj2',
                      'Content-Type': 'application/json'}, **dict(headers)))
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, json.loads(
                response.read() or b'null')
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_create_through_v2_ends_available(server):
    status, headers, body = _call(server, 'POST', '/v2/proj2/volumes',
                                  {'volume': {'size': 1, 'name': 'v2vol'}})
    assert status == 202, body
    volume = body['volume']
    assert volume['name'] == 'v2vol' and volume['size'] == 1
    assert 'OpenStack-API-Version' not in headers
    assert volume['links'][0]['href'].startswith(
        f"{server.url}/v2/proj2/volumes/")
    assert server.wait_available(volume['id'])['project_id'] == 'proj2'
    status, _headers, body = _call(server, 'GET',
                                   f"/v2/proj2/volumes/{volume['id']}")
    assert (status, body['volume']['status']) == (200, 'available')


def test_v2_ignores_microversions(server):
    status, headers, body = _call(
        server, 'GET', '/v2/proj2/volumes/detail',
        headers={'OpenStack-API-Version': 'volume 3.99'})
    assert status == 200, body
    assert 'OpenStack-API-Version' not in headers


def test_v2_refusals_are_cinder_faults(server):
    status, _headers, body = _call(server, 'POST', '/v2/proj2/volumes',
                                   {'volume': {'size': 0}})
    assert status == 400
    assert list(body) == ['badRequest']
    status, _headers, body = _call(server, 'GET', '/v2/other/volumes')
    assert status == 403


def test_version_discovery_lists_v2_deprecated(server):
    request = urllib.request.Request(f'{server.url}/')
    try:
        urllib.request.urlopen(request, timeout=30)
        raise AssertionError('GET / must answer 300')
    except urllib.error.HTTPError as error:
        assert error.code == 300
        versions = json.loads(error.read())['versions']
    assert [(v['id'], v['status']) for v in versions] == [
        ('v2.0', 'DEPRECATED'), ('v3.0', 'CURRENT')]
    with urllib.request.urlopen(f'{server.url}/v2/', timeout=30) as response:
        assert [v['id'] for v in json.loads(response.read())['versions']] == [
            'v2.0']


def test_the_tutorial_curl(server):
    curl = shutil.which('curl')
    if curl is None:
        pytest.skip('curl is not installed')
    completed = subprocess.run(
        [curl, '-s', '-X', 'POST', f'{server.url}/v2/proj2/volumes',
         '-H', 'X-Auth-Token: u2:proj2', '-H',
         'Content-Type: application/json',
         '-d', '{"volume": {"size": 1, "name": "from-curl"}}'],
        capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    volume = json.loads(completed.stdout)['volume']
    assert server.wait_available(volume['id'])['name'] == 'from-curl'
