"""What this process holds: its owner name, claims held and dropped."""

import os
import socket

from volflow.persistence import _held


def test_the_owner_names_this_host_and_process():
    host, pid, rest = _held.owner().rsplit(':', 2)
    assert (host, pid) == (socket.gethostname(), str(os.getpid()))
    assert len(rest) == 8
    assert _held.owner() == _held.owner()


def test_a_claim_dropped_with_its_final_state_is_held_no_more():
    key = (id(object()), 'flow-held-test')
    with _held.LOCK:
        _held.HELD[key] = object()
    try:
        assert _held.held('flow-held-test')
        assert not _held.held('another-flow')
        _held.dropped_with_state('flow-held-test')
        assert not _held.held('flow-held-test')
    finally:
        with _held.LOCK:
            _held.HELD.pop(key, None)
            _held.DROPPED.discard('flow-held-test')


def test_a_claim_row_is_this_process_s_until_the_expiry(conf):
    row = _held.claim_row(conf, 'f1')
    assert (row['flow_uuid'], row['owner']) == ('f1', _held.owner())
    lifetime = row['expire'] - _held.timeutils.utcnow()
    assert 0 < lifetime.total_seconds() <= conf.taskflow.flow_claim_expiry
