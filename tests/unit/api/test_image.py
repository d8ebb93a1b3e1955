"""The Image API v2 subset under /image, on the world's image service."""

import hashlib
import os

from tests import fuzz_world as world
from tests.unit.api import conftest as api_fixtures

IMAGES = '/image/v2/images'
ADMIN = 'admin:admin'


def _create(client, token='u1:p1', **fields):
    body = dict({'name': 'cirros', 'disk_format': 'raw',
                 'container_format': 'bare'}, **fields)
    return client.post(IMAGES, body, token=token)


def test_versions_need_no_token(client):
    response = client.get('/image/versions', token=None)
    assert response.status_code == 200
    assert response.json['versions'][0]['id'].startswith('v2.')


def test_create_upload_show_download_delete(client):
    created = _create(client, min_disk=1, hw_disk_bus='scsi')
    assert created.status_code == 201
    image = created.json
    assert (image['status'], image['size'], image['min_disk'],
            image['owner'], image['hw_disk_bus']) == (
        'queued', None, 1, 'p1', 'scsi')
    data = os.urandom(300 * 1024)  # over the volume API's body limit
    uploaded = client.request('PUT', f'{IMAGES}/{image["id"]}/file',
                              raw=data)
    assert uploaded.status_code == 204
    shown = client.get(f'{IMAGES}/{image["id"]}').json
    assert (shown['status'], shown['size'], shown['checksum']) == (
        'active', len(data), hashlib.md5(data).hexdigest())
    assert shown['os_hash_value'] == hashlib.sha512(data).hexdigest()
    downloaded = client.get(f'{IMAGES}/{image["id"]}/file')
    assert downloaded.body == data
    listed = [i['id'] for i in client.get(IMAGES).json['images']]
    assert image['id'] in listed
    location = client.db.image_get(world.OWN, image['id'])['location']
    assert client.delete(f'{IMAGES}/{image["id"]}').status_code == 204
    assert client.get(f'{IMAGES}/{image["id"]}').status_code == 404
    assert not os.path.exists(location)


def test_a_second_upload_is_refused(client):
    image = _create(client).json
    client.request('PUT', f'{IMAGES}/{image["id"]}/file', raw=b'one')
    again = client.request('PUT', f'{IMAGES}/{image["id"]}/file',
                           raw=b'two')
    assert api_fixtures.fault(again)[0] == 'conflict'
    assert client.get(f'{IMAGES}/{image["id"]}/file').body == b'one'


def test_only_an_admin_makes_an_image_public(client):
    before = len(client.db.image_get_all(world.OWN_ADMIN))
    refused = _create(client, visibility='public')
    assert api_fixtures.fault(refused)[0] == 'forbidden'
    assert len(client.db.image_get_all(world.OWN_ADMIN)) == before
    made = _create(client, token=ADMIN, visibility='public').json
    assert made['visibility'] == 'public'
    seen = client.get(f'{IMAGES}/{made["id"]}', token='u2:p2')
    assert seen.status_code == 200
    assert api_fixtures.fault(client.delete(
        f'{IMAGES}/{made["id"]}', token='u2:p2'))[0] == 'forbidden'


def test_another_projects_private_image_is_not_found(client):
    image = _create(client).json
    assert client.get(f'{IMAGES}/{image["id"]}',
                      token='u2:p2').status_code == 404


def test_patch(client):
    image = _create(client).json
    response = client.request('PATCH', f'{IMAGES}/{image["id"]}', body=[
        {'op': 'replace', 'path': '/name', 'value': 'renamed'},
        {'op': 'replace', 'path': '/min_disk', 'value': 3},
        {'op': 'add', 'path': '/os_distro', 'value': 'cirros'}])
    assert response.status_code == 200
    assert (response.json['name'], response.json['min_disk'],
            response.json['os_distro']) == ('renamed', 3, 'cirros')
    refused = client.request('PATCH', f'{IMAGES}/{image["id"]}', body=[
        {'op': 'replace', 'path': '/size', 'value': 3}])
    assert api_fixtures.fault(refused)[0] == 'forbidden'


def test_a_volume_from_a_deactivated_image_is_refused(client):
    image = _create(client).json
    client.request('PUT', f'{IMAGES}/{image["id"]}/file', raw=b'x' * 10)
    assert client.post(f'{IMAGES}/{image["id"]}/actions/deactivate',
                       ).status_code == 204
    assert client.get(f'{IMAGES}/{image["id"]}').json['status'] == (
        'deactivated')
    refused = client.post('/v3/p1/volumes', {'volume': {
        'size': 1, 'imageRef': image['id']}})
    assert api_fixtures.fault(refused)[0] == 'badRequest'
    client.post(f'{IMAGES}/{image["id"]}/actions/reactivate')
    made = client.post('/v3/p1/volumes', {'volume': {
        'size': 1, 'imageRef': image['id']}})
    assert made.status_code == 202


def test_limit_and_marker_page_through(client):
    ids = {_create(client, name=f'i{n}').json['id'] for n in range(3)}
    first = client.get(IMAGES + '?limit=2&owner=p1').json
    assert len(first['images']) == 2 and 'next' in first
    rest = client.get('/image' + first['next'] + '&owner=p1').json
    seen = {i['id'] for i in first['images'] + rest['images']}
    assert ids <= seen
