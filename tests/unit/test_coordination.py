"""volflow.coordination: named locks, oslo.concurrency's in-process ones."""

import pytest

from tests import locks
from volflow import coordination


def test_a_held_lock_keeps_other_threads_out():
    with coordination.synchronized('v1-delete_volume'):
        assert not locks.free_elsewhere('v1-delete_volume')
    assert locks.free_elsewhere('v1-delete_volume')


def test_locks_of_other_names_are_independent():
    with coordination.synchronized('v1-delete_volume'):
        assert locks.free_elsewhere('v2-delete_volume')
        assert locks.free_elsewhere('v1-delete_snapshot')


def test_the_lock_is_given_back_when_the_block_raises():
    with pytest.raises(RuntimeError):
        with coordination.synchronized('v3-delete_volume'):
            raise RuntimeError('driver failed')
    assert locks.free_elsewhere('v3-delete_volume')
