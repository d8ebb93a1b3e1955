"""volflow.volume.backends: the backends configuration gives, and capacity."""

import os
import socket

import pytest

from volflow.conf import backend as backend_conf
from volflow import exception
from volflow.volume import backends


def test_without_enabled_backends_there_is_the_local_one(conf):
    [local] = backends.get_backends(conf)
    assert local['name'] == local['volume_backend_name'] == 'local'
    assert local['volume_driver'] == 'file'
    assert local['availability_zone'] == conf.storage_availability_zone
    assert local['volumes_dir'] == os.path.join(conf.state_path, 'volumes')
    assert backends.availability_zones(conf) == [
        conf.storage_availability_zone]


def _two(conf, conf_override):
    for name in ('gold', 'iron'):
        backend_conf.register_backend(conf, name)
    conf_override('enabled_backends', ['gold', 'iron'])
    conf_override('volume_driver', 'fake', group='gold')
    conf_override('backend_availability_zone', 'az2', group='gold')
    conf_override('total_capacity_gb', 100, group='iron')


def test_enabled_backends_replace_it_in_their_order(conf, conf_override):
    _two(conf, conf_override)
    gold, iron = backends.get_backends(conf)
    assert (gold['name'], gold['volume_driver'], gold['availability_zone'],
            gold['volume_backend_name']) == ('gold', 'fake', 'az2', 'gold')
    assert iron['volumes_dir'] == os.path.join(conf.state_path, 'volumes',
                                               'iron')
    assert iron['availability_zone'] == conf.storage_availability_zone
    assert backends.get_backend('iron', conf)['total_capacity_gb'] == 100
    assert backends.availability_zones(conf) == sorted(
        {'az2', conf.storage_availability_zone})


def test_an_unknown_backend_is_refused_by_name(conf):
    with pytest.raises(exception.BackendNotFound, match='nope'):
        backends.get_backend('nope', conf)


def test_an_enabled_backend_without_a_section_is_a_config_error(
        conf, conf_override):
    conf_override('enabled_backends', ['missing-section'])
    with pytest.raises(exception.ConfigError,
                       match=r"'missing-section', which has no"):
        backends.get_backends(conf)


@pytest.mark.parametrize('host, name', [
    ('node1@local#pool', 'local'), ('local#pool', 'local'),
    ('local', 'local'),
])
def test_the_backend_of_a_host(host, name):
    assert backends.backend_of_host(host) == name


def test_cinder_hosts_name_the_pool(conf):
    assert backends.cinder_host('local', conf) == (
        f'{socket.gethostname()}@local#local')
    assert backends.cinder_host('node@local#local', conf) == (
        'node@local#local')
    assert backends.cinder_host('elsewhere', conf) == 'elsewhere'
    assert backends.cinder_host(None, conf) is None


def _backend(**values):
    backend = {'total_capacity_gb': 100, 'reserved_percentage': 0,
               'thin_provisioning_support': False,
               'max_over_subscription_ratio': 20.0}
    backend.update(values)
    return backend


@pytest.mark.parametrize('values, allocated, free', [
    ({}, 0, 100.0),
    ({}, 30, 70.0),
    ({'reserved_percentage': 10}, 0, 90.0),
    ({'thin_provisioning_support': True}, 0, 2000.0),
    ({'thin_provisioning_support': True, 'reserved_percentage': 50},
     500, 500.0),
    ({}, 150, -50.0),
])
def test_free_capacity(values, allocated, free):
    assert backends.free_capacity_gb(_backend(**values), allocated) == free
    assert backends.capacity_gb(_backend(**values)) == (
        backends.free_capacity_gb(_backend(**values), 0))
