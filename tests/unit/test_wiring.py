"""volflow.wiring: the collaborators the configuration asks for."""

import os

import pytest

from volflow.db import fake as fake_db
from volflow.image import fake as fake_image
from volflow.rpc import local
from volflow.rpc import messaging
from volflow import wiring


@pytest.fixture
def db_api():
    db_api = fake_db.FakeAPI()
    db_api.seed()
    return db_api


def test_images_live_under_the_state_path(conf, db_api):
    images = wiring.image_service(db_api, conf)
    assert isinstance(images, fake_image.FakeImageService)
    assert images.images_dir == os.path.join(conf.state_path, 'images')


def test_without_a_broker_the_rpc_is_in_process(conf, conf_override,
                                                db_api):
    conf_override('jobboard_enabled', False, group='taskflow')
    scheduler, volume = wiring.get_rpcapis(
        db_api, wiring.image_service(db_api, conf), conf)
    try:
        assert isinstance(scheduler, local.SchedulerAPI)
        assert isinstance(volume, local.VolumeAPI)
    finally:
        local.reset()


def test_with_a_broker_the_rpc_is_oslo_messaging(conf, conf_override,
                                                 db_api):
    conf_override('jobboard_enabled', False, group='taskflow')
    conf_override('transport_url', 'fake:/')
    try:
        scheduler, volume = wiring.get_rpcapis(
            db_api, wiring.image_service(db_api, conf), conf)
        assert isinstance(scheduler, messaging.SchedulerAPI)
        assert isinstance(volume, messaging.VolumeAPI)
    finally:
        messaging.cleanup()
