"""FakeDriver: in memory, failing on demand."""

import random

import pytest

from volflow import exception
from volflow.volume.drivers import fake


def vol(volume_id='v1', size=1):
    return {'id': volume_id, 'size': size}


@pytest.fixture
def driver(make_backend):
    return fake.FakeDriver(make_backend(volume_driver='fake'))


def test_volumes_and_snapshots_live_in_memory(driver):
    driver.create_volume(vol('a'))
    driver.create_snapshot({'id': 's'}, vol('a'))
    driver.create_volume_from_snapshot(vol('b'), {'id': 's'})
    driver.create_cloned_volume(vol('c'), vol('a'))
    assert {k: v['source'] for k, v in driver.volumes.items()} == {
        'a': 'raw', 'b': 'snapshot:s', 'c': 'volume:a'}
    driver.delete_snapshot({'id': 's'})
    for name in 'abc':
        driver.delete_volume(vol(name))
        driver.delete_volume(vol(name))
    assert driver.volumes == {} and driver.snapshots == {}


def test_sources_must_exist(driver):
    with pytest.raises(exception.SnapshotNotFound):
        driver.create_volume_from_snapshot(vol(), {'id': 'nope'})
    with pytest.raises(exception.VolumeNotFound):
        driver.create_cloned_volume(vol(), vol('nope'))
    assert driver.volumes == {}


def test_fail_create_true_fails_every_creation(driver):
    driver.fail_create = True
    for _ in range(3):
        with pytest.raises(exception.VolumeBackendAPIException,
                           match='injected failure'):
            driver.create_volume(vol())
    assert driver.volumes == {}


def test_fail_create_n_fails_the_next_n(driver):
    driver.fail_create = 2
    for _ in range(2):
        with pytest.raises(exception.VolumeBackendAPIException):
            driver.create_volume(vol())
    driver.create_volume(vol())
    assert list(driver.volumes) == ['v1']


@pytest.mark.parametrize('rate, failures', [(0.0, 0), (1.0, 20)])
def test_failure_rate(make_backend, rate, failures):
    driver = fake.FakeDriver(make_backend(fake_failure_rate=rate),
                             rng=random.Random(7))
    failed = 0
    for i in range(20):
        try:
            driver.create_volume(vol(f'v{i}'))
        except exception.VolumeBackendAPIException:
            failed += 1
    assert failed == failures


def test_latency_sleeps_on_every_call(make_backend, monkeypatch):
    slept = []
    monkeypatch.setattr(fake.time, 'sleep', slept.append)
    driver = fake.FakeDriver(make_backend(fake_latency=0.25))
    driver.create_volume(vol())
    driver.delete_volume(vol())
    assert slept == [0.25, 0.25]


def test_stats(driver):
    driver.create_volume(vol(size=3))
    stats = driver.get_volume_stats()
    assert stats['provisioned_capacity_gb'] == 3
    assert stats['free_capacity_gb'] == 7
