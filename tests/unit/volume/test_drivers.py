"""Drivers are found by entry point name or import path."""

import pytest

from volflow import exception
from volflow.volume import drivers
from volflow.volume.drivers import fake
from volflow.volume.drivers import file as file_driver


@pytest.mark.parametrize('name, cls', [
    ('fake', fake.FakeDriver),
    ('file', file_driver.FileDriver),
    ('volflow.volume.drivers.fake.FakeDriver', fake.FakeDriver),
])
def test_driver_class(name, cls):
    assert drivers.driver_class(name) is cls


def test_load_driver_builds_it_for_the_backend(make_backend):
    driver = drivers.load_driver(make_backend('x', volume_driver='fake'))
    assert isinstance(driver, fake.FakeDriver)
    assert driver.backend_name == 'x'
    assert not driver.initialized


@pytest.mark.parametrize('name', ['nope', 'volflow.nope.Driver',
                                  'volflow.volume.drivers.fake.Nope'])
def test_unknown_drivers_are_a_config_error(name):
    with pytest.raises(exception.ConfigError, match=name):
        drivers.driver_class(name)
