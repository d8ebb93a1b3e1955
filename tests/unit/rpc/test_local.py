"""volflow.rpc.local: the in-process rpc keeps a transport's semantics.

The whole pipeline in this process - API, scheduler and volume managers
with the seeded ``local`` file backend under the test's state path - on
the in-memory database.
"""

import os
import threading

import pytest
from taskflow import storage

from tests import invariants
from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow import exception
from volflow import persistence
from volflow.rpc import local
from volflow import tracing
from volflow.volume import api as volume_api

CTX = volflow_context.RequestContext(user_id='u1', project_id='p1')
TIMEOUT = 60


@pytest.fixture
def vapi(conf, conf_override):
    conf_override('jobboard_enabled', False, group='taskflow')
    db_api = fake_db.FakeAPI()
    db_api.seed()
    local.reset(TIMEOUT)
    yield volume_api.API(db_api=db_api, conf=conf)
    assert local.wait_idle(TIMEOUT)
    local.reset(TIMEOUT)


def _file(conf, volume):
    return local.get_driver('local', conf).local_path(volume)


def test_a_create_returns_while_the_cast_runs_on(vapi, conf):
    volume = vapi.create(CTX, 1, 'v', None)
    assert volume['status'] == 'creating'  # the API flow's result
    assert local.wait_idle(TIMEOUT)
    done = vapi.get(CTX, volume['id'])
    assert (done['status'], done['host'].split('#')[0]) == (
        'available', 'local')
    invariants.assert_invariants(vapi.db, ['p1'])


def test_a_delete_is_a_call_that_has_finished_when_it_returns(vapi, conf):
    volume = vapi.create(CTX, 1, 'v', None)
    with pytest.raises(exception.InvalidVolume, match="not 'creating'"):
        vapi.delete(CTX, volume['id'])  # refused: still creating
    assert vapi.wait(CTX, volume['id'], TIMEOUT)['status'] == 'available'
    assert os.path.getsize(_file(conf, volume)) == 1024 ** 3
    vapi.delete(CTX, volume['id'])
    with pytest.raises(exception.VolumeNotFound):
        vapi.get(CTX, volume['id'])
    assert not os.path.exists(_file(conf, volume))
    usage = vapi.db.quota_usage_get_all(CTX, 'p1')
    assert (usage['volumes']['in_use'], usage['gigabytes']['in_use']) == (
        0, 0)
    invariants.assert_invariants(vapi.db, ['p1'])


def test_the_managers_are_built_once_per_database(vapi, conf):
    again = local.get_rpcapis(vapi.db, vapi.image_service, conf)
    assert again == (vapi.scheduler_rpcapi, vapi.volume_rpcapi)
    other = fake_db.FakeAPI()
    assert local.get_rpcapis(other, vapi.image_service, conf)[0] is not (
        vapi.scheduler_rpcapi)


def test_a_cast_waits_for_the_volumes_previous_message_without_a_worker(
        conf):
    """A message about a busy volume takes no worker until its turn.

    More casts than the executor has workers wait behind one running
    message about a volume; a message about another volume still runs.
    """
    sequencer = local._Sequencer()
    release = threading.Event()
    ran = []
    sequencer.cast('v1', 'first', release.wait, TIMEOUT)
    for index in range(conf.taskflow.max_workers + 1):
        sequencer.cast('v1', f'next {index}', ran.append, index)
    other = sequencer.cast('v2', 'other', ran.append, 'other')
    other.result(TIMEOUT)
    assert ran == ['other']  # the v1 messages wait for the first
    release.set()
    assert sequencer.wait_all(TIMEOUT)
    assert ran == ['other'] + list(range(conf.taskflow.max_workers + 1))


def test_the_scheduler_flow_runs_once_the_api_flow_has_ended(
        vapi, conf, monkeypatch):
    """Its first task runs after the API flow's final state is recorded.

    As a message leaves once its sender's transaction commits: the
    receiving flow never races the end of the sending one. The API
    flow's final write is held back until a scheduler task has run, or
    for a second: a scheduler flow that did not wait runs meanwhile.
    """
    backend = persistence.get_backend(vapi.db, conf)
    scheduled = threading.Event()
    seen = []
    set_flow_state = storage.Storage.set_flow_state

    def held_back(self, state):
        if self.flow_name == 'volume_create_api' and state == 'SUCCESS':
            scheduled.wait(1)
        return set_flow_state(self, state)

    def sink(event):
        if event['flow'] != 'volume_create_api' and not seen:
            seen.append((event['flow'], [
                state for _uuid, state, meta in persistence.details(backend)
                if (persistence.ours(meta) or {}).get('kind') == 'api']))
            scheduled.set()

    monkeypatch.setattr(storage.Storage, 'set_flow_state', held_back)
    tracing.enable(sink)
    try:
        volume = vapi.create(CTX, 1, 'v', None)
        assert vapi.wait(CTX, volume['id'], TIMEOUT)['status'] == (
            'available')
    finally:
        tracing.disable()
    assert seen == [('volume_create_scheduler', ['SUCCESS'])]
