"""Changes to existing volumes and snapshots, through a real manager.

The volume API calls a :class:`volflow.volume.manager.VolumeManager`
(directly, as the in-process rpc does) whose driver is the in-memory fake
or the file driver, on the in-memory database and on SQLite: an extend
moves the backend, the size and the quota together or not at all; a
snapshot delete removes the backend's copy, the row and the quota.
"""

import os

import pytest

from tests.fixtures import databases
from tests import invariants
from volflow import context as volflow_context
from volflow import exception
from volflow import quota
from volflow.volume import api as volume_api
from volflow.volume.drivers import base
from volflow.volume.drivers import fake as fake_driver
from volflow.volume.drivers import file as file_driver
from volflow.volume import manager as volume_manager

CTX = volflow_context.RequestContext(user_id='u1', project_id='p1')
ADMIN = volflow_context.RequestContext(user_id='a', project_id='p0',
                                       is_admin=True)


class _Rpc:
    """The volume rpcapi calls, straight to one manager."""

    def __init__(self, manager):
        self.manager = manager

    def delete_volume(self, ctxt, volume):
        self.manager.delete_volume(ctxt, volume)

    def create_snapshot(self, ctxt, volume, snapshot):
        self.manager.create_snapshot(ctxt, volume, snapshot)

    def delete_snapshot(self, ctxt, volume, snapshot):
        self.manager.delete_snapshot(ctxt, volume, snapshot)

    def extend_volume(self, ctxt, volume, new_size, reservations):
        self.manager.extend_volume(ctxt, volume, new_size, reservations)


def _backend(tmp_path):
    return {'name': 'b1', 'volume_driver': 'fake',
            'volume_backend_name': 'b1', 'availability_zone': 'nova',
            'total_capacity_gb': 100, 'reserved_percentage': 0,
            'thin_provisioning_support': False,
            'max_over_subscription_ratio': 1.0,
            'volumes_dir': str(tmp_path / 'volumes'),
            'fake_latency': 0.0, 'fake_failure_rate': 0.0}


@pytest.fixture(params=['memory', 'sqlite'])
def db_api(request, conf, tmp_path):
    yield from databases.memory_or_sqlite(request.param, tmp_path)


@pytest.fixture(params=['fake', 'file'])
def driver(request, tmp_path):
    if request.param == 'fake':
        return fake_driver.FakeDriver(_backend(tmp_path))
    driver = file_driver.FileDriver(_backend(tmp_path))
    driver.do_setup()
    return driver


@pytest.fixture
def vapi(db_api, driver, conf):
    manager = volume_manager.VolumeManager(
        'b1', db_api, driver, image_service=None, scheduler_rpcapi=None,
        notifier=object(), conf=conf)
    return volume_api.API(db_api=db_api, image_service=object(),
                          scheduler_rpcapi=object(),
                          volume_rpcapi=_Rpc(manager), conf=conf)


def _volume(vapi, driver, size=1):
    """An available volume on b1, counted in the quota as created."""
    default = vapi.db.volume_type_get_by_name(ADMIN, '__DEFAULT__')
    volume = vapi.db.volume_create(CTX, {
        'size': size, 'status': 'available', 'project_id': 'p1',
        'user_id': 'u1', 'volume_type_id': default['id'], 'host': 'b1'})
    driver.create_volume(volume)
    # Usage rows are made from a live count of the records, on first use.
    zero = quota.type_resources('__DEFAULT__', volumes=0, gigabytes=0,
                                snapshots=0)
    vapi.quota.rollback(CTX, vapi.quota.reserve(CTX, 'p1', zero))
    return volume


def _size_on_backend(driver, volume):
    if isinstance(driver, fake_driver.FakeDriver):
        return driver.volumes[volume['id']]['size']
    return os.path.getsize(driver.local_path(volume)) // base.GiB


def _gigabytes(vapi):
    return vapi.db.quota_usage_get_all(ADMIN, 'p1')['gigabytes']['in_use']


def test_extend_grows_the_backend_the_size_and_the_quota(vapi, driver):
    volume = _volume(vapi, driver)
    extended = vapi.extend(CTX, volume['id'], 3)
    assert (extended['status'], extended['size']) == ('available', 3)
    assert _size_on_backend(driver, volume) == 3
    assert _gigabytes(vapi) == 3
    invariants.assert_invariants(vapi.db, ['p1'])


def test_a_failed_extend_leaves_size_and_quota_as_they_were(
        vapi, driver, monkeypatch):
    volume = _volume(vapi, driver)

    def fail(volume, new_size):
        raise exception.VolumeBackendAPIException(data='disk on fire')
    monkeypatch.setattr(driver, 'extend_volume', fail)
    left = vapi.extend(CTX, volume['id'], 3)
    assert (left['status'], left['size']) == ('error_extending', 1)
    assert 'disk on fire' in left['reason']
    assert _size_on_backend(driver, volume) == 1
    assert _gigabytes(vapi) == 1
    invariants.assert_invariants(vapi.db, ['p1'])
    # error_extending volumes may be deleted, as in Cinder.
    vapi.delete(CTX, volume['id'])
    invariants.assert_invariants(vapi.db, ['p1'])


def test_the_fake_drivers_injected_extend_failure(vapi, driver):
    if not isinstance(driver, fake_driver.FakeDriver):
        pytest.skip('fail_extend is the fake driver\'s')
    volume = _volume(vapi, driver)
    driver.fail_extend = True
    assert vapi.extend(CTX, volume['id'], 2)['status'] == 'error_extending'
    assert driver.volumes[volume['id']]['size'] == 1
    invariants.assert_invariants(vapi.db, ['p1'])


@pytest.mark.parametrize('new_size, error', [
    (1, exception.InvalidInput), (0, exception.InvalidInput),
    ('2', exception.InvalidInput), (True, exception.InvalidInput),
    (1001, exception.VolumeSizeExceedsAvailableQuota)])
def test_extend_refusals_change_nothing(vapi, driver, new_size, error):
    volume = _volume(vapi, driver)
    before = invariants.state(vapi.db, ['p1'])
    with pytest.raises(error):
        vapi.extend(CTX, volume['id'], new_size)
    assert invariants.state(vapi.db, ['p1']) == before
    assert _size_on_backend(driver, volume) == 1


def test_extend_needs_an_available_volume(vapi, driver):
    volume = _volume(vapi, driver)
    vapi.db.volume_update(ADMIN, volume['id'], {'status': 'in-use'})
    with pytest.raises(exception.InvalidVolume, match="'in-use'"):
        vapi.extend(CTX, volume['id'], 2)


def test_extend_within_the_per_volume_limit(vapi, driver, conf_override):
    conf_override('per_volume_size_limit', 2)
    volume = _volume(vapi, driver)
    with pytest.raises(exception.VolumeSizeExceedsLimit):
        vapi.extend(CTX, volume['id'], 3)
    assert vapi.extend(CTX, volume['id'], 2)['size'] == 2


def test_snapshot_delete_and_cascade(vapi, driver):
    volume = _volume(vapi, driver)
    kept = vapi.create_snapshot(CTX, volume['id'], name='s',
                                metadata={'k': 'v'})
    assert vapi.get_snapshot(CTX, kept['id'])['metadata'] == {'k': 'v'}
    gone = vapi.create_snapshot(CTX, volume['id'])
    vapi.delete_snapshot(CTX, gone['id'])
    with pytest.raises(exception.SnapshotNotFound):
        vapi.get_snapshot(CTX, gone['id'])
    invariants.assert_invariants(vapi.db, ['p1'])
    with pytest.raises(exception.InvalidVolume, match='snapshots'):
        vapi.delete(CTX, volume['id'])
    vapi.delete(CTX, volume['id'], cascade=True)
    assert vapi.get_all_snapshots(ADMIN) == []
    assert vapi.get_all(ADMIN) == []
    invariants.assert_invariants(vapi.db, ['p1'])
    if isinstance(driver, fake_driver.FakeDriver):
        assert driver.snapshots == {} and driver.volumes == {}
    else:
        assert os.listdir(driver.volumes_dir) == []


def test_a_cascade_with_a_busy_snapshot_deletes_nothing(vapi, driver):
    volume = _volume(vapi, driver)
    snapshot = vapi.create_snapshot(CTX, volume['id'])
    vapi.reset_snapshot_status(ADMIN, snapshot['id'], 'creating')
    before = invariants.state(vapi.db, ['p1'])
    with pytest.raises(exception.InvalidVolume, match=snapshot['id']):
        vapi.delete(CTX, volume['id'], cascade=True)
    assert invariants.state(vapi.db, ['p1']) == before


def test_a_failed_snapshot_delete_keeps_it_counted(vapi, driver,
                                                   monkeypatch):
    volume = _volume(vapi, driver)
    snapshot = vapi.create_snapshot(CTX, volume['id'])

    def fail(snapshot):
        raise exception.VolumeBackendAPIException(data='busy')
    monkeypatch.setattr(driver, 'delete_snapshot', fail)
    with pytest.raises(exception.VolumeBackendAPIException):
        vapi.delete_snapshot(CTX, snapshot['id'])
    assert vapi.get_snapshot(CTX, snapshot['id'])['status'] == (
        'error_deleting')
    invariants.assert_invariants(vapi.db, ['p1'])


def test_update_metadata_and_flags_are_kept(vapi, driver):
    volume = _volume(vapi, driver)
    vapi.update(CTX, volume['id'], {'name': 'n', 'description': 'd',
                                    'metadata': {'a': '1'}})
    vapi.update_volume_metadata(CTX, volume['id'], {'b': '2'})
    vapi.delete_volume_metadata(CTX, volume['id'], 'a')
    vapi.set_bootable(CTX, volume['id'], True)
    vapi.update_readonly_flag(CTX, volume['id'], 'true')
    shown = vapi.get(CTX, volume['id'])
    assert (shown['name'], shown['description'], shown['metadata'],
            shown['bootable'], shown['admin_metadata']) == (
        'n', 'd', {'b': '2'}, True, {'readonly': 'True'})
    with pytest.raises(exception.MetadataNotFound):
        vapi.delete_volume_metadata(CTX, volume['id'], 'a')
    with pytest.raises(exception.InvalidVolumeMetadataSize):
        vapi.update_volume_metadata(CTX, volume['id'], {'k': 'x' * 256})
    assert vapi.get(CTX, volume['id'])['metadata'] == {'b': '2'}
