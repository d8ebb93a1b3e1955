"""Flow persistence and resume, in one process.

A crash is simulated by a task raising a ``BaseException`` taskflow does
not catch: the run stops where it is, recorded as it was (the task
``RUNNING``), and the engine is dropped, as a dead process drops it. Then
:func:`volflow.recovery.resume_all` must finish or revert the flow.
Each test runs on the in-memory database (memory backend), on a SQLite
file and on PostgreSQL (taskflow's SQL backend, values through JSON).
"""

import gc
import logging
import socket
import subprocess
import sys
import uuid

from oslo_messaging.notify import _impl_test
import pytest
import sqlalchemy
from taskflow.patterns import linear_flow
from taskflow import retry
from taskflow import task

from tests.fixtures import databases
from tests import invariants
from volflow import conf as volflow_conf
from volflow.conf import backend as backend_conf
from volflow import context as volflow_context
from volflow import db as volflow_db
from volflow import engines
from volflow import exception
from volflow.flows.api import create_volume as api_flow
from volflow.flows import factories
from volflow.flows.manager import create_volume as manager_flow
from volflow.flows.scheduler import create_volume as scheduler_flow
from volflow import persistence
from volflow.persistence import _claims as persistence_claims
from volflow import quota
from volflow import recovery
from volflow.rpc import local
from volflow.volume import api as volume_api
from volflow.volume import backends

LOG = logging.getLogger(__name__)
TIMEOUT = 30


class _Crash(BaseException):
    """What a process dying looks like to the flow: nothing more runs."""


def _forget():
    assert local.wait_idle(TIMEOUT)
    local.reset()
    volflow_db.reset_apis()
    persistence.reset()
    _impl_test.reset()


@pytest.fixture(params=['memory', 'sqlite', *databases.params(
    'postgresql', 'mysql')])
def world(request, conf_override, tmp_path):
    conf_override('persistence_connection', None, group='taskflow')
    conf_override('jobboard_enabled', False, group='taskflow')
    if request.param in ('postgresql', 'mysql'):
        connection = databases.fresh_url(request, request.param, 'persist')
    elif request.param == 'sqlite':
        connection = f"sqlite:///{tmp_path / 'volflow.sqlite'}"
    else:
        connection = 'memory://'
    conf_override('state_path', str(tmp_path / 'state'))
    conf_override('connection', connection, group='database')
    conf_override('driver', ['test'], group='oslo_messaging_notifications')
    _forget()
    yield World(volflow_conf.CONF)
    _forget()


class World:
    """The configured deployment, acting for project ``p1``."""

    def __init__(self, conf):
        self.conf = conf
        self.api = volume_api.API()
        self.db = self.api.db
        self.ctx = volflow_context.RequestContext(user_id='u1',
                                                  project_id='p1')

    def engine(self, size=1, volume_uuid=None):
        """The API flow's engine for a create, as ``API.create`` loads it."""
        create_what = {
            'context': self.ctx, 'volume_uuid': volume_uuid, 'raw_size': size,
            'name': 'v', 'description': None, 'snapshot': None,
            'image_id': None, 'raw_volume_type': None, 'metadata': None,
            'raw_availability_zone': None, 'source_volume': None,
            'optional_args': {'is_quota_committed': False}}
        return api_flow.get_flow(
            self.db, self.api.image_service,
            backends.availability_zones(self.conf), create_what,
            scheduler_rpcapi=self.api.scheduler_rpcapi,
            volume_rpcapi=self.api.volume_rpcapi, conf=self.conf)

    def crash_at(self, task_class, monkeypatch, after=False):
        """Run an API flow until ``task_class`` starts; its volume id.

        ``after``: until the task has done its work, before taskflow
        records its result.
        """
        engine = self.engine()
        volume_id = engine.storage.fetch('volume_uuid')
        original = task_class.execute

        def crash(task, *args, **kwargs):
            if after:
                original(task, *args, **kwargs)
            raise _Crash()

        with monkeypatch.context() as patch:
            patch.setattr(task_class, 'execute', _with_signature(
                original, crash, bound=True))
            with pytest.raises(_Crash):
                engines.run_engine(engine, logger=LOG)
        del engine
        gc.collect()  # the dead process's claim goes with its engine
        return volume_id

    def volumes(self):
        return self.db.volume_get_all(volflow_context.get_admin_context())

    def check(self):
        assert local.wait_idle(TIMEOUT)
        invariants.assert_invariants(self.db, ['p1'])


def _with_signature(original, replacement, bound=False):
    """``replacement`` with ``original``'s signature (taskflow reads it).

    ``bound``: ``replacement`` takes the task too, as its first argument.
    """
    def execute(self, *args, **kwargs):
        if bound:
            return replacement(self, *args, **kwargs)
        return replacement(*args, **kwargs)
    execute.__wrapped__ = original
    return execute


# Resuming -------------------------------------------------------------------
@pytest.mark.parametrize('task_class', [api_flow.EntryCreateTask,
                                        api_flow.QuotaCommitTask,
                                        api_flow.VolumeCastTask])
def test_resume_finishes_an_interrupted_create(world, monkeypatch,
                                               task_class):
    volume_id = world.crash_at(task_class, monkeypatch)
    summary = recovery.resume_all(world.conf)
    assert [(f['kind'], f['outcome'], f['volume_id'])
            for f in summary['flows']] == [('api', 'finished', volume_id)]
    volume = world.api.wait(world.ctx, volume_id, TIMEOUT)
    assert volume['status'] == 'available'
    world.check()
    assert recovery.resume_all(world.conf)['flows'] == []


def test_a_reservation_expired_before_the_commit_reverts(world,
                                                         monkeypatch):
    volume_id = world.crash_at(api_flow.QuotaCommitTask, monkeypatch)
    admin = volflow_context.get_admin_context()
    far = quota.timeutils.utcnow() + quota.datetime.timedelta(days=30)
    assert world.db.reservation_expire(admin, far) > 0
    summary = recovery.resume_all(world.conf)
    assert [f['outcome'] for f in summary['flows']] == ['reverted']
    with pytest.raises(exception.VolumeNotFound):
        world.db.volume_get(admin, volume_id)
    world.check()


def test_a_flow_that_cannot_be_rebuilt_is_given_up(world, monkeypatch):
    world.crash_at(api_flow.QuotaCommitTask, monkeypatch)
    monkeypatch.setattr(factories, 'api_flow', _broken)
    summary = recovery.resume_all(world.conf)
    assert [f['outcome'] for f in summary['flows']] == ['abandoned']
    # Its quota was never committed: the row goes, the reservation too.
    assert world.volumes() == []
    world.check()
    assert recovery.resume_all(world.conf)['flows'] == []


def test_a_commit_done_but_not_recorded_is_counted_when_given_up(
        world, monkeypatch):
    """The process dies after QuotaCommitTask's work, before its record.

    Its result was to go with the next write: the record says the
    reservation was made, not committed. The database says committed:
    the volume counts, so it stays (``error``), and usage equals it.
    """
    volume_id = world.crash_at(api_flow.QuotaCommitTask, monkeypatch,
                               after=True)
    detail = persistence.existing(
        persistence.get_backend(world.db, world.conf).get_connection(),
        persistence.flow_uuid(volume_id, 'api'))
    assert api_flow.recorded_results(detail)['committed'] is False
    monkeypatch.setattr(factories, 'api_flow', _broken)
    summary = recovery.resume_all(world.conf)
    assert [f['outcome'] for f in summary['flows']] == ['abandoned']
    assert [(v['id'], v['status']) for v in world.volumes()] == [
        (volume_id, 'error')]
    world.check()


def test_a_reservation_made_but_not_recorded_is_rolled_back_when_given_up(
        world, monkeypatch):
    """The process dies after QuotaReserveTask's work, before its record.

    The record names no reservation: the one made under the volume's key
    is found and rolled back, and no row was made.
    """
    world.crash_at(api_flow.QuotaReserveTask, monkeypatch, after=True)
    admin = volflow_context.get_admin_context()
    assert world.db.reservation_get_all(admin)
    monkeypatch.setattr(factories, 'api_flow', _broken)
    summary = recovery.resume_all(world.conf)
    assert [f['outcome'] for f in summary['flows']] == ['abandoned']
    assert world.volumes() == []
    world.check()


def _broken(cast=True):
    raise RuntimeError('no such flow')


def test_a_flow_running_elsewhere_is_left_alone(world):
    engine = world.engine()
    summary = recovery.resume_all(world.conf)
    assert [f['outcome'] for f in summary['flows']] == ['busy']
    assert engines.run_engine(engine, logger=LOG)
    world.check()


# Recording ------------------------------------------------------------------
def test_a_duplicate_request_runs_once(world):
    volume = world.api.wait(world.ctx, world.api.create(
        world.ctx, 1, 'v', None)['id'], TIMEOUT)
    manager = local.get_rpcapis(world.db, world.api.image_service,
                                world.conf)[0]._services.scheduler_manager()
    engine = scheduler_flow.get_flow(
        world.ctx, world.db, manager.driver, volume=volume,
        conf=world.conf, engine='serial')
    assert not engines.run_engine(engine, logger=LOG)
    assert world.db.volume_get(world.ctx, volume['id']) == volume


def test_a_claim_a_dead_process_left_unrecorded_drops_no_request(world):
    """A process killed between claiming a flow and recording it.

    Its claim must not make the next sender of that request - a resumed
    flow casting again - take the request for a duplicate and drop it
    (issue 10: a volume left ``creating`` after ``volflow resume``).
    """
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    volume_id = str(uuid.uuid4())
    assert world.db.flow_claim(
        volflow_context.get_admin_context(),
        persistence.flow_uuid(volume_id, 'api'),
        f'{socket.gethostname()}:{dead.pid}:deadbeef',
        quota.timeutils.utcnow() + quota.datetime.timedelta(hours=1))
    engine = world.engine(volume_uuid=volume_id)
    assert engines.run_engine(engine, logger=LOG)
    assert world.api.wait(world.ctx, volume_id,
                          TIMEOUT)['status'] == 'available'
    world.check()
    assert recovery.resume_all(world.conf)['flows'] == []


def test_a_flow_is_recorded_with_its_tasks_before_it_runs(world):
    """The record of a loaded flow names every task, each ``PENDING``.

    They are recorded with the flow detail (one write), and the engine
    runs on them: its results land in those very atom details.
    """
    engine = world.engine()
    conn = persistence.get_backend(world.db, world.conf).get_connection()
    flow_uuid = engine.storage.flow_uuid
    recorded = persistence.existing(conn, flow_uuid)
    assert sorted(ad.name.split(';')[0].rsplit('.', 1)[-1]
                  for ad in recorded) == sorted(
        ['ExtractVolumeRequestTask', 'QuotaReserveTask', 'EntryCreateTask',
         'QuotaCommitTask', 'VolumeCastTask'])
    assert {ad.state for ad in recorded} == {'PENDING'}
    uuids = {ad.name: ad.uuid for ad in recorded}
    assert engines.run_engine(engine, logger=LOG)
    done = persistence.existing(conn, flow_uuid)
    assert {ad.name: ad.uuid for ad in done} == uuids
    assert {ad.state for ad in done} == {'SUCCESS'}
    assert done.state == 'SUCCESS'
    world.check()


def test_a_flow_s_claim_goes_with_its_record_and_its_final_state(world):
    """On SQL, claiming and releasing cost no transaction of their own.

    The claim is written in the record's transaction, and deleted in the
    final state's.
    """
    if world.conf.database.connection.startswith('memory'):
        pytest.skip('the in-memory database has no transactions')
    backend = persistence.get_backend(world.db, world.conf)
    seen = {'db': [], 'records': []}

    def listen(name):
        def statement(conn, cursor, text, params, context, many):
            seen[name].append(' '.join(text.split()[:4]))
        return statement

    listeners = [(world.db.engine, listen('db')),
                 (backend.engine, listen('records'))]
    for sql_engine, listener in listeners:
        sqlalchemy.event.listen(sql_engine, 'before_cursor_execute',
                                listener)
    try:
        engine = world.engine()
        claims = world.db.flow_claim_get_all(
            volflow_context.get_admin_context())
        assert [(c['flow_uuid'], c['owner']) for c in claims] == [
            (engine.storage.flow_uuid, persistence_claims.owner())]
        assert engines.run_engine(engine, logger=LOG)
    finally:
        for sql_engine, listener in listeners:
            sqlalchemy.event.remove(sql_engine, 'before_cursor_execute',
                                    listener)
    assert engine.storage.flow_uuid not in [
        c['flow_uuid'] for c in world.db.flow_claim_get_all(
            volflow_context.get_admin_context())]
    assert not [s for s in seen['db']
                if 'flow_claims' in s and not s.startswith('SELECT')]
    assert [s for s in seen['records'] if s.startswith('INSERT') and
            'flow_claims' in s]  # MySQL's: INSERT IGNORE INTO flow_claims
    assert [s for s in seen['records'] if s.startswith('DELETE') and
            'flow_claims' in s]
    world.check()


def test_the_record_holds_no_token_and_resumes_with_a_real_context(world):
    world.ctx.auth_token = 'secret-token'
    engine = world.engine()
    meta = engine.storage.flow_meta[persistence.META]
    assert 'auth_token' not in meta['context']
    assert 'context' not in meta['store']
    stored = persistence.stored_store(engine.storage.flow_meta)
    assert isinstance(stored['context'], volflow_context.RequestContext)
    assert stored['context'].project_id == world.ctx.project_id
    assert engine.storage.flow_meta['factory']['name'] == (
        'volflow.flows.factories.api_flow')
    assert engines.run_engine(engine, logger=LOG)
    world.check()


def test_finished_records_are_removed_after_retention(world, conf_override):
    world.api.wait(world.ctx, world.api.create(world.ctx, 1, 'v', None)['id'],
                   TIMEOUT)
    world.check()
    backend = persistence.get_backend(world.db, world.conf)
    assert len(persistence.details(backend)) == 3  # api, scheduler, manager
    assert recovery.resume_all(world.conf)['removed_logbooks'] == 0
    conf_override('logbook_retention', 0, group='taskflow')
    assert recovery.resume_all(world.conf)['removed_logbooks'] == 3
    assert persistence.details(backend) == []


def test_persistence_can_be_turned_off(world, conf_override):
    conf_override('persistence_enabled', False, group='taskflow')
    world.api.wait(world.ctx, world.api.create(world.ctx, 1, 'v', None)['id'],
                   TIMEOUT)
    world.check()
    backend = persistence.get_backend(world.db, world.conf)
    assert persistence.details(backend) == []


def test_the_entry_task_takes_over_no_row_it_did_not_make(world):
    admin = volflow_context.get_admin_context()
    other = world.db.volume_create(admin, {
        'name': 'v', 'size': 1, 'project_id': 'p2', 'user_id': 'u2',
        'status': 'creating'})
    mine = world.db.volume_create(admin, {
        'name': 'v', 'size': 2, 'project_id': 'p1', 'user_id': 'u1',
        'status': 'creating'})
    for volume_id in (other['id'], mine['id']):
        engine = world.engine()
        engine.storage.inject({'volume_uuid': volume_id}, transient=True)
        with pytest.raises(exception.InvalidVolume, match='already exists'):
            engines.run_engine(engine, logger=LOG)
    assert world.db.volume_get(admin, other['id']) == other
    assert world.db.volume_get(admin, mine['id']) == mine
    assert world.db.reservation_get_all(admin) == []
    # p1's own row counted (live count), the refused request not at all.
    assert world.db.quota_usage_get_all(admin, 'p1')['volumes'] == {
        'in_use': 1, 'reserved': 0}


# Reverts reach the outer flow -----------------------------------------------
class _Fails(task.Task):
    def execute(self):
        raise RuntimeError('always')


@pytest.mark.parametrize('defer_reverts, outstanding', [(None, 0),
                                                        (False, 4)])
def test_an_exhausted_retry_reverts_the_outer_quota_task(
        world, defer_reverts, outstanding):
    """volflow loads engines with ``defer_reverts``; taskflow does not.

    Without it, a retry exhausted inside a subflow reverts the subflow
    only, and the quota reserved outside it stays reserved for ever.
    """
    quota_engine = quota.QuotaEngine(world.db, world.conf)
    inner = linear_flow.Flow('inner', retry=retry.Times(2)).add(_Fails())
    flow = linear_flow.Flow('outer').add(
        api_flow.QuotaReserveTask(quota_engine), inner)
    vtype = world.db.volume_type_get_by_name(world.ctx, '__DEFAULT__')
    store = {'context': world.ctx, 'size': 1, 'volume_type': vtype,
             'optional_args': {'is_quota_committed': False}}
    options = {} if defer_reverts is None else {
        'defer_reverts': defer_reverts}
    engine = engines.load_engine(flow, store, conf=world.conf, **options)
    with pytest.raises(RuntimeError, match='always'):
        engines.run_engine(engine, logger=LOG)
    admin = volflow_context.get_admin_context()
    # volumes, gigabytes and their __DEFAULT__ copies
    assert len(world.db.reservation_get_all(admin)) == outstanding
    assert world.db.quota_usage_get_all(admin, 'p1')['volumes'][
        'reserved'] == (1 if outstanding else 0)


# A volume service starting ---------------------------------------------------
def test_a_volume_service_resumes_its_backend(world, monkeypatch):
    def crash(*args, **kwargs):
        raise _Crash()

    with monkeypatch.context() as patch:
        patch.setattr(manager_flow.CreateVolumeFromSpecTask, 'execute',
                      _with_signature(
                          manager_flow.CreateVolumeFromSpecTask.execute,
                          crash))
        volume = world.api.create(world.ctx, 1, 'v', None)
        assert local.wait_idle(TIMEOUT)
    gc.collect()
    admin = volflow_context.get_admin_context()
    queued = world.db.volume_create(admin, {
        'size': 1, 'project_id': 'p1', 'user_id': 'u1', 'host': 'local',
        'status': 'creating'})  # its request not taken yet: no flow recorded
    manager = local.get_rpcapis(
        world.db, world.api.image_service,
        world.conf)[1]._services.volume_manager('local')
    taken = recovery.resume_backend(manager)
    assert taken == [volume['id']]
    assert world.db.volume_get(admin, volume['id'])['status'] == 'available'
    assert world.db.volume_get(admin, queued['id'])['status'] == 'creating'
    assert local.wait_idle(TIMEOUT)
    assert recovery.resume_backend(manager) == []


# Failing for good -----------------------------------------------------------
def _no_valid_backend(world, monkeypatch, conf_override):
    admin = volflow_context.get_admin_context()
    world.db.volume_type_create(admin, 'remote',
                                {'volume_backend_name': 'absent'})
    return 'remote', 'No valid backend was found'


def _driver_always_fails(world, monkeypatch, conf_override):
    backend_conf.register_backend(world.conf, 'bad')
    conf_override('volume_driver', 'fake', group='bad')
    conf_override('fake_failure_rate', 1.0, group='bad')
    conf_override('enabled_backends', ['bad'])
    return None, 'injected failure'


def _cast_fails(world, monkeypatch, conf_override):
    def unreachable(*args, **kwargs):
        raise OSError('no route to host')

    monkeypatch.setattr(local.SchedulerAPI, 'create_volume', unreachable)
    return None, 'no route to host'


@pytest.mark.parametrize('failing', [_no_valid_backend, _driver_always_fails,
                                     _cast_fails])
def test_a_create_failing_for_good_stays_error_and_counted(
        world, monkeypatch, conf_override, failing):
    volume_type, reason = failing(world, monkeypatch, conf_override)
    volume = world.api.create(world.ctx, 2, 'v', None,
                              volume_type=volume_type)
    world.api.wait(world.ctx, volume['id'], TIMEOUT)
    assert local.wait_idle(TIMEOUT)
    assert recovery.resume_all(world.conf)['flows'] == []
    volume = world.db.volume_get(world.ctx, volume['id'])
    assert volume['status'] == 'error'
    assert reason in volume['reason']
    usage = world.db.quota_usage_get_all(world.ctx, 'p1')
    assert (usage['volumes']['in_use'], usage['gigabytes']['in_use']) == (
        1, 2)
    world.check()
