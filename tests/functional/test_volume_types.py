"""Volume types through the real clients and the command line.

``openstack volume type create --property`` / ``delete`` against
``volflow api`` in a subprocess (an admin: Cinder's noauth token
``admin:admin``), and ``volflow type-set`` / ``type-unset`` /
``type-delete`` in subprocesses on the same state.
"""

import json

from tests.functional import conftest as functional
from tests.functional import test_api_clients as clients
from tests import invariants


def _admin(server, env, *args):
    argv = [clients._client('openstack'), '--os-auth-type', 'admin_token',
            '--os-token', 'admin:admin', '--os-endpoint',
            f'{server.url}/v3/admin', *args]
    return clients._run(argv, env)


# The API server of this module, and the clients' environment for it.
server = clients.server
client_env = clients.client_env


def test_openstack_type_create_with_properties_and_delete(server,
                                                          client_env):
    made = json.loads(clients.ok(_admin(
        server, client_env, 'volume', 'type', 'create', '--property',
        'volume_backend_name=local', '--property', 'color=blue',
        '--description', 'Blue ones.', 'blue', '-f', 'json')))
    assert made['name'] == 'blue'
    vtype = server.cli.db.volume_type_get_by_name(clients.ADMIN, 'blue')
    assert vtype['extra_specs'] == {'volume_backend_name': 'local',
                                    'color': 'blue'}
    assert vtype['description'] == 'Blue ones.'
    # A project creates a volume of it, so it can't be deleted...
    project = functional.new_project()
    created = json.loads(clients.ok(clients.openstack(
        server, client_env, project, 'volume', 'create', '--size', '1',
        '--type', 'blue', 'v1', '-f', 'json')))
    server.wait_available(created['id'])
    refused = _admin(server, client_env, 'volume', 'type', 'delete', 'blue')
    assert refused.returncode == 1, refused
    assert 'Traceback' not in refused.stderr
    assert server.cli.db.volume_type_get_by_name(clients.ADMIN, 'blue')
    # ... until the volume is gone.
    clients.ok(clients.openstack(server, client_env, project, 'volume',
                                 'delete', 'v1'))
    clients.ok(_admin(server, client_env, 'volume', 'type', 'delete',
                      'blue'))
    names = {t['name'] for t in server.cli.db.volume_type_get_all(
        clients.ADMIN)}
    assert 'blue' not in names
    invariants.assert_invariants(server.cli.db, [project])


def test_openstack_private_type_and_access(server, client_env):
    clients.ok(_admin(server, client_env, 'volume', 'type', 'create',
                      '--private', 'hidden'))
    project = functional.new_project()
    refused = clients.openstack(server, client_env, project, 'volume',
                                'create', '--size', '1', '--type', 'hidden',
                                'v')
    assert refused.returncode == 1 and 'hidden' in refused.stderr, refused
    assert server.cli.volumes(project) == []
    clients.ok(_admin(server, client_env, 'volume', 'type', 'set',
                      '--project', project, 'hidden'))
    created = json.loads(clients.ok(clients.openstack(
        server, client_env, project, 'volume', 'create', '--size', '1',
        '--type', 'hidden', 'v', '-f', 'json')))
    assert server.wait_available(created['id'])['volume_type'] == 'hidden'
    invariants.assert_invariants(server.cli.db, [project])


def test_cli_type_set_unset_delete(tmp_path):
    cli = functional.Cli(tmp_path)
    cli.ok('type-create', 'gold', '--property', 'a=1')
    shown = cli.ok('type-set', 'gold', '--property', 'b=2', '--property',
                   'a=3')
    assert shown['extra_specs'] == {'a': '3', 'b': '2'}
    missing = cli.run('type-unset', 'gold', '--property', 'b',
                      '--property', 'nope')
    assert missing.rc == 1 and missing.err_lines == [
        'volflow: error: Volume Type gold has no extra specs with key '
        'nope.'], missing
    assert cli.ok('type-list')[1]['extra_specs'] == {'a': '3', 'b': '2'}
    shown = cli.ok('type-unset', 'gold', '--property', 'b')
    assert shown['extra_specs'] == {'a': '3'}
    usage = cli.run('type-set', 'gold')
    assert usage.rc == 2 and '--property' in usage.stderr
    volume = cli.ok('create', '--size', '1', '--volume-type', 'gold')
    in_use = cli.run('type-delete', 'gold')
    assert in_use.rc == 1 and len(in_use.err_lines) == 1, in_use
    assert 'deletion is not allowed' in in_use.stderr
    default = cli.run('type-delete', '__DEFAULT__')
    assert default.rc == 1 and 'default volume type' in default.stderr
    cli.ok('delete', volume['id'])
    deleted = cli.ok('type-delete', shown['id'])
    assert deleted == {'id': shown['id'], 'name': 'gold',
                       'status': 'deleted'}
    assert [t['name'] for t in cli.ok('type-list')] == ['__DEFAULT__']
    gone = cli.run('type-delete', 'gold')
    assert gone.rc == 1 and 'gold' in gone.stderr
