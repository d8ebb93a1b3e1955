"""Creates with a failure injected at one task: the crash matrix worker.

``python tests/functional/_crash_harness.py CONFIG MODE:TASK:PROJECT...``
runs each case in a child process of its own, forked once volflow is
imported and configured (two at a time, so that the matrix pays for one
interpreter start, not one per case), and prints ``{project: exit
status}`` as JSON: 0, or -9 for a child killed by SIGKILL.

A case creates a 1 GB volume for PROJECT through :class:`volflow.volume.
api.API` (the whole pipeline, in the child: the embedded default) and
waits for it, with TASK (a task class name of one of the three flows)
made to fail, as MODE says:

``raise``
    the task's ``execute`` raises ``RuntimeError``;
``kill``
    the process kills itself (SIGKILL) when the task reaches ``RUNNING``:
    taskflow recorded it as running, it did nothing;
``killafter``
    SIGKILL as soon as the task's ``execute`` returned: its effects are
    done, its result is not recorded - what resume's at-least-once must
    cope with;
``revertkill``
    the task raises, and the process is killed when taskflow starts
    reverting it: the flow is recorded half reverted.

The failure is injected here, from outside - ``engines.run_engine`` is
wrapped to register a taskflow listener, or the task class's ``execute``
is wrapped - so that volflow carries no test hooks.
"""

import functools
import json
import os
import signal
import sys

from taskflow import states

from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow import engines
from volflow import flow_utils
from volflow.flows.api import create_volume as api_flow
from volflow.flows.manager import create_volume as manager_flow
from volflow.flows.scheduler import create_volume as scheduler_flow
from volflow.rpc import local
from volflow.volume import api as volume_api

TIMEOUT = 30


def task_classes():
    """``{class name: class}`` of every task of the three flows."""
    return {name: cls
            for module in (api_flow, scheduler_flow, manager_flow)
            for name, cls in vars(module).items()
            if isinstance(cls, type) and
            issubclass(cls, flow_utils.VolflowTask) and
            cls.__module__ == module.__name__}


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_when(state, task):
    def listener(state, details):
        if details['task_name'].split(';')[0].endswith(f'.{task}'):
            _die()

    run_engine = engines.run_engine

    def listened(engine, logger=None):
        engine.atom_notifier.register(state, listener)
        return run_engine(engine, logger=logger)

    engines.run_engine = listened


def _wrap_execute(cls, mode):
    execute = cls.execute

    @functools.wraps(execute)
    def wrapped(self, *args, **kwargs):
        if type(self) is not cls:  # a subclass not overriding execute
            return execute(self, *args, **kwargs)
        if mode in ('raise', 'revertkill'):
            raise RuntimeError(f'injected failure in {cls.__name__}')
        result = execute(self, *args, **kwargs)
        _die()
        return result

    cls.execute = wrapped


def _case(mode, task, project):
    """One create, in a forked child; never returns."""
    if mode == 'kill':
        _kill_when(states.RUNNING, task)
    else:
        _wrap_execute(task_classes()[task], mode)
    if mode == 'revertkill':
        _kill_when(states.REVERTING, task)
    api = volume_api.API()
    ctx = volflow_context.RequestContext(user_id='crash', project_id=project)
    try:
        volume = api.create(ctx, 1, f'{task}-{mode}', None)
        api.wait(ctx, volume['id'], TIMEOUT)
    except Exception as exc:
        print(f'{project}: refused: {exc}', flush=True)
    local.wait_idle(TIMEOUT)
    os._exit(0)


def _status(wait_status):
    if os.WIFSIGNALED(wait_status):
        return -os.WTERMSIG(wait_status)
    return os.WEXITSTATUS(wait_status)


def main(config_file, *cases, parallel=2):
    # Nothing opens a database or starts a thread before the forks.
    volflow_conf.load(config_files=[config_file])
    running = {}
    statuses = {}
    for case in cases:
        mode, task, project = case.split(':')
        if len(running) >= parallel:
            pid, wait_status = os.wait()
            statuses[running.pop(pid)] = _status(wait_status)
        pid = os.fork()
        if pid == 0:
            _case(mode, task, project)
        running[pid] = project
    while running:
        pid, wait_status = os.wait()
        statuses[running.pop(pid)] = _status(wait_status)
    print(json.dumps(statuses), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
