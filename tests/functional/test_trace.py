"""``create --trace``, ``create --fail-at TASK`` and ``trace VOLUME_ID``.

For every task of the three flows a failure is injected: the flow that
ran it reverts what it did, in reverse order, and nothing is left behind
(the invariants hold: quota usage equals the live volumes, no reservation
outstanding, no volume in ``creating``). The trace recorded for the
volume then shows the same events as the live one.
"""

import re

import pytest

from tests import invariants
from volflow import tracing

API_TASKS = ['ExtractVolumeRequestTask', 'QuotaReserveTask',
             'EntryCreateTask', 'QuotaCommitTask', 'VolumeCastTask']
_LINE = re.compile(r'^(api|scheduler|manager) +(\w+) +(execute|revert) ')


def _events(text):
    """``[(flow, task, action)]`` of a trace's lines."""
    found = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if match:
            found.append(match.groups())
    return found


def test_trace_shows_every_task_once_with_inputs_and_outputs(cli, project):
    result = cli.run('create', '--project-id', project, '--size', '1',
                     '--trace', '--format', 'json')
    assert result.rc == 0, result
    lines = result.err_lines
    assert [task for _flow, task, _action in _events(result.stderr)] == (
        tracing.task_names())
    assert all(len(line) <= tracing.WIDTH for line in lines)
    extract = next(line for line in lines
                   if ' ExtractVolumeRequestTask ' in line)
    assert "size<-raw_size='1'" in extract  # the rebind, and its value
    ref = next(line for line in lines if ' ExtractVolumeRefTask ' in line)
    assert '-> refreshed=<' in ref  # what it provided
    recorded = cli.run('trace', result.json['id'])
    assert recorded.rc == 0, recorded
    assert _events(recorded.stdout) == _events(result.stderr)


@pytest.mark.parametrize('task', tracing.task_names())
def test_fail_at_every_task_reverts_and_leaves_nothing(cli, project, task):
    result = cli.run('create', '--project-id', project, '--size', '1',
                     '--fail-at', task, '--trace', '--format', 'json')
    assert result.rc == 1, result
    assert f'Failure injected at {task}' in result.stderr
    events = _events(result.stderr)
    failed = [line for line in result.err_lines
              if f' {task} ' in line and ' FAILED ' in line]
    assert failed, result.stderr
    flow = failed[0].split()[0]
    # The flow that failed reverted every task it had run, last first.
    ran = [t for f, t, a in events if f == flow and a == 'execute']
    first = ran.index(task)
    reverted = [t for f, t, a in events if f == flow and a == 'revert']
    assert reverted[:first + 1] == ran[:first + 1][::-1], result.stderr
    invariants.assert_invariants(cli.db, [project])
    volumes = cli.volumes(project)
    if task in API_TASKS:
        assert volumes == []  # the API flow reverted: no row
    else:
        assert [v['status'] for v in volumes] == ['error']
        recorded = cli.run('trace', volumes[0]['id'])
        assert recorded.rc == 0, recorded
        assert _events(recorded.stdout) == events
        assert f' {task} ' in recorded.stdout


def test_fail_at_an_unknown_task_is_a_usage_error(cli):
    result = cli.run('create', '--size', '1', '--fail-at', 'NoSuchTask')
    assert result.rc == 2
    assert "'NoSuchTask' is not a task of the create flows" in result.stderr
    assert cli.volumes() == [] or all(
        v['status'] != 'creating' for v in cli.volumes())


def test_trace_of_an_unknown_volume_is_refused(cli):
    result = cli.run('trace', '00000000-0000-0000-0000-000000000000')
    assert result.rc == 1
    assert result.err_lines == [
        'volflow: error: Volume 00000000-0000-0000-0000-000000000000 '
        'could not be found.']


def test_trace_json_masks_secrets(cli, project):
    created = cli.run('create', '--project-id', project, '--size', '1',
                      '--description', 'password=hunter2',
                      '--format', 'json')
    assert created.rc == 0, created
    result = cli.run('trace', created.json['id'], '--format', 'json')
    assert result.rc == 0, result
    assert 'hunter2' not in result.stdout
    events = result.json
    assert {e['action'] for e in events} == {'execute'}
    extract = events[0]
    assert extract['inputs']['size'] == {'key': 'raw_size', 'value': '1'}


def test_debug_log_is_one_short_line_per_transition(cli, project):
    result = cli.run('--debug', 'create', '--project-id', project,
                     '--size', '1')
    assert result.rc == 0, result
    lines = [line.split('] ', 1)[1] for line in result.err_lines
             if 'transitioned into state' in line]
    # 13 tasks, each RUNNING then SUCCESS; 3 flows, RUNNING then SUCCESS.
    assert len(lines) == 2 * 13 + 2 * 3
    assert all(len(line) < 200 for line in lines), max(lines, key=len)
    done = [line for line in lines if line.startswith('Task ') and
            "into state 'SUCCESS'" in line]
    assert len(done) == 13
    assert all(re.search(r" in \d+\.\d ms", line) for line in done)
    assert 'with result' not in result.stderr
