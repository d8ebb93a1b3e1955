"""A backend ``a`` with a fake driver, and everything around its manager.

``env.run(volume, ...)`` runs the manager flow the way
:class:`volflow.volume.manager.VolumeManager` does; the scheduler rpcapi
records reschedules and the notifier what was sent.
"""

import logging

import pytest

from tests import rpcapis
from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow import engines
from volflow.flows.manager import create_volume
from volflow.image import fake as fake_image
from volflow.volume.drivers import fake as fake_driver

LOG = logging.getLogger('tests.flows.manager')


class Notifier:
    def __init__(self):
        self.sent = []

    def info(self, ctxt, event_type, payload):
        self.sent.append((event_type, payload))

    @property
    def events(self):
        return [event for event, _payload in self.sent]


class Env:
    backend = 'a'

    def __init__(self, tmp_path):
        self.db = fake_db.FakeAPI()
        self.db.seed()
        self.ctx = volflow_context.RequestContext(user_id='u',
                                                  project_id='p')
        self.admin = self.ctx.elevated()
        self.driver = fake_driver.FakeDriver({
            'name': self.backend, 'volume_backend_name': self.backend,
            'availability_zone': 'nova', 'total_capacity_gb': 10,
            'reserved_percentage': 0, 'thin_provisioning_support': False,
            'max_over_subscription_ratio': 1.0})
        self.driver.set_initialized()
        self.images = fake_image.FakeImageService(
            self.db, str(tmp_path / 'images'))
        self.scheduler = rpcapis.Scheduler()
        self.notifier = Notifier()

    def volume(self, size=1, **values):
        values.setdefault('status', 'creating')
        values.setdefault('host', self.backend)
        return self.db.volume_create(self.ctx, dict(
            values, size=size, project_id='p', user_id='u'))

    def available_volume(self, size=1):
        """A volume the driver holds, ``available``."""
        volume = self.volume(size, status='available')
        self.driver.create_volume(volume)
        return volume

    def snapshot(self, volume, status='available'):
        snapshot = self.db.snapshot_create(self.ctx, {
            'volume_id': volume['id'], 'volume_size': volume['size'],
            'status': status, 'project_id': 'p'})
        self.driver.create_snapshot(snapshot, volume)
        return snapshot

    def engine(self, volume, retry=True, allow_reschedule=True):
        filter_properties = ({'retry': {'num_attempts': 1,
                                        'backends': [self.backend]}}
                             if retry else {})
        request_spec = {'volume_id': volume['id'],
                        'snapshot_id': volume['snapshot_id'],
                        'image_id': volume['image_id']}
        return create_volume.get_flow(
            self.admin, self.db, self.driver, self.scheduler, self.backend,
            volume, allow_reschedule, self.ctx, request_spec,
            filter_properties, image_service=self.images,
            notifier=self.notifier)

    def run(self, volume, **kwargs):
        """Run the flow; return the volume as the db has it afterwards."""
        engine = self.engine(volume, **kwargs)
        engines.run_engine(engine, logger=LOG)
        return self.get(volume)

    def get(self, volume):
        return self.db.volume_get(self.admin, volume['id'])


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)
