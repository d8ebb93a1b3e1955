"""The steps around a create flow's load: record, claim, track, release.

Every test loads a real taskflow engine the way the flow modules'
``get_flow`` does - :func:`volflow.engines.record`, then
``taskflow.engines.load``, then :func:`volflow.engines.track` - on a
SQLite database (taskflow's SQL backend, claims in the volflow tables).
"""

import gc
import os
import socket
import subprocess
import sys
import threading

import pytest
import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow import states
from taskflow import task

from volflow import context as volflow_context
from volflow import db as volflow_db
from volflow import engines
from volflow import persistence
from volflow.persistence import _claims
from volflow import quota

FACTORY = 'tests.unit.test_engines.build_flow'


class Step(task.Task):
    """Counts its runs and gives back the class of the context it got."""

    runs = 0

    def execute(self, context, size):
        type(self).runs += 1
        return type(context).__name__, size


class Fails(task.Task):
    def execute(self):
        raise RuntimeError('step failed')


def build_flow(fail=False):
    """The flow under test (and its factory, as recorded)."""
    flow = linear_flow.Flow('engines_under_test').add(Step('step'))
    if fail:
        flow.add(Fails('fails'))
    return flow


@pytest.fixture
def world(conf, tmp_path):
    Step.runs = 0
    db_api = volflow_db.get_api(f"sqlite:///{tmp_path / 'v.sqlite'}",
                                conf=conf)
    yield World(conf, db_api)
    gc.collect()  # engines left unrun drop their claims before reset
    volflow_db.reset_apis()
    persistence.reset()


class World:
    def __init__(self, conf, db_api):
        self.conf = conf
        self.db = db_api
        self.admin = volflow_context.get_admin_context()
        self.ctx = volflow_context.RequestContext(user_id='u1',
                                                  project_id='p1')

    def record(self, volume_id='v1'):
        return persistence.Record(
            'api', volume_id, FACTORY, {}, self.db,
            uuid=persistence.flow_uuid(volume_id, 'test'))

    def load(self, run, fail=False):
        """What a ``get_flow`` does: record, load, track."""
        flow = build_flow(fail)
        store = {'context': self.ctx, 'size': 3}
        recorded = engines.record(flow, store, run, self.conf)
        kind, options = engines.engine_options(self.conf, 'serial')
        engine = taskflow.engines.load(
            flow, store=recorded.store, engine=kind,
            backend=recorded.backend, flow_detail=recorded.flow_detail,
            **options)
        return engines.track(engine, recorded), recorded

    def claims(self):
        return {c['flow_uuid']: c['owner']
                for c in self.db.flow_claim_get_all(self.admin)}

    def detail(self, flow_uuid):
        backend = persistence.get_backend(self.db, self.conf)
        return persistence.existing(backend.get_connection(), flow_uuid)


def test_a_recorded_run_is_recorded_then_claimed(world, monkeypatch):
    """Never a claim without its record.

    On SQL, where the records and the claims share the database, the
    claim is written in the record's own transaction: no separate
    ``flow_claim`` (which would find the record there).
    """
    run = world.record()
    seen = []
    claim = world.db.flow_claim

    def flow_claim(context, flow_uuid, *args, **kwargs):
        seen.append(world.detail(flow_uuid) is not None)
        return claim(context, flow_uuid, *args, **kwargs)

    monkeypatch.setattr(world.db, 'flow_claim', flow_claim)
    engine, recorded = world.load(run)
    assert seen == []
    assert world.claims() == {run.uuid: _claims.owner()}
    assert recorded.flow_detail.uuid == run.uuid
    assert engine.storage.flow_uuid == run.uuid
    assert recorded.store is None  # injected by track, transiently
    detail = world.detail(run.uuid)
    assert [(ad.name, ad.state) for ad in detail] == [
        ('step', states.PENDING)]


def test_a_tracked_run_records_its_progress_and_drops_its_claim(world):
    run = world.record()
    engine, _recorded = world.load(run)
    assert engines.run_engine(engine)
    # The tasks got the real context; taskflow recorded the result.
    assert engine.storage.get_execute_result('step') == (
        'RequestContext', 3)
    detail = world.detail(run.uuid)
    assert detail.state == states.SUCCESS
    assert [(ad.name, ad.state, ad.results) for ad in detail] == [
        ('step', states.SUCCESS, ['RequestContext', 3])]
    assert world.claims() == {}


def test_a_failed_run_drops_its_claim_too(world):
    run = world.record()
    engine, _recorded = world.load(run, fail=True)
    with pytest.raises(RuntimeError, match='step failed'):
        engines.run_engine(engine)
    assert world.detail(run.uuid).state == states.REVERTED
    assert world.claims() == {}


def test_a_run_recorded_before_is_a_duplicate_and_does_not_run(world):
    first, _recorded = world.load(world.record())
    second, recorded = world.load(world.record())
    assert recorded.duplicate and recorded.flow_detail is None
    assert not engines.run_engine(second)
    assert Step.runs == 0
    # The first keeps its claim, and runs.
    assert world.claims() == {world.record().uuid: _claims.owner()}
    assert engines.run_engine(first)
    assert Step.runs == 1
    assert world.claims() == {}


def test_a_request_sent_again_after_its_run_is_not_run_again(world):
    """The claim is gone with the first run; the record says it ran."""
    first, _recorded = world.load(world.record())
    assert engines.run_engine(first)
    again, recorded = world.load(world.record())
    assert recorded.duplicate
    assert not engines.run_engine(again)
    assert Step.runs == 1
    assert world.detail(world.record().uuid).state == states.SUCCESS


def test_a_run_a_live_process_claimed_is_a_duplicate(world):
    """A ``volflow resume`` elsewhere found the record and claimed it."""
    run = world.record()
    other = f'{socket.gethostname()}:{os.getppid()}:resumer'
    assert world.db.flow_claim(
        world.admin, run.uuid, other,
        quota.timeutils.utcnow() + quota.datetime.timedelta(hours=1))
    engine, recorded = world.load(run)
    assert recorded.duplicate
    assert world.detail(run.uuid) is not None  # recorded all the same
    assert not engines.run_engine(engine)
    assert Step.runs == 0
    assert world.claims() == {run.uuid: other}


def test_a_dead_process_claim_is_taken_over(world):
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    run = world.record()
    assert world.db.flow_claim(
        world.admin, run.uuid, f'{socket.gethostname()}:{dead.pid}:dead',
        quota.timeutils.utcnow() + quota.datetime.timedelta(hours=1))
    engine, recorded = world.load(run)
    assert not recorded.duplicate
    assert world.claims() == {run.uuid: _claims.owner()}
    assert engines.run_engine(engine)
    assert Step.runs == 1


def test_an_engine_dropped_unrun_drops_its_claim(world):
    run = world.record()
    engine, recorded = world.load(run)
    assert world.claims() == {run.uuid: _claims.owner()}
    del engine, recorded
    gc.collect()
    assert world.claims() == {}
    # Still recorded: resume finds it.
    assert world.detail(run.uuid).state == states.PENDING


@pytest.mark.parametrize('persistence_enabled', [True, False])
def test_an_unrecorded_run_is_kept_in_memory(world, conf_override,
                                             persistence_enabled):
    conf_override('persistence_enabled', persistence_enabled,
                  group='taskflow')
    run = None if persistence_enabled else world.record()
    engine, recorded = world.load(run)
    assert (recorded.flow_detail, recorded.backend) == (None, None)
    assert recorded.store == {'context': world.ctx, 'size': 3}
    assert engines.run_engine(engine)
    assert Step.runs == 1
    assert world.claims() == {}
    assert world.detail(engine.storage.flow_uuid) is None


class Waits(task.Task):
    """Lets its flow's run go on only when told; says it started."""

    def execute(self, started, go):
        started.set()
        assert go.wait(60)


def test_wait_ended_returns_once_the_run_recorded_its_end(world):
    """What the in-process rpc waits for before a receiving flow runs."""
    run = world.record()
    flow = linear_flow.Flow('engines_under_test').add(Waits('waits'))
    started, go = threading.Event(), threading.Event()
    recorded = engines.record(flow, {'context': world.ctx}, run,
                              world.conf)
    engine = engines.track(taskflow.engines.load(
        flow, store=recorded.store, engine='serial',
        backend=recorded.backend, flow_detail=recorded.flow_detail),
        recorded)
    engine.storage.inject({'started': started, 'go': go}, transient=True)
    runner = threading.Thread(target=engines.run_engine, args=(engine,))
    runner.start()
    assert started.wait(60)
    assert not engines.wait_ended(run.uuid, timeout=0)  # under way
    go.set()
    assert engines.wait_ended(run.uuid, timeout=60)
    # Ended: its final state recorded, its claim dropped.
    assert world.detail(run.uuid).state == states.SUCCESS
    assert world.claims() == {}
    runner.join(60)
    assert engines.wait_ended('never-run', timeout=0)
