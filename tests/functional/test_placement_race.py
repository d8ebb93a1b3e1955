"""Schedulers and conductors apart race for the last free gigabytes.

100 creates of 1 GB for two backends of 30 GB each, placed at once by
processes that share nothing but the database (a SQLite file, PostgreSQL
or MariaDB) and their transport:

* two ``volflow scheduler`` services over RabbitMQ, with the volume
  services of both backends;
* four ``volflow conductor`` processes on the Redis jobboard.

After every run, from the database: no backend is allocated more than its
30 GB and the allocations are the sizes of the volumes placed there;
exactly 60 volumes are ``available`` (the space was there) and the 40
others ``error`` with ``NoValidBackend``, placed nowhere; the invariants
hold. ``VOLFLOW_RACE_RUNS=N`` runs each race N times (default 1).
"""

import os
import re
import uuid

import pytest

from tests.fixtures import databases
from tests.functional import _processes
from tests import invariants
from volflow import context as volflow_context

CREATES = 100
CAPACITY = 30
BACKENDS = ('b1', 'b2')
RUNS = range(int(os.environ.get('VOLFLOW_RACE_RUNS', '1')))
_TIMEOUT = 120

_CONFIG = """
enabled_backends = b1,b2
quota_volumes = -1
quota_gigabytes = -1
create_timeout = {timeout}

[database]
connection = {url}

[b1]
volume_driver = fake
total_capacity_gb = {capacity}

[b2]
volume_driver = fake
total_capacity_gb = {capacity}
"""


@pytest.fixture(params=databases.params(long=True))
def database(request):
    """The database every process shares: SQLite, PostgreSQL, MariaDB."""
    return databases.fresh_url(request, request.param, 'race')


def _race_and_check(processes, project):
    result = processes.run('create', '--size', '1', '--count', CREATES,
                           '--project-id', project, '--format', 'json',
                           timeout=_TIMEOUT + 60)
    assert result.rc == 1, result  # some could not be placed
    volumes = result.json
    assert len(volumes) == CREATES
    admin = volflow_context.get_admin_context()
    volumes = [processes.db.volume_get(admin, v['id']) for v in volumes]
    available = [v for v in volumes if v['status'] == 'available']
    refused = [v for v in volumes if v['status'] == 'error']
    assert len(available) == len(BACKENDS) * CAPACITY, [
        (v['status'], v.get('reason')) for v in volumes
        if v['status'] != 'available'][:5]
    assert len(refused) == CREATES - len(BACKENDS) * CAPACITY
    for volume in refused:
        assert volume['reason'].startswith('No valid backend was found.')
        assert volume['host'] is None
    for name in BACKENDS:
        assert len([v for v in available if v['host'] == name]) == CAPACITY
    invariants.assert_capacity(processes.db,
                               dict.fromkeys(BACKENDS, CAPACITY))
    invariants.assert_invariants(processes.db, [project])


@pytest.mark.rabbitmq
@pytest.mark.parametrize('run', RUNS)
def test_two_schedulers_over_rabbitmq(rabbitmq_url, database, tmp_path,
                                      project, run):
    exchange = f'volflow-race-{uuid.uuid4().hex[:8]}'
    processes = _processes.Processes(tmp_path, database, _CONFIG.format(
        timeout=_TIMEOUT, url=database, capacity=CAPACITY) + (
        f'\n[DEFAULT]\ntransport_url = {rabbitmq_url}\n'
        f'control_exchange = {exchange}\n'))
    try:
        processes.start('s1', '--debug', 'scheduler')
        processes.start('s2', '--debug', 'scheduler')
        for name in BACKENDS:
            processes.start(name, 'volume', '--backend', name)
        for name in ('s1', 's2'):
            processes.wait_for(name, 'volflow scheduler started')
        for name in BACKENDS:
            processes.wait_for(name, f'volume service of backend {name} '
                                     f'started')
        _race_and_check(processes, project)
        placed_by = [len(re.findall('placed on backend', processes.log(s)))
                     for s in ('s1', 's2')]
        assert sum(placed_by) == len(BACKENDS) * CAPACITY
        assert min(placed_by) > 0  # both schedulers took part
    finally:
        processes.close()


@pytest.mark.redis
@pytest.mark.parametrize('run', RUNS)
def test_four_conductors_on_the_jobboard(redis_server, database, tmp_path,
                                         project, run):
    processes = _processes.Processes(tmp_path, database, _CONFIG.format(
        timeout=_TIMEOUT, url=database, capacity=CAPACITY) + (
        f'\n[taskflow]\njobboard_enabled = true\n'
        f'jobboard_backend_hosts = {redis_server.host}\n'
        f'jobboard_backend_port = {redis_server.port}\n'
        f'jobboard_backend_password = {redis_server.password}\n'
        f'jobboard_backend_namespace = race-{uuid.uuid4().hex[:8]}\n'
        f'jobboard_expiration_time = 10\n'))
    try:
        for index in range(4):
            processes.start(f'c{index}', 'conductor', '--name', f'c{index}')
        for index in range(4):
            processes.wait_for(f'c{index}', 'Conductor .* started')
        _race_and_check(processes, project)
    finally:
        processes.close()
