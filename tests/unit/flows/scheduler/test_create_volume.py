"""The scheduler flow: place the volume, or error it out and say why."""

import logging

import pytest
from taskflow.listeners import capturing

from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow import engines
from volflow import exception
from volflow.flows.scheduler import create_volume
from volflow.scheduler import filter_scheduler
from volflow.scheduler import manager

LOG = logging.getLogger(__name__)


class Notifier:
    def __init__(self):
        self.sent = []

    def error(self, ctxt, event_type, payload):
        self.sent.append(('ERROR', event_type, payload))

    def info(self, ctxt, event_type, payload):
        self.sent.append(('INFO', event_type, payload))


class VolumeRpc:
    def __init__(self):
        self.casts = []

    def create_volume(self, ctxt, volume, request_spec, filter_properties,
                      allow_reschedule=True):
        self.casts.append((volume['id'], volume['host']))


class Exploding:
    """A scheduler driver failing in a way nobody expected."""

    def schedule_create_volume(self, context, request_spec,
                               filter_properties):
        raise RuntimeError('scheduler on fire')


def _backend(name, total=10, backend_name=None):
    return {'name': name, 'volume_backend_name': backend_name or name,
            'availability_zone': 'nova', 'total_capacity_gb': total,
            'reserved_percentage': 0, 'thin_provisioning_support': False,
            'max_over_subscription_ratio': 1.0}


@pytest.fixture
def env():
    class Env:
        pass
    e = Env()
    e.db = fake_db.FakeAPI()
    e.db.seed()
    e.ctx = volflow_context.RequestContext(user_id='u', project_id='p')
    e.admin = volflow_context.get_admin_context()
    e.notifier = Notifier()
    e.volume_rpc = VolumeRpc()
    e.backends = [_backend('a')]
    e.driver = filter_scheduler.FilterScheduler(
        e.db, e.volume_rpc, get_backends=lambda conf: e.backends)
    e.volume = e.db.volume_create(e.ctx, {
        'size': 2, 'project_id': 'p', 'user_id': 'u',
        'status': 'creating'})
    e.spec = {'volume_id': e.volume['id'],
              'volume_properties': {'size': 2, 'availability_zone': None},
              'volume_type': None, 'snapshot_id': None,
              'source_volid': None, 'image_id': None,
              'availability_zones': ['nova']}
    return e


def _run(env, driver=None, request_spec='default'):
    engine = create_volume.get_flow(
        env.ctx, env.db, driver or env.driver,
        request_spec=env.spec if request_spec == 'default' else request_spec,
        filter_properties={}, volume=env.volume, notifier=env.notifier)
    engines.run_engine(engine, logger=LOG)
    return engine


def _volume(env):
    return env.db.volume_get(env.admin, env.volume['id'])


def test_flow_runs_cinders_tasks_in_order(env):
    engine = create_volume.get_flow(env.ctx, env.db, env.driver,
                                    request_spec=env.spec,
                                    volume=env.volume,
                                    notifier=env.notifier)
    with capturing.CaptureListener(engine, capture_flow=False) as capture:
        engines.run_engine(engine, logger=LOG)
    assert engine.storage.flow_name == 'volume_create_scheduler'
    ran = [details['task_name'].split(';')[0].rsplit('.', 1)[1]
           for _kind, state, details in capture.values
           if state == 'SUCCESS']
    assert ran == ['ExtractSchedulerSpecTask', 'ScheduleCreateVolumeTask']


def test_places_the_volume_and_casts(env):
    _run(env)
    assert env.volume_rpc.casts == [(env.volume['id'], 'a')]
    assert _volume(env)['status'] == 'creating'
    assert env.notifier.sent == []


def test_a_missing_request_spec_is_built_from_the_volume(env):
    _run(env, request_spec=None)
    assert env.volume_rpc.casts == [(env.volume['id'], 'a')]


def test_no_valid_backend_errors_the_volume_and_notifies(env):
    env.backends[:] = [_backend('a', total=1)]
    engine = _run(env)  # handled: the flow itself succeeds
    volume = _volume(env)
    assert volume['status'] == 'error'
    assert volume['reason'].startswith('No valid backend was found.')
    assert "'a': 1G free, 2G requested" in volume['reason']
    [(priority, event, payload)] = env.notifier.sent
    assert (priority, event) == ('ERROR', 'scheduler.create_volume')
    assert payload['volume_id'] == env.volume['id']
    assert payload['state'] == 'error'
    assert payload['method'] == 'create_volume'
    assert payload['reason'] == volume['reason']
    assert payload['request_spec']['volume_id'] == env.volume['id']
    assert env.volume_rpc.casts == []
    assert engine.storage.get_flow_state() == 'SUCCESS'


def test_other_failures_error_the_volume_and_raise(env):
    with pytest.raises(RuntimeError, match='scheduler on fire'):
        _run(env, driver=Exploding())
    volume = _volume(env)
    assert volume['status'] == 'error'
    assert volume['reason'] == 'RuntimeError: scheduler on fire'
    assert [e for _p, e, _x in env.notifier.sent] == [
        'scheduler.create_volume']


def test_no_valid_backend_tells_the_user(env):
    env.backends[:] = [_backend('a', total=1)]
    _run(env)
    [message] = env.db.message_get_all(env.ctx)
    assert message['event_id'] == 'VOLUME_VOLUME_001_003'
    assert message['resource_uuid'] == env.volume['id']
    assert message['project_id'] == 'p'
    assert message['request_id'] == env.ctx.request_id
    assert message['message_level'] == 'ERROR'
    assert message['expires_at'] > message['created_at']


def test_a_type_asking_for_another_vendor_finds_no_backend(env):
    env.backends[:] = [dict(_backend('a'), volume_driver='fake')]
    env.spec['volume_type'] = {'extra_specs': {
        'storage_protocol': 'fake', 'capabilities:vendor_name': 'nobody'}}
    _run(env)
    volume = _volume(env)
    assert volume['status'] == 'error'
    assert "vendor_name is 'volflow'" in volume['reason']
    assert [m['event_id'] for m in env.db.message_get_all(env.ctx)] == [
        'VOLUME_VOLUME_001_003']
    env.spec['volume_type'] = {'extra_specs': {
        'storage_protocol': '<or> iSCSI <or> fake', 'vendor_name': 'volflow',
        'spec1': 'anything'}}
    env.volume = env.db.volume_create(env.ctx, {
        'size': 2, 'project_id': 'p', 'user_id': 'u', 'status': 'creating'})
    env.spec['volume_id'] = env.volume['id']
    _run(env)
    assert env.volume_rpc.casts == [(env.volume['id'], 'a')]


def test_other_failures_tell_the_user_of_an_unknown_error(env):
    with pytest.raises(RuntimeError):
        _run(env, driver=Exploding())
    [message] = env.db.message_get_all(env.admin)
    assert message['event_id'] == 'VOLUME_VOLUME_001_001'


class FailingCast(VolumeRpc):
    def create_volume(self, *args, **kwargs):
        raise ConnectionError('broker gone')


def test_a_failed_cast_releases_the_capacity_claimed(env):
    env.driver = filter_scheduler.FilterScheduler(
        env.db, FailingCast(), get_backends=lambda conf: env.backends)
    with pytest.raises(ConnectionError):
        _run(env)
    volume = _volume(env)
    assert (volume['status'], volume['host']) == ('error', None)
    assert env.db.volume_allocated_by_host(env.admin) == {}


def test_a_volume_deleted_meanwhile_is_left_alone(env):
    env.db.volume_update(env.admin, env.volume['id'],
                         {'status': 'deleting'})
    with pytest.raises(exception.InvalidVolume):
        _run(env)
    assert _volume(env)['status'] == 'deleting'


def test_manager_errors_a_volume_the_flow_could_not(env):
    """The legacy spec cannot be built: the type is gone."""
    env.db.volume_update(env.admin, env.volume['id'],
                         {'volume_type_id': 'gone'})
    mgr = manager.SchedulerManager(env.db, env.driver, env.notifier)
    with pytest.raises(exception.VolumeTypeNotFound):
        mgr.create_volume(env.ctx, env.volume)
    volume = _volume(env)
    assert volume['status'] == 'error'
    assert volume['reason'] == ('Scheduling failed: Volume type gone could '
                                'not be found.')
