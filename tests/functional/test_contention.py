"""200 creates race for a quota of 100 volumes: exactly 100 win.

The race is run through :class:`volflow.volume.api.API`, where the quota
is taken (the API flow), in every way volflow can be deployed:

* threads of one process, on the in-memory database, a SQLite file,
  PostgreSQL and MariaDB;
* two OS processes of 100 creates each, on one SQLite file, one
  PostgreSQL and one MariaDB database (``_contention_worker.py``);
* the whole in-process pipeline (scheduler and manager flows, fake
  driver), to show that once the creates have finished the committed
  usage is the number of live volumes.

Every race starts from a project with no usage rows yet, so creating them
is raced too. After each one: exactly 100 volumes, the other 100 requests
refused with the quota error a user sees, usage 100 volumes and 100 GB,
nothing reserved, no reservation left, and the invariants hold
(``tests/invariants.py``).
"""

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.fixtures import databases
from tests.functional import _contention_worker as worker
from tests import invariants
from volflow import conf as volflow_conf
from volflow.conf import backend as backend_conf
from volflow import context as volflow_context
from volflow import db
from volflow import db as volflow_db
from volflow import quota
from volflow.rpc import local
from volflow.volume import api as volume_api

QUOTA = 100
CREATES = 200
PROJECT = 'contended'
CTX = volflow_context.RequestContext(user_id='racer', project_id=PROJECT)
ADMIN = volflow_context.get_admin_context()
REFUSAL = (f"VolumeLimitExceeded: Maximum number of volumes allowed "
           f"({QUOTA}) exceeded for quota 'volumes'.")
PROCESS_TIMEOUT = 300
WAIT_TIMEOUT = 60

_SERVERS = databases.params('postgresql', 'mysql', long=True)


@pytest.fixture
def override(conf_override):
    """The shared ``conf_override`` fixture, under this module's name."""
    return conf_override


@pytest.fixture
def conf(override, tmp_path):
    override('state_path', str(tmp_path / 'state'))
    volflow_db.reset_apis()
    yield volflow_conf.CONF
    volflow_db.reset_apis()


def _fresh_url(request, kind):
    """A database nobody has opened yet (PostgreSQL: dropped after)."""
    tmp_path = request.getfixturevalue('tmp_path')
    if kind == 'memory':
        return f'memory://contention-{uuid.uuid4().hex}'
    if kind == 'sqlite':
        return f'sqlite:///{tmp_path}/contention.sqlite'
    return databases.fresh_url(request, kind, 'race')


def _set_quota(db_api, conf):
    quota.QuotaEngine(db_api, conf).update(ADMIN, PROJECT, 'volumes', QUOTA)


def _assert_exactly_the_quota(db_api, outcomes, status='available'):
    """What every race must end with, whoever ran the creates."""
    unexpected = [text for o in outcomes for text in o['unexpected']]
    assert not unexpected, '\n'.join(unexpected)
    created = [volume_id for o in outcomes for volume_id in o['created']]
    refused = {}
    for outcome in outcomes:
        for reason, count in outcome['refused'].items():
            refused[reason] = refused.get(reason, 0) + count
    assert len(created) == QUOTA
    assert refused == {REFUSAL: CREATES - QUOTA}

    volumes = db_api.volume_get_all(CTX)
    assert sorted(v['id'] for v in volumes) == sorted(created)
    assert {v['status'] for v in volumes} == {status}
    usage = db_api.quota_usage_get_all(ADMIN, PROJECT)
    assert usage['volumes'] == {'in_use': QUOTA, 'reserved': 0}
    assert usage['gigabytes'] == {'in_use': QUOTA, 'reserved': 0}
    assert db_api.reservation_get_all(ADMIN) == []
    invariants.assert_invariants(db_api, [PROJECT])


@pytest.mark.parametrize('kind', ['memory', 'sqlite', *_SERVERS])
def test_threads_commit_exactly_the_quota(request, conf, tmp_path, kind):
    db_api = db.get_api(_fresh_url(request, kind))
    _set_quota(db_api, conf)
    api = worker.api_flow_only(db_api, str(tmp_path / 'images'), conf)
    outcome = worker.create_at_once(api, CTX, CREATES)
    _assert_exactly_the_quota(db_api, [outcome])


#: The checkout: the worker runs as ``python -m tests.functional...``.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _start_worker(url, count, stderr):
    return subprocess.Popen(
        [sys.executable, '-m', worker.__name__, url, PROJECT, str(count)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
        text=True, cwd=ROOT)


def _stop(process):
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.mark.parametrize('kind', ['sqlite', *_SERVERS])
def test_processes_commit_exactly_the_quota(request, conf, tmp_path, kind):
    url = _fresh_url(request, kind)
    db_api = db.get_api(url)
    _set_quota(db_api, conf)
    logs = [tmp_path / f'worker-{n}.err' for n in range(2)]
    processes = []
    try:
        for log in logs:
            with open(log, 'w') as stderr:
                processes.append(_start_worker(url, CREATES // 2, stderr))
        for process, log in zip(processes, logs):
            line = process.stdout.readline()
            assert line == 'ready\n', log.read_text()
        for process in processes:  # release both at once
            process.stdin.write('go\n')
            process.stdin.flush()
        outcomes = []
        for process, log in zip(processes, logs):
            out, _err = process.communicate(timeout=PROCESS_TIMEOUT)
            assert process.returncode == 0, log.read_text()
            outcomes.append(json.loads(out))
    finally:
        for process in processes:
            _stop(process)
    # The processes really raced: each one's creates were in flight
    # while the other's were. (Which of them wins how many is up to the
    # database's lock queue: on MariaDB one process may win all 100.)
    first, second = outcomes
    assert first['started'] < second['finished'], outcomes
    assert second['started'] < first['finished'], outcomes
    _assert_exactly_the_quota(db_api, outcomes)


@pytest.fixture
def pipeline(override, conf, tmp_path, request):
    """The in-process pipeline on one fake-driver backend."""
    backend_conf.register_backend(conf, 'fast')
    override('volume_driver', 'fake', group='fast')
    override('enabled_backends', ['fast'])
    override('connection', _fresh_url(request, request.param),
             group='database')
    local.reset()
    yield volume_api.API()
    assert local.wait_idle(WAIT_TIMEOUT), 'flows still running'
    local.reset()


@pytest.mark.parametrize('pipeline', ['memory'], indirect=True)
def test_whole_pipeline_usage_is_the_live_volumes(pipeline, conf):
    _set_quota(pipeline.db, conf)
    outcome = worker.create_at_once(pipeline, CTX, CREATES)
    for volume_id in outcome['created']:
        volume = pipeline.wait(CTX, volume_id, WAIT_TIMEOUT)
        assert (volume['status'], volume['host']) == ('available', 'fast')
    assert local.wait_idle(WAIT_TIMEOUT)
    _assert_exactly_the_quota(pipeline.db, [outcome])
    assert len(local.get_driver('fast').volumes) == QUOTA
