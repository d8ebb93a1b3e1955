"""The jobboard on Redis Sentinel survives losing its master.

Real servers on 127.0.0.1: a Redis master, its replica and three
Sentinels (:class:`tests.fixtures.redis.SentinelTopology`), PostgreSQL,
and two ``volflow conductor`` processes configured with
``jobboard_redis_sentinel`` and the Sentinels as
``jobboard_backend_hosts``. A batch of 50 creates is posted; once the
conductors are under way the master is killed with SIGKILL. The
Sentinels promote the replica, the conductors follow it and carry on:
every volume ends ``available``, every job's steps ran once, no job is
left on the board, and the invariants hold (``tests/invariants.py``).
"""

import collections
import re
import time
import uuid

import pytest
from taskflow.jobs import backends as job_backends

from tests import conftest
from tests.fixtures import postgres
from tests.fixtures import redis as redis_fixture
from tests.functional import _processes
from tests import invariants
from volflow import context as volflow_context

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

CREATES = 50
EXPIRY = 5
_TIMEOUT = 120
_STEP = re.compile(r'\(volume ([0-9a-f-]{36})\): running '
                   r'(volume-create-\w+-\d)')

_CONFIG = """
quota_volumes = -1
quota_gigabytes = -1
enabled_backends = fast

[database]
connection = {url}

[fast]
volume_driver = fake
fake_latency = 0.1
total_capacity_gb = 100000

[taskflow]
jobboard_enabled = true
jobboard_backend_hosts = {hosts}
jobboard_backend_password = {password}
jobboard_redis_sentinel = {name}
jobboard_backend_namespace = {namespace}
jobboard_expiration_time = {expiry}
"""


@pytest.fixture
def sentinels():
    try:
        topology = redis_fixture.SentinelTopology(
            password=f'Rd-{uuid.uuid4().hex}')
    except redis_fixture.Unavailable as exc:
        conftest.skip_or_fail(f'Redis is not available: {exc}')
    try:
        yield topology.start()
    finally:
        topology.stop()


@pytest.fixture
def database(postgres_url):
    name = f'sentinel_{uuid.uuid4().hex[:8]}'
    yield postgres.create_database(postgres_url, name)
    postgres.drop_database(postgres_url, name)


def _jobs_left(topology, namespace):
    board = job_backends.fetch('test', {
        'board': 'redis', 'host': topology.sentinels[0].host,
        'port': topology.sentinels[0].port, 'password': topology.password,
        'sentinel': topology.name, 'namespace': namespace})
    board.connect()
    try:
        return [job.state for job in board.iterjobs(ensure_fresh=True)]
    finally:
        board.close()


def _steps_run(processes, names):
    runs = collections.Counter()
    for name in names:
        runs.update(_STEP.findall(processes.log(name)))
    return runs


def test_conductors_carry_on_when_the_master_is_killed(
        sentinels, database, tmp_path, project):
    namespace = f'sentinel-{uuid.uuid4().hex[:8]}'
    processes = _processes.Processes(tmp_path, database, _CONFIG.format(
        url=database, hosts=sentinels.sentinel_hosts,
        password=sentinels.password, name=sentinels.name,
        namespace=namespace, expiry=EXPIRY))
    names = ('c1', 'c2')
    try:
        for name in names:
            processes.start(name, '--debug', 'conductor', '--name', name)
        for name in names:
            processes.wait_for(name, 'Conductor .* started: jobboard on '
                                     'Redis Sentinel master')
        result = processes.run('create', '--size', '1', '--count', CREATES,
                               '--no-wait', '--project-id', project,
                               '--format', 'json', timeout=_TIMEOUT)
        assert result.rc == 0, result
        ids = {volume['id'] for volume in result.json}
        assert len(ids) == CREATES
        deadline = time.monotonic() + _TIMEOUT
        while len(_steps_run(processes, names)) < 10:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        sentinels.kill_master()
        admin = volflow_context.get_admin_context()
        left = [v for v in processes.db.volume_get_all(admin)
                if v['status'] == 'creating']
        assert left, 'every create finished before the master was killed'
        sentinels.wait_promoted()

        while any(v['status'] == 'creating'
                  for v in processes.db.volume_get_all(admin)):
            assert time.monotonic() < deadline, 'creates never finished'
            time.sleep(0.1)
        volumes = processes.db.volume_get_all(admin)
        assert {v['id'] for v in volumes} == ids
        assert [(v['status'], v.get('reason')) for v in volumes
                if v['status'] != 'available'] == []
        while _jobs_left(sentinels, namespace):
            assert time.monotonic() < deadline, 'jobs left on the board'
            time.sleep(0.1)
        runs = _steps_run(processes, names)
        assert {volume_id for volume_id, _step in runs} == ids
        assert [key for key, count in runs.items() if count > 1] == []
        for volume_id in ids:
            assert runs[(volume_id, 'volume-create-manager-1')] == 1
        assert any('Could not' in processes.log(name) for name in names), (
            'the conductors never noticed the master was gone')
        invariants.assert_invariants(processes.db, [project])
    finally:
        processes.close()
