"""volflow.recovery: a volume service's takeover of its backend."""

import types

from oslo_config import cfg

from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow import recovery
from volflow.volume.drivers import fake as fake_driver


def _manager(db_api, backend='b1'):
    driver = fake_driver.FakeDriver({'name': backend,
                                     'volume_backend_name': backend})
    return types.SimpleNamespace(backend_name=backend, db=db_api,
                                 driver=driver, conf=cfg.CONF)


def test_a_restarted_volume_service_errors_out_what_it_left_creating():
    """Volumes with no recorded flow: Cinder's ``init_host``."""
    db_api = fake_db.FakeAPI()
    admin = volflow_context.get_admin_context()

    def volume(**values):
        return db_api.volume_create(admin, dict(
            {'size': 1, 'project_id': 'p1'}, **values))['id']

    ours = volume(host='b1')
    cinder_style = volume(host='node1@b1#pool')
    others = [volume(host='b2'), volume(host=None),
              volume(host='b1', status='available')]
    manager = _manager(db_api)
    manager.driver.volumes[ours] = {'size': 1, 'source': 'raw'}

    assert recovery.resume_backend(manager) == [ours, cinder_style]
    for volume_id in (ours, cinder_style):
        recovered = db_api.volume_get(admin, volume_id)
        assert (recovered['status'], recovered['host']) == ('error', None)
        assert recovered['reason'] == ("the volume service of backend 'b1' "
                                       "stopped while creating the volume")
    assert manager.driver.volumes == {}  # what it wrote is deleted
    assert [db_api.volume_get(admin, v)['status'] for v in others] == [
        'creating', 'creating', 'available']
