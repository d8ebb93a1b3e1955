"""``openstack image create --file`` and ``volume create --image`` against
``volflow api``: its Image API v2 subset under ``/image``.

python-openstackclient sends ``X-Auth-Token: USER:PROJECT`` (its
``admin_token`` plugin), which noauth reads as that user in that project;
the image endpoint is given as ``OS_IMAGE_ENDPOINT_OVERRIDE``.
"""

import json
import os

import pytest

from tests.functional import conftest as functional
from tests.functional import test_api_clients as clients


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    api = clients.ApiServer(tmp_path_factory.mktemp('image-api'))
    yield api
    assert api.stop() == 0, api.logged()
    assert 'Traceback' not in api.logged()


def _openstack(server, project, *args):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')}
    env['HOME'] = server.cli.root
    env['OS_IMAGE_ENDPOINT_OVERRIDE'] = f'{server.url}/image'
    argv = [clients._client('openstack'), '--os-auth-type', 'admin_token',
            '--os-token', f'u1:{project}', '--os-endpoint',
            f'{server.url}/v3/{project}', *args]
    return clients._run(argv, env)


def test_a_volume_from_an_image_uploaded_with_openstack(server, tmp_path):
    project = functional.new_project()
    data = os.urandom(512 * 1024)
    (tmp_path / 'cirros.raw').write_bytes(data)
    image = json.loads(clients.ok(_openstack(
        server, project, 'image', 'create', '--file',
        str(tmp_path / 'cirros.raw'), '--disk-format', 'raw',
        '--container-format', 'bare', '--min-disk', '1', 'cirros',
        '-f', 'json')))
    assert (image['status'], image['size'], image['min_disk']) == (
        'active', len(data), 1)
    listed = json.loads(clients.ok(_openstack(
        server, project, 'image', 'list', '-f', 'json')))
    assert [i['ID'] for i in listed] == [image['id']]
    created = json.loads(clients.ok(_openstack(
        server, project, 'volume', 'create', '--image', 'cirros',
        '--size', '1', 'v1', '-f', 'json')))
    volume = server.wait_available(created['id'])
    assert volume['image_id'] == image['id']
    saved = tmp_path / 'saved.raw'
    clients.ok(_openstack(server, project, 'image', 'save', '--file',
                          str(saved), 'cirros'))
    assert saved.read_bytes() == data
    clients.ok(_openstack(server, project, 'image', 'delete', 'cirros'))
    gone = _openstack(server, project, 'image', 'show', image['id'])
    assert gone.returncode == 1
