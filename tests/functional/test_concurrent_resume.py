"""Two ``volflow resume`` at once, after a batch of creates was killed.

A ``create --count 20`` is SIGKILLed (its whole process group) once three
volume files exist, with flows of every kind left unfinished; two
``volflow resume`` then start at the same moment, with two CPU-bound
processes beside them so that the two interleave the way a loaded
machine makes them. Both must exit 0, and after them no volume may be
left ``creating`` and the invariants (``tests/invariants.py``) must hold.

Each round is a test of its own; ``VOLFLOW_RESUME_ROUNDS`` raises the
number of rounds to hunt for a race locally (CI runs the default).
"""

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.functional import conftest
from tests import invariants

ROUNDS = int(os.environ.get('VOLFLOW_RESUME_ROUNDS', '3'))
PROJECT = 'resumed'


def _spin(stop):
    while not stop.is_set():
        pass


@contextlib.contextmanager
def _busy_cpus(count=2):
    """``count`` processes spinning on a CPU each while the block runs."""
    stop = multiprocessing.Event()
    spinners = [multiprocessing.Process(target=_spin, args=(stop,))
                for _ in range(count)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        stop.set()
        for spinner in spinners:
            spinner.join(10)
            if spinner.is_alive():
                spinner.kill()


def _kill_batch_when_files(cli, files, timeout=120):
    """Start ``create --count 20``; SIGKILL it once ``files`` exist."""
    argv = [sys.executable, '-m', 'volflow', '--config-file',
            cli.config_file, 'create', '--size', '1', '--count', '20',
            '--format', 'json', '--project-id', PROJECT]
    batch = subprocess.Popen(argv, env=cli.env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while len(cli.files()) < files:
            assert batch.poll() is None, 'the batch ended before the kill'
            assert time.monotonic() < deadline, 'no volume files appeared'
            time.sleep(0.005)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(batch.pid, signal.SIGKILL)
        batch.wait()


@pytest.mark.parametrize('round_', range(ROUNDS))
def test_two_resumes_at_once_leave_nothing_creating(tmp_path, round_):
    cli = conftest.Cli(tmp_path, extra_config='quota_volumes = 1000\n')
    try:
        _kill_batch_when_files(cli, 3)
        assert any(v['status'] == 'creating' for v in cli.volumes()), (
            'the kill left nothing to resume')
        with _busy_cpus():
            resumes = cli.parallel(['resume', '--format', 'json'],
                                   ['resume', '--format', 'json'])
        for result in resumes:
            assert result.rc == 0, result
            json.loads(result.stdout)
        stuck = [v['id'] for v in cli.volumes() if v['status'] == 'creating']
        assert stuck == [], (stuck, [r.stdout for r in resumes])
        invariants.assert_invariants(cli.db, [PROJECT])
        assert len(cli.files()) == len(
            [v for v in cli.volumes() if v['status'] == 'available'])
    finally:
        cli.close()
