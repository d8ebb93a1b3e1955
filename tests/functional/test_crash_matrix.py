"""Every task of the three flows fails or dies; ``volflow resume`` repairs.

For every task of the API, scheduler and manager flows, and each way it
can go wrong - it raises; its process is killed (SIGKILL) when the task
starts; its process is killed right after the task did its work, before
taskflow recorded it; it raises and the process is killed as the revert
begins - one create runs in a subprocess (forked by
``_crash_harness.py``) on a state directory with the file backend, acting
for a project of its own, on the embedded default's SQLite file, a
PostgreSQL or a MariaDB database. Then ``volflow resume`` runs once, as a
subprocess of the command line, over them all, and:

* the invariants hold: usage equals what the volumes add up to, no
  reservation is outstanding, no volume is ``creating``;
* no backend file is orphaned or missing: the files are exactly the
  volumes placed on the backend, and every ``available`` volume is there
  at its full size;
* each create ended as it should: one killed while running
  ``available`` (resume finishes it); one whose API flow raised without a
  volume (reverted, by resume if the process died reverting); one whose
  scheduler or manager flow raised ``error`` - and counted against quota
  until deleted;
* a second ``volflow resume`` finds nothing to do.

The creates run two at a time, forked from one harness that imported
volflow once, and share one state and one resume: the whole matrix costs
three interpreter starts.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.fixtures import databases
from tests.functional import _crash_harness
from tests.functional import conftest
from tests import invariants
from volflow import context as volflow_context

HARNESS = os.path.join(os.path.dirname(__file__), '_crash_harness.py')
GiB = 1024 ** 3

API_TASKS = ('ExtractVolumeRequestTask', 'QuotaReserveTask',
             'EntryCreateTask', 'QuotaCommitTask', 'VolumeCastTask')
SCHEDULER_TASKS = ('ExtractSchedulerSpecTask', 'ScheduleCreateVolumeTask')
MANAGER_TASKS = ('ExtractVolumeRefTask', 'OnFailureRescheduleTask',
                 'ExtractVolumeSpecTask', 'NotifyVolumeActionTask',
                 'CreateVolumeFromSpecTask', 'CreateVolumeOnFinishTask')
TASKS = API_TASKS + SCHEDULER_TASKS + MANAGER_TASKS
MODES = ('raise', 'kill', 'killafter', 'revertkill')
RAISING = ('raise', 'revertkill')
CASES = [(task, mode) for task in TASKS for mode in MODES]


def _project(task, mode):
    return f'{mode}-{task}'


def _expected(task, mode):
    """The status the case's volume ends in; None: no volume at all."""
    if mode not in RAISING:
        return 'available'
    return None if task in API_TASKS else 'error'


class Matrix:
    """Every case run, then one resume: what a test looks at."""

    def __init__(self, cli):
        self.cli = cli
        run = subprocess.run(
            [sys.executable, HARNESS, cli.config_file] +
            [f'{mode}:{task}:{_project(task, mode)}'
             for task, mode in CASES],
            capture_output=True, text=True, timeout=300, env=cli.env,
            stdin=subprocess.DEVNULL)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.splitlines()
        self.statuses = json.loads(lines[-1])
        self.output = '\n'.join(lines[:-1])
        self.resume = cli.run('resume', '--format', 'json')
        self.again = cli.run('resume', '--format', 'json')

    def volumes(self, task, mode):
        return self.cli.volumes(_project(task, mode))


@pytest.fixture(scope='module', params=databases.params(long=True))
def matrix(request, tmp_path_factory):
    """The matrix on the embedded default's SQLite file, or a server's."""
    connection = None
    if request.param != 'sqlite':
        connection = databases.fresh_url(request, request.param, 'crash')
    cli = conftest.Cli(tmp_path_factory.mktemp('crash'),
                       connection=connection)
    yield Matrix(cli)
    cli.close()


def test_every_task_of_the_three_flows_is_in_the_matrix():
    assert set(_crash_harness.task_classes()) == set(TASKS)


@pytest.mark.parametrize('task, mode', CASES)
def test_create_ends_as_it_should(matrix, task, mode):
    project = _project(task, mode)
    assert matrix.statuses[project] == (0 if mode == 'raise' else -9)
    volumes = matrix.volumes(task, mode)
    expected = _expected(task, mode)
    if expected is None:
        assert volumes == []
        if mode == 'raise':
            assert (f'{project}: refused: injected failure in {task}' in
                    matrix.output)
        return
    (volume,) = volumes
    assert volume['status'] == expected, volume.get('reason')
    usage = matrix.cli.usages(_project(task, mode))
    assert (usage['volumes']['in_use'], usage['gigabytes']['in_use']) == (
        1, 1)
    if expected == 'available':
        assert volume['host'] == 'local'
        path = os.path.join(matrix.cli.state_path, 'volumes', volume['id'])
        assert os.path.getsize(path) == GiB
    else:
        assert volume['host'] is None
        assert 'injected failure' in volume['reason']


def test_resume_succeeds(matrix):
    assert matrix.resume.rc == 0, matrix.resume
    flows = matrix.resume.json['flows']
    assert {f['outcome'] for f in flows} == {'finished', 'reverted'}
    killed = sum(1 for _task, mode in CASES if mode != 'raise')
    assert len({f['volume_id'] for f in flows}) == killed


def test_a_second_resume_has_nothing_to_do(matrix):
    assert matrix.again.rc == 0, matrix.again
    assert matrix.again.json['flows'] == []


def test_invariants_hold(matrix):
    projects = [_project(task, mode) for task, mode in CASES]
    invariants.assert_invariants(matrix.cli.db, projects)


def test_no_backend_file_is_orphaned_or_missing(matrix):
    admin = volflow_context.get_admin_context()
    volumes = matrix.cli.db.volume_get_all(admin)
    directory = os.path.join(matrix.cli.state_path, 'volumes')
    placed = {os.path.join(directory, v['id']) for v in volumes
              if v['host']}
    assert set(matrix.cli.files()) == placed
    assert all(v['host'] for v in volumes if v['status'] == 'available')
