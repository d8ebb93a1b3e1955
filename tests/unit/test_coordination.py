"""volflow.coordination: named locks, oslo.concurrency's in-process ones."""

import threading

from oslo_concurrency import lockutils
import pytest

from volflow import coordination


def _elsewhere(name):
    """Whether another thread gets the lock ``name`` at once."""
    got = []

    def attempt():
        try:
            with coordination.synchronized(name, blocking=False):
                got.append(True)
        except lockutils.AcquireLockFailedException:
            got.append(False)

    worker = threading.Thread(target=attempt)
    worker.start()
    worker.join(60)
    return got == [True]


def test_a_held_lock_keeps_other_threads_out():
    with coordination.synchronized('v1-delete_volume'):
        assert not _elsewhere('v1-delete_volume')
    assert _elsewhere('v1-delete_volume')


def test_locks_of_other_names_are_independent():
    with coordination.synchronized('v1-delete_volume'):
        assert _elsewhere('v2-delete_volume')
        assert _elsewhere('v1-delete_snapshot')


def test_the_lock_is_given_back_when_the_block_raises():
    with pytest.raises(RuntimeError):
        with coordination.synchronized('v3-delete_volume'):
            raise RuntimeError('driver failed')
    assert _elsewhere('v3-delete_volume')
