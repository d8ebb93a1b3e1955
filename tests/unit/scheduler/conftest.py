"""A seeded in-memory db, backends and a recording volume rpcapi."""

import pytest

from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow.scheduler import filter_scheduler


class VolumeRpc:
    """Records the casts the scheduler sends to volume managers."""

    def __init__(self):
        self.casts = []

    def create_volume(self, ctxt, volume, request_spec, filter_properties,
                      allow_reschedule=True):
        self.casts.append({'volume': volume,
                           'request_spec': request_spec,
                           'filter_properties': filter_properties,
                           'allow_reschedule': allow_reschedule})


def _backend(name, total=10, az='nova', backend_name=None, **values):
    config = {
        'name': name,
        'volume_driver': 'fake',
        'volume_backend_name': backend_name or name,
        'availability_zone': az,
        'total_capacity_gb': total,
        'reserved_percentage': 0,
        'thin_provisioning_support': False,
        'max_over_subscription_ratio': 1.0,
        'volumes_dir': None,
        'fake_latency': 0.0,
        'fake_failure_rate': 0.0,
    }
    config.update(values)
    return config


class World:
    """A project's volumes in a fresh db."""

    def __init__(self, db_api):
        self.db = db_api
        self.ctx = volflow_context.RequestContext(user_id='u',
                                                  project_id='p')
        self.admin = volflow_context.get_admin_context()

    def volume(self, size=1, **values):
        values.setdefault('status', 'creating')
        return self.db.volume_create(self.ctx, dict(
            values, size=size, project_id='p', user_id='u'))

    def spec(self, volume, volume_type=None, zones=None, **extra):
        """The request spec the API flow's VolumeCastTask builds."""
        spec = {
            'volume_id': volume['id'],
            'volume_properties': {
                'size': volume['size'],
                'availability_zone': volume['availability_zone']},
            'volume_type': volume_type,
            'snapshot_id': volume['snapshot_id'],
            'source_volid': volume['source_volid'],
            'image_id': volume['image_id'],
            'availability_zones': zones or ['nova'],
        }
        spec.update(extra)
        return spec


@pytest.fixture
def world():
    db_api = fake_db.FakeAPI()
    db_api.seed()
    return World(db_api)


@pytest.fixture
def volume_rpc():
    return VolumeRpc()


@pytest.fixture
def backend():
    """``backend(name, total=10, az='nova', backend_name=None, **opts)``."""
    return _backend


@pytest.fixture
def make_scheduler(world, volume_rpc):
    """``make_scheduler(*backends)``: a FilterScheduler over them."""
    def make(*backends):
        return filter_scheduler.FilterScheduler(
            world.db, volume_rpc, volflow_conf.CONF,
            get_backends=lambda conf: list(backends))
    return make
