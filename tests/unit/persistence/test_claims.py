"""volflow.persistence._claims: who runs a recorded flow, and old records.

On the in-memory database and the memory persistence backend: the claims
are the database's (``flow_claim``), what this module adds is the owner
name, telling dead owners of this host, and the cleanup of old records.
"""

import datetime
import os
import socket
import subprocess
import sys

from oslo_utils import timeutils
from oslo_utils import uuidutils
import pytest
from taskflow import states

from volflow import context
from volflow.db import fake
from volflow import persistence
from volflow.persistence import _backend
from volflow.persistence import _claims

ADMIN = context.get_admin_context()


@pytest.fixture
def db_api():
    return fake.FakeAPI()


def _later(seconds=60):
    return timeutils.utcnow() + datetime.timedelta(seconds=seconds)


def _dead_pid():
    """The pid of a process of this host that has ended."""
    child = subprocess.Popen([sys.executable, '-c', 'pass'])
    child.wait()
    return child.pid


def test_the_owner_names_this_host_and_process():
    host, pid, tail = _claims.owner().rsplit(':', 2)
    assert (host, int(pid)) == (socket.gethostname(), os.getpid())
    assert len(tail) == 8
    assert _claims.owner() == _claims.owner()


def test_a_flow_claimed_elsewhere_is_not_ours_until_released(db_api, conf):
    flow = uuidutils.generate_uuid()
    assert db_api.flow_claim(ADMIN, flow, 'other:1:abc', _later())
    assert not _claims.claim(db_api, conf, flow)
    db_api.flow_claim_release(ADMIN, flow, 'other:1:abc')
    assert _claims.claim(db_api, conf, flow)
    assert [c['owner'] for c in db_api.flow_claim_get_all(ADMIN)] == [
        _claims.owner()]


def test_release_drops_only_our_claim(db_api, conf):
    ours, theirs = uuidutils.generate_uuid(), uuidutils.generate_uuid()
    assert _claims.claim(db_api, conf, ours)
    assert db_api.flow_claim(ADMIN, theirs, 'other:1:abc', _later())
    _claims.release(db_api, ours)
    _claims.release(db_api, theirs)
    assert [c['flow_uuid'] for c in db_api.flow_claim_get_all(ADMIN)] == [
        theirs]


def test_dead_owners_are_the_ended_processes_of_this_host(db_api):
    host = socket.gethostname()
    dead = f'{host}:{_dead_pid()}:deadbeef'
    elsewhere = f'another-{host}:{_dead_pid()}:cafecafe'
    for owner in (dead, elsewhere, _claims.owner()):
        assert db_api.flow_claim(ADMIN, uuidutils.generate_uuid(), owner,
                                 _later())
    assert _claims.dead_owners(db_api) == {dead}


def test_the_claim_of_a_dead_owner_is_taken_over(db_api, conf):
    flow = uuidutils.generate_uuid()
    dead = f'{socket.gethostname()}:{_dead_pid()}:deadbeef'
    assert db_api.flow_claim(ADMIN, flow, dead, _later())
    assert not _claims.claim(db_api, conf, flow)
    assert _claims.claim(db_api, conf, flow, _claims.dead_owners(db_api))


def _record(backend, state):
    detail = persistence.new_detail(
        'volume_create_api', uuidutils.generate_uuid(), 'api',
        uuidutils.generate_uuid(), 'volflow.flows.factories.api_flow', {},
        {}, None)
    detail.state = state
    assert persistence.create_detail(backend.get_connection(), detail,
                                     'api')
    return detail.uuid


def test_cleanup_removes_finished_records_past_retention(
        db_api, conf, conf_override):
    backend = _backend.MemoryBackend()
    done = _record(backend, states.SUCCESS)
    reverted = _record(backend, states.REVERTED)
    running = _record(backend, states.RUNNING)
    conf_override('logbook_retention', 3600, group='taskflow')
    assert _claims.cleanup(db_api, backend, conf) == 0
    conf_override('logbook_retention', 0, group='taskflow')
    assert _claims.cleanup(db_api, backend, conf) == 2
    left = [uuid for uuid, _state, _meta in _backend.details(backend)]
    assert left == [running]
    assert done not in left and reverted not in left
