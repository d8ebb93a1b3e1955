"""A claimed job's steps, run in process: no Redis, no conductor loop.

The job is a logbook in the in-memory persistence whose first step is
the scheduler flow, as the jobboard rpc posts it; :class:`JobRun` runs
it with the real scheduler and manager flows on the in-memory database,
and the casts those flows make become the job's next steps.
"""

import datetime

from oslo_utils import timeutils
import pytest
from taskflow.persistence import models

from tests import invariants
from volflow.conductor import _job
from volflow import conf as volflow_conf
from volflow.conf import backend as backend_conf
from volflow import context as volflow_context
from volflow import db as volflow_db
from volflow.flows import jobs
from volflow import persistence
from volflow.rpc import local
from volflow.scheduler import servicegroup


class Keeper:
    """Stands in for the claim keeper: the claim is never lost."""

    def touch(self, run):
        pass


class Job:
    def __init__(self, book, volume_id):
        self.book = book
        self.details = {'volume_id': volume_id}
        self.uuid = f'job-{volume_id}'


@pytest.fixture
def conf(tmp_path):
    conf = volflow_conf.load()
    overrides = [('state_path', str(tmp_path), None),
                 ('connection', 'memory://', 'database'),
                 ('jobboard_enabled', True, 'taskflow'),
                 ('enabled_backends', ['bad', 'good'], None)]
    for name, options in (('bad', {'volume_driver': 'fake',
                                   'fake_failure_rate': 1.0,
                                   'total_capacity_gb': 100}),
                          ('good', {'volume_driver': 'fake',
                                    'total_capacity_gb': 10})):
        backend_conf.register_backend(conf, name)
        overrides += [(key, value, name) for key, value in options.items()]
    for name, value, group in overrides:
        conf.set_override(name, value, group=group)
    local.reset()
    volflow_db.reset_apis()
    yield conf
    for name, _value, group in overrides:
        conf.clear_override(name, group=group)
    local.reset()
    volflow_db.reset_apis()


def _posted(conf, volume_type=None):
    """A volume as the API flow leaves it, and its job's first step."""
    db = volflow_db.get_api(conf=conf)
    admin = volflow_context.get_admin_context()
    if not db.service_get_all(admin):  # the conductor running the jobs
        servicegroup.Reporter(db, [
            {'host': f'c1@{name}', 'binary': servicegroup.CONDUCTOR,
             'topic': None, 'availability_zone': 'nova'}
            for name in ('bad', 'good')], conf).report()
    ctx = volflow_context.RequestContext(user_id='u', project_id='p',
                                         auth_token='Tk-S3cret')
    vtype = db.volume_type_get_by_name(ctx, conf.default_volume_type)
    volume = db.volume_create(ctx, {
        'size': 1, 'status': 'creating', 'project_id': 'p',
        'user_id': 'u', 'volume_type_id': vtype['id'],
        'availability_zone': 'nova'})
    step = jobs.scheduler_step(ctx, volume, request_spec={
        'volume_id': volume['id'], 'volume_type': vtype,
        'volume_properties': {'size': 1, 'project_id': 'p'},
        'availability_zones': ['nova']})
    backend = persistence.get_backend(db, conf)
    book = models.LogBook(f"volume-create-{volume['id']}")
    book.add(step.flow_detail(0))
    backend.get_connection().save_logbook(book)
    return db, volume, step, Job(book, volume['id']), backend


def _steps(run):
    return [(fd.name, fd.state) for fd in jobs.steps(run.book)]


def test_a_reschedule_runs_as_the_next_steps_of_the_job(conf):
    db, volume, _step, job, backend = _posted(conf)
    run = _job.JobRun(job, backend, Keeper(), db_api=db)
    assert run.run() == _job.DONE
    assert _steps(run) == [('volume-create-scheduler-0', 'SUCCESS'),
                           ('volume-create-manager-1', 'REVERTED'),
                           ('volume-create-scheduler-2', 'SUCCESS'),
                           ('volume-create-manager-3', 'SUCCESS')]
    volume = db.volume_get(volflow_context.get_admin_context(),
                           volume['id'])
    assert (volume['status'], volume['host']) == ('available', 'good')
    invariants.assert_invariants(db)


def test_steps_keep_json_and_no_token(conf):
    _db, volume, step, _job_, _backend = _posted(conf)
    detail = step.flow_detail(0)
    meta = detail.meta[jobs.META]
    assert meta['volume_id'] == volume['id']
    assert 'auth_token' not in meta['context']
    assert isinstance(meta['store']['volume']['created_at'], str)
    assert 'step' in meta and persistence.ours(detail.meta) is None
    assert detail.meta['factory']['name'] == (
        'volflow.flows.factories.scheduler_flow')
    assert step.book_uuid == jobs.scheduler_step(
        volflow_context.get_admin_context(), volume).book_uuid


def test_a_failed_step_errors_the_volume_as_the_services_do(conf):
    """The scheduler step cannot build the legacy spec: the type is gone."""
    db, volume, _step, _job_, backend = _posted(conf)
    db.volume_update(volflow_context.get_admin_context(), volume['id'],
                     {'volume_type_id': 'gone'})
    book = models.LogBook(f"volume-create-{volume['id']}")
    book.add(jobs.scheduler_step(volflow_context.get_admin_context(),
                                 volume).flow_detail(0))
    backend.get_connection().save_logbook(book)
    run = _job.JobRun(Job(book, volume['id']), backend, Keeper(), db_api=db)
    assert run.run() == _job.DONE
    volume = db.volume_get(volflow_context.get_admin_context(),
                           volume['id'])
    assert volume['status'] == 'error'
    assert volume['reason'] == ('Scheduling failed: Volume type gone could '
                                'not be found.')
    invariants.assert_invariants(db)


def test_a_continuation_added_again_reuses_its_flow_detail(conf):
    db, volume, _step, job, backend = _posted(conf)
    run = _job.JobRun(job, backend, Keeper(), db)
    run.book = job.book
    placed = dict(volume, host='good')
    for _attempt in range(2):  # the scheduler step run again after a crash
        run.add_step(jobs.manager_step(volflow_context.get_admin_context(),
                                       placed, {}, {}))
    stored = backend.get_connection().get_logbook(job.book.uuid)
    assert sorted(jobs.index_of(fd) for fd in stored) == [0, 1]
    assert [jobs.index_of(fd) for fd in jobs.steps(run.book)] == [0, 1]


def test_a_job_without_its_logbook_cannot_run(conf):
    db, volume, _step, job, backend = _posted(conf)
    job.book = None
    run = _job.JobRun(job, backend, Keeper(), db)
    assert run.run() == _job.BROKEN
    assert run.volume_id == volume['id']


class Engine:
    """Suspends when told, and only in the thread that runs it."""

    def __init__(self):
        self.suspended = 0

    def suspend(self):
        self.suspended += 1


def test_a_stop_suspends_the_engine_in_its_own_thread_only():
    # Another thread (a signal, the claim refresher) only asks: reading
    # the engine's storage from there can deadlock with the engine.
    run = _job.JobRun(Job(None, 'v1'), None, Keeper(), None)
    run._engine = engine = Engine()
    run.stop(_job.STOPPED)
    assert engine.suspended == 0
    run.on_event()  # the engine's next event, in its thread
    run.on_event()
    assert engine.suspended == 1


def test_a_step_for_a_backend_not_served_is_handed_off(conf):
    """Posted as a job of its own, again (idempotently) on a takeover."""
    db, volume, _step, job, backend = _posted(conf)
    posted = []
    run = _job.JobRun(job, backend, Keeper(), db,
                      serves=lambda name: name == 'good',
                      hand_off=posted.append)
    assert run.run() == _job.HANDED_OFF
    assert _steps(run) == [('volume-create-scheduler-0', 'SUCCESS'),
                           ('volume-create-manager-1', None)]
    assert [(s.kind, s.backend, s.volume_id) for s in posted] == [
        ('manager', 'bad', volume['id'])]
    assert jobs.handed_off(jobs.steps(run.book)[1])
    # A conductor taking the job over after a crash only posts it again.
    again = _job.JobRun(job, backend, Keeper(), db,
                        serves=lambda name: name == 'good',
                        hand_off=posted.append)
    assert again.run() == _job.HANDED_OFF
    assert [s.book_uuid for s in posted] == [posted[0].book_uuid] * 2
    volume = db.volume_get(volflow_context.get_admin_context(),
                           volume['id'])
    assert (volume['status'], volume['host']) == ('creating', 'bad')


def test_a_step_another_process_still_runs_is_left_to_it(conf):
    """The board's claim delivered the job; the flow's claim runs a step.

    A conductor whose board claim expired under a long task still runs
    its step: it holds the step's flow claim until its engine stops. The
    conductor that claimed the job next does not run the step meanwhile
    - it abandons the job for another try - and runs it once that claim
    is dropped.
    """
    db, volume, step, job, backend = _posted(conf)
    admin = volflow_context.get_admin_context()
    first = jobs.steps(job.book)[0].uuid
    other = 'elsewhere:1:stalled'  # a live process of another host
    assert db.flow_claim(admin, first, other, timeutils.utcnow() +
                         datetime.timedelta(seconds=60))
    run = _job.JobRun(job, backend, Keeper(), db)
    assert run.run() == _job.RETRY
    assert _steps(run) == [('volume-create-scheduler-0', None)]
    assert db.volume_get(admin, volume['id'])['status'] == 'creating'
    db.flow_claim_release(admin, first, other)
    assert _job.JobRun(job, backend, Keeper(), db).run() == _job.DONE
    assert db.volume_get(admin, volume['id'])['status'] == 'available'
    assert db.flow_claim_get_all(admin) == []
    invariants.assert_invariants(db)
