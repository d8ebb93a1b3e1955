"""Creates as jobboard jobs, run by conductors apart, on real servers.

One Redis server and one PostgreSQL server per session; per module a
database and a jobboard namespace of its own, and conductors - each
``python -m volflow conductor`` in a subprocess - sharing them with the
command line, which acts as the API. Claims expire after 3 seconds, so
that a takeover is quick. The backends, all with the fake driver:

* ``fast``: 0.2 s per driver call, the most free space: every create of
  the default type goes there; the window to kill or stop a conductor in;
* ``bad``: fails every creation; with ``spare``, the backends of volume
  type ``flaky`` (``bad`` has more free space, so it is tried first and
  the volume is rescheduled to ``spare``);
* ``slow``: 2 s per driver call, reached only through volume type
  ``slow``: time enough to start another conductor before stopping one.

After each test every volume is ``available`` or ``error``, the
invariants (``tests/invariants.py``) hold, no job is left on the board and no
job's logbook is left in the database.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid

from oslo_config import cfg
import pytest
import sqlalchemy as sa
from taskflow.jobs import backends as job_backends
from taskflow import states

from tests.fixtures import postgres
from tests.functional import conftest as functional
from tests import invariants
from volflow.conf import core
from volflow.conf import taskflow as taskflow_conf
from volflow import context as volflow_context
from volflow.db.sqlalchemy import api as sql_api
from volflow.flows import jobs
from volflow.rpc import jobboard

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

EXPIRY = 3
_START_TIMEOUT = 30
_TIMEOUT = 60
#: The debug line of a conductor starting a job's step.
_RUNNING_STEP = re.compile(r'\(volume ([0-9a-f-]{36})\): running '
                           r'volume-create-manager')

_CONFIG = """
enabled_backends = fast,bad,spare,slow
quota_volumes = -1
quota_gigabytes = -1
create_timeout = {timeout}

[database]
connection = {url}

[fast]
volume_driver = fake
fake_latency = 0.2
total_capacity_gb = 100000

[bad]
volume_driver = fake
fake_failure_rate = 1.0
volume_backend_name = flaky
total_capacity_gb = 50

[spare]
volume_driver = fake
volume_backend_name = flaky
total_capacity_gb = 40

[slow]
volume_driver = fake
fake_latency = 2.0
volume_backend_name = slow
total_capacity_gb = 10

[taskflow]
jobboard_enabled = true
jobboard_backend_hosts = {host}
jobboard_backend_port = {port}
jobboard_backend_password = {password}
jobboard_backend_namespace = {namespace}
jobboard_expiration_time = {expiry}
"""


class Deployment(functional.Cli):
    """Conductors and the command line on one database and jobboard."""

    def __init__(self, root, redis, db_url):
        self.namespace = f'volflow-test-{uuid.uuid4().hex[:8]}'
        self.redis = redis
        self.db_url = db_url
        super().__init__(root, extra_config=_CONFIG.format(
            timeout=_TIMEOUT, url=db_url, host=redis.host, port=redis.port,
            password=redis.password, namespace=self.namespace,
            expiry=EXPIRY))
        self.conductors = {}
        self._db = sql_api.SQLAPI(db_url)

    def log_path(self, name):
        return os.path.join(self.root, f'{name}.log')

    def log(self, name):
        with open(self.log_path(name)) as log:
            return log.read()

    def start_conductor(self, name):
        argv = [sys.executable, '-m', 'volflow', '--config-file',
                self.config_file, '--debug', '--log-file',
                self.log_path(name), 'conductor', '--name', name]
        process = subprocess.Popen(argv, env=self.env,
                                   stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
        self.conductors[name] = process
        self.wait_for_log(name, 'Conductor .* started', _START_TIMEOUT)
        return process

    def wait_for_log(self, name, pattern, timeout, poll=0.01):
        """The first match of ``pattern`` in a conductor's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.log_path(name)):
                match = re.search(pattern, self.log(name))
                if match:
                    return match
            process = self.conductors[name]
            if process.poll() is not None:
                raise AssertionError(
                    f'conductor {name} exited {process.returncode}: '
                    f'{process.stderr.read()}\n{self.log(name)[-3000:]}')
            time.sleep(poll)
        raise AssertionError(f'conductor {name}: no {pattern!r} after '
                             f'{timeout}s:\n{self.log(name)[-3000:]}')

    def stop_conductor(self, name, sig=signal.SIGTERM, timeout=30):
        """Signal a conductor; return its exit status."""
        process = self.conductors.pop(name)
        if process.poll() is None:
            process.send_signal(sig)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(
                f'conductor {name} still running {timeout}s after '
                f'{sig!r}:\n{self.log(name)[-3000:]}') from None
        finally:
            process.stderr.close()

    def stop_all(self):
        for name in list(self.conductors):
            process = self.conductors[name]
            if process.poll() is None:
                process.kill()
            self.stop_conductor(name)

    # Oracles ---------------------------------------------------------------
    def job_states(self):
        """The state of every job on the board, claimed or not."""
        board = job_backends.fetch('test', {
            'board': 'redis', 'host': self.redis.host,
            'port': self.redis.port, 'password': self.redis.password,
            'namespace': self.namespace})
        board.connect()
        try:
            return [job.state for job in board.iterjobs(
                ensure_fresh=True, only_unclaimed=False)]
        finally:
            board.close()

    def job_logbooks(self):
        engine = sa.create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(
                    "SELECT count(*) FROM logbooks WHERE name LIKE "
                    "'volume-create-%'")).scalar()
        finally:
            engine.dispose()

    def check_clean(self, project_ids=()):
        """Invariants hold; no job and no job logbook is left."""
        invariants.assert_invariants(self.db, project_ids)
        assert self.job_states() == []
        assert self.job_logbooks() == 0

    def close(self):
        self.stop_all()
        super().close()


@pytest.fixture(scope='module')
def deployment(redis_server, postgres_url, tmp_path_factory):
    name = f'jobboard_{uuid.uuid4().hex[:8]}'
    db_url = postgres.create_database(postgres_url, name)
    state = Deployment(tmp_path_factory.mktemp('jobboard'), redis_server,
                       db_url)
    yield state
    state.close()
    state.db.dispose()
    postgres.drop_database(postgres_url, name)


def _conductors(deployment, *names):
    """Exactly these conductors running (started as needed)."""
    for name in list(deployment.conductors):
        if name not in names:
            assert deployment.stop_conductor(name) == 0
    for name in names:
        if name not in deployment.conductors:
            deployment.start_conductor(name)


def _create(deployment, project, *args, wait=True):
    argv = ['create', '--size', '1', '--project-id', project,
            '--format', 'json', *args]
    if not wait:
        return subprocess.Popen(
            [sys.executable, '-m', 'volflow', '--config-file',
             deployment.config_file, *argv], env=deployment.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
    return deployment.run(*argv, timeout=_TIMEOUT + 30)


def test_conductor_needs_the_jobboard(tmp_path):
    cli = functional.Cli(tmp_path)
    result = cli.run('conductor')
    assert result.rc == 1, result
    assert 'jobboard_enabled' in result.stderr


def test_creates_run_on_conductors(deployment, project):
    _conductors(deployment, 'c1', 'c2')
    result = _create(deployment, project, '--count', '6')
    assert result.rc == 0, result
    volumes = result.json
    assert [v['status'] for v in volumes] == ['available'] * 6
    assert {v['host'] for v in volumes} == {'fast'}
    ran = [len(re.findall(r'running volume-create-manager',
                          deployment.log(name))) for name in ('c1', 'c2')]
    assert sum(ran) >= 6
    deployment.check_clean([project])


def test_a_reschedule_is_the_next_step_of_the_same_job(deployment,
                                                       project):
    _conductors(deployment, 'c1', 'c2')
    deployment.run('type-create', 'flaky', '--property',
                   'volume_backend_name=flaky')
    result = _create(deployment, project, '--volume-type', 'flaky')
    assert result.rc == 0, result
    volume = result.json
    assert (volume['status'], volume['host']) == ('available', 'spare')
    logs = deployment.log('c1') + deployment.log('c2')
    steps = re.findall(rf"\(volume {volume['id']}\): running "
                       rf"(volume-create-\w+-\d)", logs)
    assert steps == ['volume-create-scheduler-0', 'volume-create-manager-1',
                     'volume-create-scheduler-2', 'volume-create-manager-3']
    deployment.check_clean([project])


def test_kill_9_mid_create_under_load(deployment, project):
    """A conductor killed mid-create: another takes its job over."""
    _conductors(deployment, 'c1', 'c2', 'victim')
    creating = _create(deployment, project, '--count', '20', wait=False)
    match = deployment.wait_for_log('victim', _RUNNING_STEP, _TIMEOUT)
    deployment.conductors['victim'].kill()
    assert deployment.stop_conductor('victim') == -signal.SIGKILL
    stdout, stderr = creating.communicate(timeout=_TIMEOUT + 30)
    volumes = json.loads(stdout)
    assert len(volumes) == 20
    assert {v['status'] for v in volumes} <= {'available', 'error'}, stderr
    orphan = match.group(1)
    assert orphan in {v['id'] for v in volumes}
    takeover = f'(volume {orphan}): taking it over'
    assert any(takeover in deployment.log(name) for name in ('c1', 'c2'))
    assert deployment.db.volume_get(volflow_context.get_admin_context(),
                                    orphan)['status'] == 'available'
    deployment.check_clean([project])


def test_sigterm_abandons_the_job_for_another_conductor(deployment,
                                                        project):
    """A stopped conductor hands its job over at once, not at expiry."""
    _conductors(deployment, 'stopping')
    deployment.run('type-create', 'slow', '--property',
                   'volume_backend_name=slow')
    creating = _create(deployment, project, '--volume-type', 'slow',
                       wait=False)
    match = deployment.wait_for_log('stopping', _RUNNING_STEP, _TIMEOUT)
    assert deployment.stop_conductor('stopping') == 0
    # Abandoned after the task it was running, not left to expire.
    assert re.search(r"received SIGTERM.*stopped: \{'stopped': 1\}",
                     deployment.log('stopping'), re.DOTALL)
    assert deployment.job_states() == [states.UNCLAIMED]
    deployment.start_conductor('c3')
    stdout, stderr = creating.communicate(timeout=_TIMEOUT)
    assert creating.returncode == 0, stderr
    volume = json.loads(stdout)
    assert (volume['id'], volume['status']) == (match.group(1), 'available')
    assert (f'(volume {volume["id"]}): taking it over' in
            deployment.log('c3'))
    deployment.check_clean([project])


def test_the_jobboard_password_is_never_logged(deployment, project):
    _conductors(deployment, 'c1')
    result = deployment.run('--debug', 'create', '--size', '1',
                            '--project-id', project)
    assert result.rc == 0, result
    assert 'jobboard_backend_password' in deployment.log('c1')
    logs = [result.stderr, result.stdout] + [
        deployment.log(name[:-4]) for name in os.listdir(deployment.root)
        if name.endswith('.log')]
    assert not [log for log in logs if deployment.redis.password in log]
    deployment.check_clean([project])


def test_a_cast_sent_again_posts_no_second_job(deployment, project):
    """An API flow resumed after a crash casts again: one job only."""
    _conductors(deployment)
    conf = cfg.ConfigOpts()
    for module in (core, taskflow_conf):
        module.register_opts(conf)
    conf(args=[], default_config_files=[deployment.config_file])
    ctx = volflow_context.RequestContext(user_id='u', project_id=project)
    volume = {'id': str(uuid.uuid4()), 'host': None}
    step = jobs.scheduler_step(ctx, volume)
    try:
        assert jobboard.post(step, deployment.db, conf) is not None
        assert jobboard.post(step, deployment.db, conf) is None
        assert deployment.job_states() == [states.UNCLAIMED]
    finally:
        jobboard.close_boards()
    # A conductor runs it: the volume does not exist, nothing is left.
    _conductors(deployment, 'c1')
    deadline = time.monotonic() + _TIMEOUT
    while deployment.job_states() and time.monotonic() < deadline:
        time.sleep(0.1)
    deployment.check_clean([project])
