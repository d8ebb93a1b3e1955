"""Conductors that serve some backends only (``conductor --backend``).

Real Redis and PostgreSQL; two backends with the fake driver, reached
through volume types ``on-b1`` and ``on-b2``. A conductor of ``b1`` alone
schedules every create but creates only on ``b1``: a volume placed on
``b2`` while b2's conductor is stopped waits - ``creating``, and
``volflow show`` says ``waiting for a conductor of backend b2`` - until a
conductor of ``b2`` starts again and takes its job. Nothing fails
meanwhile; afterwards no job is left and the invariants hold. A
backend no conductor ever served gets no volume at all.
"""

import signal
import time
import uuid

import pytest
import sqlalchemy as sa
from taskflow.jobs import backends as job_backends
from taskflow import states

from tests.fixtures import postgres
from tests.functional import _processes
from tests import invariants

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

_TIMEOUT = 60

_CONFIG = """
enabled_backends = b1,b2
create_timeout = {timeout}

[database]
connection = {url}

[b1]
volume_driver = fake
total_capacity_gb = 100

[b2]
volume_driver = fake
total_capacity_gb = 100

[taskflow]
jobboard_enabled = true
jobboard_backend_hosts = {host}
jobboard_backend_port = {port}
jobboard_backend_password = {password}
jobboard_backend_namespace = {namespace}
jobboard_expiration_time = 5
"""


@pytest.fixture
def deployment(redis_server, postgres_url, tmp_path):
    name = f'backends_{uuid.uuid4().hex[:8]}'
    url = postgres.create_database(postgres_url, name)
    namespace = f'backends-{uuid.uuid4().hex[:8]}'
    processes = _processes.Processes(tmp_path, url, _CONFIG.format(
        timeout=_TIMEOUT, url=url, host=redis_server.host,
        port=redis_server.port, password=redis_server.password,
        namespace=namespace))
    processes.board = {'board': 'redis', 'host': redis_server.host,
                       'port': redis_server.port,
                       'password': redis_server.password,
                       'namespace': namespace}
    for backend in ('b1', 'b2'):
        result = processes.run('type-create', f'on-{backend}', '--property',
                               f'volume_backend_name={backend}')
        assert result.rc == 0, result
    yield processes
    processes.close()
    postgres.drop_database(postgres_url, name)


def _jobs(deployment):
    board = job_backends.fetch('test', deployment.board)
    board.connect()
    try:
        return [(job.state, job.details.get('backend'))
                for job in board.iterjobs(ensure_fresh=True)]
    finally:
        board.close()


def _logbooks(url):
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT count(*) FROM logbooks WHERE name LIKE "
                "'volume-create-%'")).scalar()
    finally:
        engine.dispose()


def _show(deployment, volume_id, project):
    result = deployment.run('show', volume_id, '--project-id', project,
                            '--format', 'json')
    assert result.rc == 0, result
    return result.json


def _settled(deployment, volume_id, project):
    deadline = time.monotonic() + _TIMEOUT
    while True:
        volume = _show(deployment, volume_id, project)
        if volume['status'] != 'creating':
            return volume
        assert time.monotonic() < deadline, volume
        time.sleep(0.2)


def _stop(deployment, name):
    process = deployment.processes.pop(name)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=_TIMEOUT) == 0


def test_a_job_waits_for_a_conductor_of_its_backend(deployment, project):
    """Posted while b2's conductor is stopped: run once it is back.

    c2 stopped a moment ago: its report is recent, b2 still counts as
    served and gets the volume; the job is no leftover, it waits.
    """
    deployment.start('c1', '--debug', 'conductor', '--name', 'c1',
                     '--backend', 'b1')
    deployment.start('c2', '--debug', 'conductor', '--name', 'c2',
                     '--backend', 'b2')
    deployment.wait_for('c1', r'Conductor .* started.*backends: b1\.')
    deployment.wait_for('c2', r'Conductor .* started.*backends: b2\.')
    _stop(deployment, 'c2')
    result = deployment.run('create', '--size', '1', '--volume-type',
                            'on-b1', '--project-id', project, '--format',
                            'json')
    assert (result.rc, result.json['status'], result.json['host']) == (
        0, 'available', 'b1'), result

    result = deployment.run('create', '--size', '1', '--volume-type',
                            'on-b2', '--no-wait', '--project-id', project,
                            '--format', 'json')
    assert result.rc == 0, result
    waiting = result.json['id']
    deadline = time.monotonic() + _TIMEOUT
    while _jobs(deployment) != [(states.UNCLAIMED, 'b2')]:
        assert time.monotonic() < deadline, _jobs(deployment)
        time.sleep(0.1)
    volume = _show(deployment, waiting, project)
    assert (volume['status'], volume['host'], volume['reason']) == (
        'creating', 'b2', 'waiting for a conductor of backend b2')
    result = deployment.run('show', waiting, '--project-id', project)
    assert 'waiting for a conductor of backend b2' in result.stdout
    log = deployment.log('c1')
    assert f'(volume {waiting}): running volume-create-scheduler' in log
    assert f'(volume {waiting}): running volume-create-manager' not in log

    deployment.start('c2', '--debug', 'conductor', '--name', 'c2',
                     '--backend', 'b2')
    volume = _settled(deployment, waiting, project)
    assert (volume['status'], volume['host'], volume['reason']) == (
        'available', 'b2', None)
    assert (f'(volume {waiting}): running volume-create-manager' in
            deployment.log('c2'))
    deadline = time.monotonic() + _TIMEOUT
    while _jobs(deployment) or _logbooks(deployment.db_url):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    invariants.assert_invariants(deployment.db, [project])


def test_a_backend_no_conductor_serves_gets_no_volume(deployment, project):
    """No conductor of b2 ever ran: its volumes fail at once, and say so."""
    deployment.start('c1', '--debug', 'conductor', '--name', 'c1',
                     '--backend', 'b1')
    deployment.wait_for('c1', r'Conductor .* started.*backends: b1\.')
    result = deployment.run('create', '--size', '1', '--count', '3',
                            '--project-id', project, '--format', 'json')
    assert result.rc == 0, result
    assert [(v['status'], v['host']) for v in result.json] == [
        ('available', 'b1')] * 3
    result = deployment.run('create', '--size', '1', '--volume-type',
                            'on-b2', '--project-id', project, '--format',
                            'json')
    assert result.rc == 1, result
    assert (result.json['status'], result.json['host']) == ('error', None)
    assert ("'b2': the volume service of backend 'b2' is down (no volume "
            "service or conductor of it has ever reported)") in (
        result.json['reason'])
    services = deployment.ok('service-list')
    assert [(s['binary'], s['host'], s['state']) for s in services] == [
        ('volflow-conductor', 'c1@b1', 'up')]
    assert _jobs(deployment) == []
    invariants.assert_invariants(deployment.db, [project])


def test_an_unknown_backend_is_refused(deployment):
    result = deployment.run('conductor', '--backend', 'nope')
    assert result.rc == 1, result
    assert 'nope' in result.stderr
