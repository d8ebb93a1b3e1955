"""The manager flow: create on the backend, reschedule or error out."""

import logging

import pytest
from taskflow.listeners import capturing
from taskflow.types import failure as ft

from volflow import engines
from volflow import exception
from volflow.flows.manager import create_volume

LOG = logging.getLogger(__name__)

TASKS = ['ExtractVolumeRefTask', 'OnFailureRescheduleTask',
         'ExtractVolumeSpecTask', 'NotifyVolumeActionTask',
         'CreateVolumeFromSpecTask', 'CreateVolumeOnFinishTask']


def test_flow_runs_cinders_six_tasks_in_order(env):
    engine = env.engine(env.volume())
    with capturing.CaptureListener(engine, capture_flow=False) as capture:
        engines.run_engine(engine, logger=LOG)
    assert engine.storage.flow_name == 'volume_create_manager'
    ran = [details['task_name'].split(';')[0].rsplit('.', 1)[1]
           for _kind, state, details in capture.values
           if state == 'SUCCESS']
    assert ran == TASKS


def test_raw_volume(env):
    volume = env.run(env.volume(size=2))
    assert (volume['status'], volume['reason'], volume['host']) == (
        'available', None, 'a')
    assert env.driver.volumes[volume['id']] == {'size': 2, 'source': 'raw'}
    assert env.notifier.events == ['volume.create.start',
                                   'volume.create.end']
    start, end = (payload for _event, payload in env.notifier.sent)
    assert (start['status'], end['status']) == ('creating', 'available')
    assert end['volume_id'] == volume['id'] and end['host'] == 'a'


def test_from_snapshot(env):
    snap = env.snapshot(env.available_volume())
    volume = env.run(env.volume(snapshot_id=snap['id']))
    assert volume['status'] == 'available'
    assert env.driver.volumes[volume['id']]['source'] == (
        f"snapshot:{snap['id']}")


@pytest.mark.parametrize('status', ['available', 'in-use'])
def test_clone(env, status):
    source = env.available_volume()
    env.db.volume_update(env.admin, source['id'], {'status': status})
    volume = env.run(env.volume(source_volid=source['id']))
    assert volume['status'] == 'available'
    assert env.driver.volumes[volume['id']]['source'] == (
        f"volume:{source['id']}")


@pytest.mark.parametrize('flag', [None, True, False])
def test_a_clone_boots_as_its_source(env, flag):
    source = env.available_volume()
    env.db.volume_update(env.admin, source['id'], {
        'image_id': 'img-1', 'bootable': flag,
        'image_metadata': {'image_id': 'img-1', 'min_disk': '1'}})
    volume = env.run(env.volume(source_volid=source['id']))
    assert volume['status'] == 'available'
    bootable = flag is not False  # unset: bootable as made from an image
    assert bool(volume.get('bootable')) is bootable
    assert volume.get('image_metadata') == (
        {'image_id': 'img-1', 'min_disk': '1'} if bootable else None)


def test_from_image(env, tmp_path):
    path = tmp_path / 'image.raw'
    path.write_bytes(b'boot' * 1000)
    image = env.images.create(env.ctx, 'img', str(path))
    volume = env.run(env.volume(image_id=image['id']))
    assert volume['status'] == 'available'
    assert env.driver.volumes[volume['id']]['source'] == (
        f"image:{image['id']}")


def _source_problem(env, case):
    if case == 'snapshot-not-available':
        snap = env.snapshot(env.available_volume(), status='creating')
        return env.volume(snapshot_id=snap['id']), 'InvalidSnapshot'
    if case == 'snapshot-gone':
        return env.volume(snapshot_id='gone'), 'Snapshot gone'
    if case == 'source-in-error':
        source = env.available_volume()
        env.db.volume_update(env.admin, source['id'], {'status': 'error'})
        return env.volume(source_volid=source['id']), "not 'error'"
    if case == 'source-gone':
        return env.volume(source_volid='gone'), 'Volume gone'
    if case == 'image-gone':
        return env.volume(image_id='gone'), 'Image gone'
    raise AssertionError(case)


@pytest.mark.parametrize('case', ['snapshot-not-available', 'snapshot-gone',
                                  'source-in-error', 'source-gone',
                                  'image-gone'])
def test_source_problems_are_not_rescheduled(env, case):
    volume, expected = _source_problem(env, case)
    with pytest.raises(exception.VolflowException):
        env.run(volume)
    volume = env.get(volume)
    assert volume['status'] == 'error'
    assert volume['host'] is None
    assert volume['reason'].startswith(
        "backend 'a' failed to create the volume: ")
    if expected.startswith('Invalid'):
        assert 'status must be one of available' in volume['reason']
    else:
        assert expected in volume['reason']
    assert env.scheduler.casts == []
    assert volume['id'] not in env.driver.volumes


def test_driver_failure_is_rescheduled(env):
    env.driver.fail_create = True
    volume = env.volume()
    with pytest.raises(exception.VolumeBackendAPIException):
        env.run(volume)
    after = env.get(volume)
    assert (after['status'], after['host']) == ('creating', None)
    [cast] = env.scheduler.casts
    assert cast['volume']['id'] == volume['id']
    retry = cast['filter_properties']['retry']
    assert retry['backends'] == ['a']
    assert retry['exc'].startswith("backend 'a' failed to create the volume")
    assert 'injected failure' in retry['exc']
    assert env.notifier.events == ['volume.create.start']


@pytest.mark.parametrize('kwargs', [{'retry': False},
                                    {'allow_reschedule': False}])
def test_driver_failure_without_reschedule_errors_the_volume(env, kwargs):
    env.driver.fail_create = True
    with pytest.raises(exception.VolumeBackendAPIException):
        env.run(env.volume(), **kwargs)
    [volume] = env.db.volume_get_all(env.admin)
    assert volume['status'] == 'error'
    assert volume['host'] is None
    assert 'injected failure' in volume['reason']
    assert env.scheduler.casts == []
    [message] = env.db.message_get_all(env.admin)
    assert message['event_id'] == 'VOLUME_VOLUME_008_012'
    assert message['resource_uuid'] == volume['id']
    assert message['project_id'] == volume['project_id']


def test_an_uninitialized_driver_is_rescheduled(env):
    env.driver._initialized = False
    with pytest.raises(exception.VolumeDriverException):
        env.run(env.volume())
    assert len(env.scheduler.casts) == 1


def test_a_failing_reschedule_errors_the_volume(env):
    env.driver.fail_create = True
    env.scheduler.fail_with = RuntimeError('scheduler unreachable')
    with pytest.raises(exception.VolumeBackendAPIException):
        env.run(env.volume())
    [volume] = env.db.volume_get_all(env.admin)
    assert volume['status'] == 'error'
    assert volume['reason'].endswith(
        'rescheduling failed: scheduler unreachable')


def test_a_failure_after_creation_removes_the_backend_volume(env):
    """CreateVolumeOnFinishTask fails: the created volume is deleted."""
    volume = env.volume()
    real_update = env.db.volume_update

    def failing_update(context, volume_id, values, expected=None):
        if values.get('status') == 'available':
            raise exception.VolumeBackendAPIException(data='db went away')
        return real_update(context, volume_id, values, expected)

    env.db.volume_update = failing_update
    with pytest.raises(exception.VolumeBackendAPIException):
        env.run(volume)
    assert env.driver.volumes == {}
    assert len(env.scheduler.casts) == 1


def test_notification_failures_do_not_fail_the_creation(env):
    def broken(*args):
        raise RuntimeError('notification bus down')

    env.notifier.info = broken
    assert env.run(env.volume())['status'] == 'available'


@pytest.mark.parametrize('values', [{'status': 'available'},
                                    {'status': 'deleting'},
                                    {'host': 'b'}])
def test_a_volume_not_creating_here_is_left_alone(env, values):
    volume = env.volume()
    env.db.volume_update(env.admin, volume['id'], values)
    before = env.get(volume)
    with pytest.raises(exception.InvalidVolume):
        env.run(volume)
    assert env.get(volume) == before
    assert env.driver.volumes == {} and env.scheduler.casts == []
    assert env.notifier.sent == []


def test_reschedule_revert_is_idempotent(env):
    """A revert run again (resume) sends the very same request again.

    Its first run may have been cut short between clearing the host and
    casting: sending again is the only way not to strand the volume.
    The request is the same attempt, which the scheduler side records
    under the same flow uuid and so runs once
    (``tests/unit/test_persistence.py``).
    """
    volume = env.volume()
    task = create_volume.OnFailureRescheduleTask(
        env.ctx, env.db, env.scheduler, 'a', do_reschedule=True)
    failure = ft.Failure.from_exception(
        exception.VolumeBackendAPIException(data='boom'))
    for _ in range(2):
        task.revert(env.admin, None, {'x': failure}, volume,
                    {'volume_id': volume['id']},
                    {'retry': {'num_attempts': 1, 'backends': ['a']}})
    first, again = env.scheduler.casts
    assert first == again
    assert env.get(volume)['status'] == 'creating'
    assert env.get(volume)['host'] is None


def test_error_out_revert_is_idempotent(env):
    volume = env.volume()
    task = create_volume.OnFailureRescheduleTask(
        env.ctx, env.db, env.scheduler, 'a', do_reschedule=False)
    failure = ft.Failure.from_exception(RuntimeError('boom'))
    for _ in range(2):
        assert task.revert(env.admin, None, {'x': failure}, volume, {},
                           {}) is False
    after = env.get(volume)
    assert after['status'] == 'error'
    assert after['reason'] == ("backend 'a' failed to create the volume: "
                               "RuntimeError: boom")
