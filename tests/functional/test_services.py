"""The services on a real broker: API, scheduler and volume processes apart.

One RabbitMQ node per session (``rabbitmq_url``); one deployment per
module: a scheduler and three volume services, each ``python -m volflow``
in a subprocess, sharing a SQLite state with the command line, which acts
as the API. The backends:

* ``b1``: fake driver failing every creation, with the most free space,
  so the scheduler tries it first and the volume is rescheduled;
* ``b2``: file driver (real files);
* ``b3``: fake driver with 2 s of latency per call, reached only through
  volume type ``slow``: the window to stop or kill its service mid-create;
* ``b4``: configured, but no volume service ever runs for it (type
  ``orphan``).

Notifications go over the same broker (``messagingv2``) and are read back
from its ``notifications.info`` queue. After each test the invariants
(``tests/invariants.py``) hold.
"""

import collections
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import amqp
import pytest

from tests.functional import conftest as functional
from tests import invariants
from volflow import context as volflow_context

pytestmark = pytest.mark.rabbitmq

GiB = 1024 ** 3
_START_TIMEOUT = 60
_TIMEOUT = 60
_SERVICE_NAMES = {'scheduler': 'scheduler',
                  **{b: f'volume service of backend {b}'
                     for b in ('b1', 'b2', 'b3')}}
#: The services of the deployment: their commands.
_SERVICES = {'scheduler': ('scheduler',),
             **{b: ('volume', '--backend', b) for b in ('b1', 'b2', 'b3')}}
#: The debug line of the manager flow entering the driver call.
_DRIVER_BUSY = (r"CreateVolumeFromSpecTask;volume:create' \([^)]*\) "
                r"transitioned into state 'RUNNING'")

_BACKENDS = """
enabled_backends = b1,b2,b3,b4
scheduler_max_attempts = 3
create_timeout = {timeout}

[b1]
volume_driver = fake
fake_failure_rate = 1.0
total_capacity_gb = 1000

[b2]
volume_driver = file
total_capacity_gb = 100

[b3]
volume_driver = fake
fake_latency = 2.0
total_capacity_gb = 10

[b4]
volume_driver = fake
total_capacity_gb = 1

[oslo_messaging_notifications]
driver = messagingv2
"""


class Deployment(functional.Cli):
    """Services and the command line on one state and one exchange."""

    def __init__(self, root, url, backends=_BACKENDS):
        self.exchange = f'volflow-test-{uuid.uuid4().hex[:8]}'
        self.url = url
        super().__init__(root, extra_config=(
            f'transport_url = {url}\ncontrol_exchange = {self.exchange}\n'
            + backends.format(timeout=_TIMEOUT)))
        self.services = {}
        self.starts = collections.Counter()

    def log_path(self, name):
        return os.path.join(self.root, f'{name}.log')

    def log(self, name):
        with open(self.log_path(name)) as f:
            return f.read()

    def start(self, name, *command):
        """Start a service; return once it logged that it listens."""
        with open(self.log_path(name), 'a') as log:
            process = subprocess.Popen(
                [sys.executable, '-m', 'volflow', '--config-file',
                 self.config_file, '--debug', *command],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=self.env)
        self.services[name] = process
        self.starts[name] += 1
        return process

    def ensure_running(self):
        """Start again each service an earlier test stopped."""
        for name, command in _SERVICES.items():
            process = self.services.get(name)
            if process is None or process.poll() is not None:
                self.services.pop(name, None)
                self.start(name, *command)
        for name in _SERVICES:
            self.wait_started(name)

    def matches(self, name, pattern):
        """How many times ``pattern`` is in service ``name``'s log."""
        return len(re.findall(pattern, self.log(name)))

    def wait_for(self, name, pattern, count=1, timeout=_START_TIMEOUT):
        """Wait for ``count`` matches of ``pattern`` in the service's log."""
        deadline = time.monotonic() + timeout
        while self.matches(name, pattern) < count:
            process = self.services[name]
            assert process.poll() is None, (
                f'{name} exited with {process.returncode}:\n'
                f'{self.log(name)[-3000:]}')
            assert time.monotonic() < deadline, (
                f'{name}: no {pattern!r} after {timeout}s:\n'
                f'{self.log(name)[-3000:]}')
            time.sleep(0.05)

    def wait_started(self, name):
        """Wait until the latest start of service ``name`` is done."""
        self.wait_for(name, f'volflow {_SERVICE_NAMES[name]} started',
                      count=self.starts[name])

    def stop(self, name, sig=signal.SIGTERM):
        """Signal a service (unless ``sig`` is None); its exit status."""
        process = self.services.pop(name)
        if sig is not None:
            process.send_signal(sig)
        return process.wait(timeout=_TIMEOUT)

    def stop_all(self):
        """SIGTERM every service at once (each takes up to 5 s)."""
        for process in self.services.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in list(self.services.items()):
            try:
                self.stop(name, sig=None)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def create(self, project, *args):
        return self.run('create', '--size', '1', '--project-id', project,
                        '--format', 'json', *args)

    def volume(self, volume_id):
        return self.db.volume_get(volflow_context.get_admin_context(),
                                  volume_id)

    def settled(self, volume_id, timeout=_TIMEOUT):
        """The volume once it has left ``creating``."""
        deadline = time.monotonic() + timeout
        while True:
            volume = self.volume(volume_id)
            if volume['status'] != 'creating':
                return volume
            assert time.monotonic() < deadline, volume
            time.sleep(0.05)

    def file(self, volume_id, backend='b2'):
        return os.path.join(self.state_path, 'volumes', backend, volume_id)

    def check(self, project):
        invariants.assert_invariants(self.db, [project])

    # Notifications -------------------------------------------------------
    def notifications(self):
        """``(publisher, event, priority)`` taken off the queue, in order."""
        host, _sep, port = self.url.split('@')[1].strip('/').partition(':')
        conn = amqp.Connection(f'{host}:{port}', userid='guest',
                               password='guest')
        conn.connect()
        found = []
        try:
            channel = conn.channel()
            while True:
                message = channel.basic_get('notifications.info',
                                            no_ack=True)
                if message is None:
                    return found
                body = json.loads(json.loads(message.body)['oslo.message'])
                found.append((body['publisher_id'], body['event_type'],
                              body['priority']))
        except amqp.exceptions.NotFound:
            return found  # nothing was ever notified
        finally:
            conn.close()


@pytest.fixture(scope='module')
def _deployment(rabbitmq_url, tmp_path_factory):
    """One deployment for the module: state, types, services."""
    state = Deployment(tmp_path_factory.mktemp('services'), rabbitmq_url)
    try:
        state.ensure_running()
        for name, backend in (('fileonly', 'b2'), ('slow', 'b3'),
                              ('orphan', 'b4')):
            result = state.run('type-create', name, '--property',
                               f'volume_backend_name={backend}')
            assert result.rc == 0, result
        state.notifications()  # start from an empty queue
        yield state
    finally:
        state.stop_all()
        state.close()


@pytest.fixture
def deployment(_deployment):
    """The scheduler and the volume services of b1, b2 and b3, running.

    Tests run in any order: services an earlier test stopped or killed
    are started again first.
    """
    _deployment.ensure_running()
    return _deployment


# Starting ------------------------------------------------------------------
def test_services_log_their_start_without_the_password(deployment):
    for name, where in (('scheduler', 'topic volflow-scheduler server'),
                        ('b1', 'topic volflow-volume server b1'),
                        ('b3', 'topic volflow-volume server b3')):
        log = deployment.log(name)
        assert 'started' in log and where in log
        assert 'rabbit://guest:***@127.0.0.1:' in log
        assert 'guest:guest' not in log  # config dump included (--debug)
        assert 'transport_url' in log  # ... which did list the option


@pytest.mark.parametrize('command', [['scheduler'],
                                     ['volume', '--backend', 'b1']])
def test_a_service_needs_a_transport(tmp_path, command):
    result = functional.Cli(tmp_path).run(*command)
    assert result.rc == 1, result
    assert result.err_lines == [
        f'volflow: error: Configuration error: "{command[0]}" is a service '
        'listening on a message broker: set [DEFAULT] transport_url (for '
        'example rabbit://user:password@host:5672/)']


def test_sigterm_while_the_broker_is_out_of_reach(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    down = Deployment(tmp_path, f'rabbit://guest:guest@127.0.0.1:{port}/')
    down.start('scheduler', 'scheduler')
    down.wait_for('scheduler', 'Connection failed')  # retrying for ever
    assert down.stop('scheduler') == 0
    log = down.log('scheduler')
    assert 'volflow scheduler stopping (received SIGTERM)' in log
    assert 'volflow scheduler stopped.' in log
    assert 'volflow scheduler started' not in log
    assert 'guest:guest' not in log


def test_an_unknown_backend_is_refused(deployment):
    result = deployment.run('volume', '--backend', 'nope')
    assert result.rc == 1, result
    assert result.err_lines == [
        'volflow: error: Backend nope could not be found.']


# Creating ------------------------------------------------------------------
def test_raw_volume_on_the_file_backend(deployment, project):
    result = deployment.create(project, '--volume-type', 'fileonly')
    assert result.rc == 0, result
    volume = result.json
    assert (volume['status'], volume['host']) == ('available', 'b2')
    assert os.path.getsize(deployment.file(volume['id'])) == GiB
    deployment.check(project)


def test_from_snapshot_copies_the_snapshot(deployment, project):
    source = deployment.create(project, '--volume-type', 'fileonly').json
    with open(deployment.file(source['id']), 'r+b') as f:
        f.write(b'snapshotted' * 100)
    snapshot = deployment.ok('snapshot-create', source['id'],
                             '--project-id', project)
    with open(deployment.file(source['id']), 'r+b') as f:
        f.write(b'later write')  # after the snapshot: must not show
    result = deployment.run('create', '--snapshot-id', snapshot['id'],
                            '--project-id', project, '--format', 'json')
    assert result.rc == 0, result
    volume = result.json
    assert (volume['status'], volume['host'], volume['size']) == (
        'available', 'b2', 1)
    with open(deployment.file(volume['id']), 'rb') as f:
        assert f.read(1100) == b'snapshotted' * 100
    deployment.check(project)


def test_rescheduled_from_a_failing_backend_to_a_healthy_one(deployment,
                                                             project):
    deployment.notifications()
    result = deployment.create(project)  # b1: most free space, fails
    assert result.rc == 0, result
    volume = result.json
    assert (volume['status'], volume['host']) == ('available', 'b2')
    assert f"Volume {volume['id']}: creation on backend b1 failed and was " \
        'rescheduled.' in deployment.log('b1')
    assert deployment.notifications() == [
        ('volume.b1', 'volume.create.start', 'INFO'),
        ('volume.b2', 'volume.create.start', 'INFO'),
        ('volume.b2', 'volume.create.end', 'INFO')]
    deployment.check(project)


def test_delete_is_done_by_the_volume_service(deployment, project):
    volume = deployment.create(project, '--volume-type', 'fileonly').json
    result = deployment.run('delete', volume['id'], '--project-id', project)
    assert result.rc == 0, result
    assert not os.path.exists(deployment.file(volume['id']))
    assert deployment.volumes(project) == []
    assert deployment.usages(project)['volumes']['in_use'] == 0
    deployment.check(project)


def test_no_scheduler_listening_errors_the_volume_at_once(deployment,
                                                          project, tmp_path):
    lonely = functional.Cli(tmp_path, extra_config=(
        f'transport_url = {deployment.url}\n'
        f'control_exchange = nobody-{uuid.uuid4().hex}\n'
        f'[database]\nconnection = sqlite:///'
        f'{deployment.state_path}/volflow.sqlite\n'))
    result = lonely.run('create', '--size', '1', '--project-id', project,
                        '--format', 'json')
    assert result.rc == 1, result
    assert result.json['status'] == 'error'
    assert result.json['reason'] == (
        'Could not hand the volume to the scheduler: Service unavailable: '
        'no service ever listened on topic volflow-scheduler: is it '
        'running?')
    deployment.check(project)


def test_a_backend_without_its_volume_service_gets_no_volume(
        deployment, project):
    result = deployment.create(project, '--volume-type', 'orphan')
    assert result.rc == 1, result
    assert (result.json['status'], result.json['host']) == ('error', None)
    reason = result.json['reason']
    assert reason.startswith('No valid backend was found. No backend can '
                             f"take volume {result.json['id']} (1G): ")
    assert ("'b4': the volume service of backend 'b4' is down (no volume "
            "service or conductor of it has ever reported)") in reason
    deployment.check(project)


_TWO_BACKENDS = """
enabled_backends = fast,bulk
create_timeout = {timeout}

[fast]
volume_driver = file
total_capacity_gb = 100

[bulk]
volume_driver = file
total_capacity_gb = 1000
"""


def test_only_backends_with_a_live_volume_service_get_volumes(
        _deployment, rabbitmq_url, tmp_path, project):
    """A scheduler and fast's volume service; bulk's never started."""
    # oslo.messaging names a topic's queue after the topic alone, whatever
    # the exchange: the module's scheduler would take casts from this
    # deployment too. The next test starts it again.
    _deployment.stop_all()
    state = Deployment(tmp_path, rabbitmq_url, backends=_TWO_BACKENDS)
    try:
        state.start('scheduler', 'scheduler')
        state.start('fast', 'volume', '--backend', 'fast')
        state.wait_for('scheduler', 'volflow scheduler started')
        state.wait_for('fast', 'volflow volume service of backend fast '
                               'started')
        result = state.run('create', '--size', '1', '--count', '6',
                           '--project-id', project, '--format', 'json',
                           timeout=40)
        assert result.rc == 0, result
        assert [(v['status'], v['host']) for v in result.json] == [
            ('available', 'fast')] * 6

        result = state.run('type-create', 'big', '--property',
                           'volume_backend_name=bulk')
        assert result.rc == 0, result
        result = state.create(project, '--volume-type', 'big')
        assert result.rc == 1, result
        assert (result.json['status'], result.json['host']) == (
            'error', None)
        assert ("'bulk': the volume service of backend 'bulk' is down (no "
                "volume service or conductor of it has ever reported)") in (
            result.json['reason'])

        services = state.ok('service-list')
        host = socket.gethostname()
        assert sorted((s['binary'], s['host'], s['zone'], s['status'],
                       s['state']) for s in services) == [
            ('cinder-scheduler', host, 'nova', 'enabled', 'up'),
            ('cinder-volume', f'{host}@fast', 'nova', 'enabled', 'up')]
        table = state.run('service-list')
        assert table.rc == 0, table
        assert f'| cinder-volume    | {host}@fast |' in table.stdout
        state.check(project)
    finally:
        state.stop_all()
        state.close()


# Stopping and crashing -------------------------------------------------------
def _create_slowly_on_b3(deployment, project):
    """Start a create on b3; its id once b3's driver is busy with it."""
    busy = deployment.matches('b3', _DRIVER_BUSY)
    result = deployment.create(project, '--volume-type', 'slow',
                               '--no-wait')
    assert result.rc == 0, result
    volume_id = result.json['id']
    deployment.wait_for('b3', _DRIVER_BUSY, count=busy + 1)
    assert deployment.volume(volume_id)['status'] == 'creating'
    return volume_id


def test_sigterm_lets_the_creation_in_progress_finish(deployment, project):
    volume_id = _create_slowly_on_b3(deployment, project)
    assert deployment.stop('b3') == 0
    assert deployment.volume(volume_id)['status'] == 'available'
    log = deployment.log('b3')
    assert 'volflow volume service of backend b3 stopping (received ' \
        'SIGTERM)' in log
    assert 'volflow volume service of backend b3 stopped.' in log
    deployment.check(project)


def test_a_killed_volume_service_never_leaves_a_volume_creating(
        deployment, project):
    volume_id = _create_slowly_on_b3(deployment, project)
    assert deployment.stop('b3', signal.SIGKILL) == -signal.SIGKILL
    assert deployment.volume(volume_id)['status'] == 'creating'
    deployment.start('b3', 'volume', '--backend', 'b3')
    deployment.wait_started('b3')
    volume = deployment.settled(volume_id)  # its flow was resumed
    assert (volume['status'], volume['host']) == ('available', 'b3')
    deployment.check(project)


def test_a_request_queued_for_a_stopped_volume_service_survives_its_restart(
        deployment, project):
    """Cast while b2's service is stopped: created once it is back."""
    assert deployment.stop('b2') == 0
    result = deployment.create(project, '--volume-type', 'fileonly',
                               '--no-wait')
    assert result.rc == 0, result
    volume_id = result.json['id']
    deadline = time.monotonic() + _TIMEOUT
    while deployment.volume(volume_id)['host'] != 'b2':  # queued for b2
        assert time.monotonic() < deadline, deployment.volume(volume_id)
        time.sleep(0.05)
    assert deployment.volume(volume_id)['status'] == 'creating'
    deployment.start('b2', 'volume', '--backend', 'b2')
    deployment.wait_started('b2')
    volume = deployment.settled(volume_id)
    assert (volume['status'], volume['host'], volume['reason']) == (
        'available', 'b2', None)
    assert os.path.getsize(deployment.file(volume_id)) == GiB
    assert f'Volume {volume_id}: its creation was never started here' in (
        deployment.log('b2'))
    deployment.check(project)


def test_sigterm_stops_every_service(deployment):
    processes = dict(deployment.services)
    assert sorted(processes) == ['b1', 'b2', 'b3', 'scheduler']
    deployment.stop_all()
    for name, process in processes.items():
        assert process.returncode == 0, deployment.log(name)[-2000:]
        assert f'volflow {_SERVICE_NAMES[name]} stopped.' in (
            deployment.log(name))
