"""volflow.recovery: a volume service's takeover of its backend."""

import types

from oslo_config import cfg
from oslo_utils import uuidutils
from taskflow import states

from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow.flows import common
from volflow import persistence
from volflow import recovery
from volflow.volume.drivers import fake as fake_driver


def _manager(db_api, backend='b1'):
    driver = fake_driver.FakeDriver({'name': backend,
                                     'volume_backend_name': backend})
    return types.SimpleNamespace(backend_name=backend, db=db_api,
                                 driver=driver, conf=cfg.CONF)


def _volumes(db_api):
    admin = volflow_context.get_admin_context()

    def volume(**values):
        return db_api.volume_create(admin, dict(
            {'size': 1, 'project_id': 'p1'}, **values))['id']

    ours = volume(host='b1')
    cinder_style = volume(host='node1@b1#pool')
    others = [volume(host='b2'), volume(host=None),
              volume(host='b1', status='available')]
    return ours, cinder_style, others


def _record_manager_flow(db_api, volume_id, backend='b1',
                         state=states.SUCCESS):
    """A manager flow of ``backend`` recorded for the volume."""
    detail = persistence.new_detail(
        'volume-create-manager', uuidutils.generate_uuid(), 'manager',
        volume_id, common.FACTORIES['manager'], {'backend': backend}, {},
        None)
    detail.state = state
    conn = persistence.get_backend(db_api, cfg.CONF).get_connection()
    assert persistence.create_detail(conn, detail, 'manager')


def _assert_errored_out(db_api, volume_ids):
    admin = volflow_context.get_admin_context()
    for volume_id in volume_ids:
        recovered = db_api.volume_get(admin, volume_id)
        assert (recovered['status'], recovered['host']) == ('error', None)
        assert recovered['reason'] == ("the volume service of backend 'b1' "
                                       "stopped while creating the volume")


def _statuses(db_api, volume_ids):
    admin = volflow_context.get_admin_context()
    return [db_api.volume_get(admin, v)['status'] for v in volume_ids]


def test_a_restarted_volume_service_leaves_queued_requests_alone():
    """No manager flow of the backend ever recorded: still queued."""
    db_api = fake_db.FakeAPI()
    ours, cinder_style, others = _volumes(db_api)
    _record_manager_flow(db_api, ours, backend='b2')  # another backend's
    manager = _manager(db_api)
    manager.driver.volumes[ours] = {'size': 1, 'source': 'raw'}

    assert recovery.resume_backend(manager) == []
    assert _statuses(db_api, [ours, cinder_style] + others) == [
        'creating', 'creating', 'creating', 'creating', 'available']
    assert ours in manager.driver.volumes  # nothing deleted


def test_a_restarted_volume_service_errors_out_what_it_started():
    """A manager flow recorded and ended, the volume still creating."""
    db_api = fake_db.FakeAPI()
    ours, cinder_style, others = _volumes(db_api)
    for volume_id in (ours, cinder_style):
        _record_manager_flow(db_api, volume_id)
    manager = _manager(db_api)
    manager.driver.volumes[ours] = {'size': 1, 'source': 'raw'}

    assert recovery.resume_backend(manager) == [ours, cinder_style]
    _assert_errored_out(db_api, [ours, cinder_style])
    assert manager.driver.volumes == {}  # what it wrote is deleted
    assert _statuses(db_api, others) == ['creating', 'creating', 'available']


def test_without_persistence_the_sweep_takes_every_volume_creating(
        conf_override):
    """Nothing recorded: Cinder's ``init_host``, queued or not."""
    conf_override('persistence_enabled', False, group='taskflow')
    db_api = fake_db.FakeAPI()
    ours, cinder_style, others = _volumes(db_api)
    manager = _manager(db_api)
    manager.driver.volumes[ours] = {'size': 1, 'source': 'raw'}

    assert recovery.resume_backend(manager) == [ours, cinder_style]
    _assert_errored_out(db_api, [ours, cinder_style])
    assert manager.driver.volumes == {}
    assert _statuses(db_api, others) == ['creating', 'creating', 'available']
