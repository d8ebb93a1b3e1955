"""``volflow api`` in a subprocess, driven by the real, unmodified clients.

A server starts on a free port with a throwaway state (module fixture)
and ``openstack`` (python-openstackclient on openstacksdk) and ``cinder``
(python-cinderclient) talk to it as they would to Cinder:

* ``openstack --os-auth-type none --os-endpoint http://H:P/v3/PROJECT``;
* ``cinder --os-auth-type noauth --os-user-id U --os-project-id PROJECT
  --os-endpoint http://H:P/v3/PROJECT``;
* ``openstack --os-auth-type http_basic --os-username U --os-password P
  --os-endpoint ...`` against a second server with ``auth_strategy =
  http_basic``.

Every create ends ``available`` through the embedded pipeline.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import bcrypt
import pytest

from tests import conftest as top
from tests.functional import conftest as functional
from tests import invariants
from volflow import context as volflow_context

ADMIN = volflow_context.get_admin_context()


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _client(name):
    found = shutil.which(name, path=os.path.dirname(sys.executable))
    found = found or shutil.which(name)
    if found is None:
        top.skip_or_fail(f'the {name} client is not installed (see '
                         f'test-requirements.txt)')
    return found


class ApiServer:
    """``volflow api`` on a free port, with its own state."""

    def __init__(self, root, extra_config='', env=None, args=()):
        self.cli = functional.Cli(root, extra_config)
        self.port = _free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.log = open(os.path.join(str(root), 'api.log'), 'w')
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'volflow', '--config-file',
             self.cli.config_file, *args, 'api', '--bind-port',
             str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT,
            env=dict(self.cli.env, **(env or {})),
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f'{self.url}/v3/', timeout=5).read()
                return
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or (
                        time.monotonic() > deadline):
                    raise AssertionError(self.logged())
                time.sleep(0.1)

    def logged(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log.name) as log:
            return log.read()

    def wait_available(self, volume_id, timeout=60):
        """The volume once the embedded pipeline has made it available."""
        deadline = time.monotonic() + timeout
        while True:
            volume = self.cli.db.volume_get(ADMIN, volume_id)
            if volume['status'] != 'creating' or (
                    time.monotonic() > deadline):
                assert volume['status'] == 'available', volume
                return volume
            time.sleep(0.05)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.log.close()
        self.cli.close()
        return code


def _run(argv, env=None):
    completed = subprocess.run(argv, capture_output=True, text=True,
                               timeout=120, env=env,
                               stdin=subprocess.DEVNULL)
    return completed


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    api = ApiServer(tmp_path_factory.mktemp('api'))
    yield api
    assert api.stop() == 0, api.logged()
    assert 'Traceback' not in api.logged()


@pytest.fixture(scope='module')
def client_env(server):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')}
    env['HOME'] = server.cli.root
    return env


def openstack(server, env, project, *args):
    argv = [_client('openstack'), '--os-auth-type', 'none',
            '--os-endpoint', f'{server.url}/v3/{project}', *args]
    return _run(argv, env)


def ok(completed):
    assert completed.returncode == 0, (completed.stdout, completed.stderr)
    return completed.stdout


def test_the_openstack_client_does_the_whole_round(server, client_env):
    project = functional.new_project()
    run = lambda *args: openstack(server, client_env, project, *args)  # noqa
    created = json.loads(ok(run('volume', 'create', '--size', '1', 'v1',
                                '-f', 'json')))
    assert created['name'] == 'v1' and created['size'] == 1
    volume = server.wait_available(created['id'])
    shown = json.loads(ok(run('volume', 'show', 'v1', '-f', 'json')))
    assert (shown['id'], shown['status']) == (volume['id'], 'available')
    snapshot = json.loads(ok(run('volume', 'snapshot', 'create',
                                 '--volume', 'v1', 's1', '-f', 'json')))
    assert snapshot['name'] == 's1'
    quota = json.loads(ok(run('quota', 'show', '--volume', '--usage',
                              project, '-f', 'json')))
    usage = {row['Resource']: row for row in quota}
    assert usage['volumes']['In Use'] == 1
    assert usage['snapshots']['In Use'] == 1
    listed = json.loads(ok(run('volume', 'list', '-f', 'json')))
    assert [v['ID'] for v in listed] == [volume['id']]
    # Another project does not see it.
    other = openstack(server, client_env, functional.new_project(),
                      'volume', 'show', volume['id'])
    assert other.returncode == 1 and 'No Volume found' in (
        other.stdout + other.stderr)
    refused = run('volume', 'delete', 'v1')
    assert refused.returncode == 1 and 'snapshots' in refused.stderr
    ok(run('volume', 'snapshot', 'delete', 's1'))
    assert server.cli.snapshots(project) == []
    ok(run('volume', 'delete', 'v1'))
    assert server.cli.volumes(project) == []
    invariants.assert_invariants(server.cli.db, [project])


def test_openstack_volume_set(server, client_env):
    project = functional.new_project()
    run = lambda *args: openstack(server, client_env, project, *args)  # noqa
    created = json.loads(ok(run('volume', 'create', '--size', '1', 'v1',
                                '-f', 'json')))
    server.wait_available(created['id'])
    ok(run('volume', 'set', '--name', 'v2', '--description', 'd',
           '--size', '3', '--property', 'a=1', '--property', 'b=2', 'v1'))
    shown = json.loads(ok(run('volume', 'show', 'v2', '-f', 'json')))
    assert (shown['id'], shown['size'], shown['description']) == (
        created['id'], 3, 'd')
    assert shown['properties'] in ({'a': '1', 'b': '2'}, "a='1', b='2'")
    ok(run('volume', 'unset', '--property', 'a', 'v2'))
    volume = server.cli.db.volume_get(ADMIN, created['id'])
    assert (volume['size'], volume['metadata']) == (3, {'b': '2'})
    assert server.cli.usages(project)['gigabytes']['in_use'] == 3
    refused = run('volume', 'set', '--size', '2', 'v2')
    assert refused.returncode == 1
    assert 'greater than' in refused.stderr
    ok(run('volume', 'delete', 'v2'))
    invariants.assert_invariants(server.cli.db, [project])


def test_openstack_refusal_is_one_clean_message(server, client_env):
    project = functional.new_project()
    refused = openstack(server, client_env, project, 'volume', 'create',
                        '--size', '1', '--type', 'no-such-type', 'bad')
    assert refused.returncode == 1
    assert 'no-such-type' in refused.stderr
    assert 'Traceback' not in refused.stderr
    assert server.cli.volumes(project) == []
    invariants.assert_invariants(server.cli.db, [project])


def test_the_cinder_client(server, client_env):
    project = functional.new_project()
    base = [_client('cinder'), '--os-auth-type', 'noauth', '--os-user-id',
            'u1', '--os-project-id', project, '--os-endpoint',
            f'{server.url}/v3/{project}']
    ok(_run(base + ['create', '1', '--name', 'c1'], client_env))
    (volume,) = server.cli.volumes(project)
    server.wait_available(volume['id'])
    assert 'c1' in ok(_run(base + ['list'], client_env))
    assert volume['id'] in ok(_run(base + ['show', 'c1'], client_env))
    assert 'volumes' in ok(_run(base + ['quota-usage', project],
                                client_env))
    ok(_run(base + ['delete', 'c1'], client_env))


def test_the_services_it_runs_in_process_report(server, client_env):
    """``cinder service-list`` shows them; disabling one is honoured."""
    host = socket.gethostname()
    base = [_client('cinder'), '--os-auth-type', 'noauth', '--os-user-id',
            'admin', '--os-project-id', 'admin', '--os-endpoint',
            f'{server.url}/v3/admin']
    services = server.cli.db.service_get_all(ADMIN)
    assert sorted((s['binary'], s['host'], s['disabled'])
                  for s in services) == [
        ('cinder-scheduler', host, False),
        ('cinder-volume', f'{host}@local', False)]
    listed = ok(_run(base + ['service-list'], client_env))
    assert f'cinder-volume    | {host}@local' in listed
    # A volume's host names the host of its volume service, as Cinder's.
    ok(_run(base + ['create', '1', '--name', 's1'], client_env))
    (volume,) = server.cli.volumes('admin')
    server.wait_available(volume['id'])
    shown = ok(_run(base + ['show', 's1'], client_env))
    assert f'{host}@local#local' in shown
    ok(_run(base + ['service-disable', f'{host}@local', 'cinder-volume'],
            client_env))
    record = server.cli.db.service_get_by_host_and_binary(
        ADMIN, f'{host}@local', 'cinder-volume')
    assert record['disabled']
    ok(_run(base + ['service-enable', f'{host}@local', 'cinder-volume'],
            client_env))
    assert not server.cli.db.service_get_by_host_and_binary(
        ADMIN, f'{host}@local', 'cinder-volume')['disabled']
    ok(_run(base + ['delete', 's1'], client_env))


def test_the_command_line_reports_no_service(tmp_path):
    cli = functional.Cli(tmp_path)
    try:
        created = cli.ok('create', '--project-id', functional.new_project(),
                         '--size', '1')
        assert created['status'] == 'available'
        assert cli.db.service_get_all(ADMIN) == []
    finally:
        cli.close()


def test_http_basic_credentials(tmp_path, client_env):
    htpasswd = tmp_path / 'htpasswd'
    htpasswd.write_text('alice:' + bcrypt.hashpw(
        b'wonderland', bcrypt.gensalt(4)).decode() + '\n')
    api = ApiServer(tmp_path, '[api]\nauth_strategy = http_basic\n'
                              f'http_basic_auth_user_file = {htpasswd}\n')
    try:
        base = [_client('openstack'), '--os-auth-type', 'http_basic',
                '--os-endpoint', f'{api.url}/v3/alice', '--os-username',
                'alice']
        created = json.loads(ok(_run(
            base + ['--os-password', 'wonderland', 'volume', 'create',
                    '--size', '1', 'b1', '-f', 'json'], client_env)))
        assert created['name'] == 'b1'
        refused = _run(base + ['--os-password', 'wrong', 'volume', 'list'],
                       client_env)
        assert refused.returncode == 1
        api.wait_available(created['id'])
    finally:
        assert api.stop() == 0
