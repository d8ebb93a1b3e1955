"""volflow.volume.manager: the driver call, then what it makes true.

A :class:`VolumeManager` on the in-memory database with the fake driver.
Creating runs the manager flow (``tests/unit/flows/manager/``); extending
and the snapshots through the volume API are in ``test_changes.py``.
"""

import pytest

from tests import invariants
from tests import locks
from volflow import context as volflow_context
from volflow.db import fake
from volflow import exception
from volflow import quota
from volflow.volume.drivers import fake as fake_driver
from volflow.volume import manager as volume_manager

CTX = volflow_context.RequestContext(user_id='u1', project_id='p1')
ADMIN = volflow_context.get_admin_context()
BACKEND = {'name': 'b1', 'volume_driver': 'fake',
           'volume_backend_name': 'b1', 'availability_zone': 'nova',
           'total_capacity_gb': 100, 'reserved_percentage': 0,
           'thin_provisioning_support': False,
           'max_over_subscription_ratio': 1.0, 'volumes_dir': None,
           'fake_latency': 0.0, 'fake_failure_rate': 0.0}


@pytest.fixture
def manager(conf):
    db_api = fake.FakeAPI()
    db_api.seed()
    return volume_manager.VolumeManager(
        'b1', db_api, fake_driver.FakeDriver(dict(BACKEND)),
        image_service=None, scheduler_rpcapi=None, notifier=object(),
        conf=conf)


def _volume(manager, size=2):
    """An available volume on b1, counted in the quota."""
    db = manager.db
    default = db.volume_type_get_by_name(ADMIN, '__DEFAULT__')
    volume = db.volume_create(CTX, {
        'size': size, 'status': 'available', 'project_id': 'p1',
        'user_id': 'u1', 'volume_type_id': default['id'], 'host': 'b1'})
    manager.driver.create_volume(volume)
    zero = quota.type_resources('__DEFAULT__', volumes=0, gigabytes=0,
                                snapshots=0)
    manager.quota.rollback(CTX, manager.quota.reserve(CTX, 'p1', zero))
    return volume


def _in_use(manager, resource):
    return manager.db.quota_usage_get_all(ADMIN, 'p1')[resource]['in_use']


def test_delete_removes_the_backend_copy_the_row_and_the_quota(manager):
    volume = _volume(manager)
    assert (_in_use(manager, 'volumes'), _in_use(manager, 'gigabytes')) == (
        1, 2)
    manager.delete_volume(CTX, volume)
    assert volume['id'] not in manager.driver.volumes
    with pytest.raises(exception.VolumeNotFound):
        manager.db.volume_get(CTX, volume['id'])
    assert (_in_use(manager, 'volumes'), _in_use(manager, 'gigabytes')) == (
        0, 0)
    invariants.assert_invariants(manager.db, ['p1'])


def test_a_failed_delete_leaves_the_volume_error_deleting_and_counted(
        manager, monkeypatch):
    volume = _volume(manager)

    def fail(volume):
        raise exception.VolumeBackendAPIException(data='disk on fire')
    monkeypatch.setattr(manager.driver, 'delete_volume', fail)
    with pytest.raises(exception.VolumeBackendAPIException):
        manager.delete_volume(CTX, volume)
    left = manager.db.volume_get(CTX, volume['id'])
    assert left['status'] == 'error_deleting'
    assert 'disk on fire' in left['reason']
    assert _in_use(manager, 'gigabytes') == 2
    invariants.assert_invariants(manager.db, ['p1'])


@pytest.mark.parametrize('operation', ['delete_volume', 'create_snapshot'])
def test_the_driver_works_under_the_volumes_delete_lock(manager,
                                                        monkeypatch,
                                                        operation):
    """A clone of the volume waits (the manager flow takes the same lock)."""
    volume = _volume(manager)
    lock = f"{volume['id']}-delete_volume"
    seen = []
    real = getattr(manager.driver, operation)

    def watched(*args):
        seen.append(locks.free_elsewhere(lock))
        return real(*args)
    monkeypatch.setattr(manager.driver, operation, watched)
    if operation == 'delete_volume':
        manager.delete_volume(CTX, volume)
    else:
        manager.create_snapshot(CTX, volume, {
            'id': 's1', 'volume_id': volume['id'], 'volume_size': 2})
    assert seen == [False]
    assert locks.free_elsewhere(lock)
