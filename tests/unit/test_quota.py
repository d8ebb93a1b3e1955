"""volflow.quota: limits, the over-quota messages, expiry and release.

The messages are checked through ``API.create``, as a user meets them,
and every refusal is checked to change nothing.
"""

import datetime

from oslo_utils import timeutils
import pytest

from tests import invariants
from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow import exception
from volflow.image import fake as fake_image
from volflow import quota
from volflow.volume import api as volume_api


@pytest.fixture
def db_api(conf):
    db_api = fake_db.FakeAPI()
    db_api.seed()
    db_api.volume_type_create(volflow_context.get_admin_context(), 'gold')
    return db_api


@pytest.fixture
def ctx():
    return volflow_context.RequestContext(user_id='u1', project_id='p1')


@pytest.fixture
def engine(conf, db_api):
    return quota.QuotaEngine(db_api, conf)


class Scheduler:
    """Finishes every volume it is handed, as the pipeline would."""

    def __init__(self, db_api):
        self.db = db_api

    def create_volume(self, ctxt, volume, **kwargs):
        self.db.volume_update(ctxt, volume['id'], {'status': 'available'})


class VolumeRpc:
    def create_volume(self, *args, **kwargs):
        raise AssertionError('not called by the API')


@pytest.fixture
def vapi(conf, db_api, tmp_path):
    return volume_api.API(
        db_api=db_api,
        image_service=fake_image.FakeImageService(db_api,
                                                  str(tmp_path / 'img')),
        scheduler_rpcapi=Scheduler(db_api), volume_rpcapi=VolumeRpc(),
        conf=conf)


def _usage(db_api, resource, project_id='p1'):
    usage = db_api.quota_usage_get_all(
        volflow_context.get_admin_context(), project_id).get(
            resource, {'in_use': 0, 'reserved': 0})
    return usage['in_use'], usage['reserved']


def _refused(vapi, db_api, ctx, exc_class, message, size=1, **kwargs):
    before = invariants.state(db_api, ['p1'])
    with pytest.raises(exc_class) as info:
        vapi.create(ctx, size, 'v', None, **kwargs)
    assert type(info.value) is exc_class
    assert str(info.value) == message
    assert invariants.state(db_api, ['p1']) == before
    invariants.assert_invariants(db_api, ['p1'])


# Limits -------------------------------------------------------------------

def test_type_resources_adds_per_type_copies():
    assert quota.type_resources('gold', volumes=1, gigabytes=5) == {
        'volumes': 1, 'gigabytes': 5, 'volumes_gold': 1,
        'gigabytes_gold': 5}
    assert quota.type_resources(None, volumes=1) == {'volumes': 1}


def test_limits_default_to_config_and_explicit_wins(engine, ctx,
                                                    conf_override):
    conf_override('quota_volumes', 7)
    engine.update(ctx, 'p1', 'gigabytes', 50)
    limits = engine.limits(ctx, 'p1', ['volumes_gold'])
    assert limits['volumes'] == 7
    assert limits['gigabytes'] == 50
    assert limits['snapshots'] == 10
    assert limits['volumes_gold'] == -1
    assert engine.limits(ctx, 'p2')['gigabytes'] == 1000


def test_summary_shows_limit_in_use_and_reserved(vapi, engine, ctx):
    vapi.create(ctx, 3, 'v', None)
    engine.reserve(ctx, 'p1', {'volumes': 1, 'gigabytes': 2})
    summary = engine.summary(ctx, 'p1')
    assert summary['volumes'] == {'limit': 10, 'in_use': 1, 'reserved': 1}
    assert summary['gigabytes'] == {'limit': 1000, 'in_use': 3,
                                    'reserved': 2}
    assert summary['snapshots'] == {'limit': 10, 'in_use': 0,
                                    'reserved': 0}
    assert summary['volumes___DEFAULT__']['limit'] == -1


@pytest.mark.parametrize('limit', [-2, -100])
def test_update_refuses_limits_below_minus_one(engine, db_api, ctx, limit):
    with pytest.raises(exception.InvalidInput, match=f"'{limit}'"):
        engine.update(ctx, 'p1', 'volumes', limit)
    assert db_api.quota_get_all(ctx, 'p1') == {}


# Over-quota messages ------------------------------------------------------

def test_volumes_limit(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'volumes', 2)
    vapi.create(ctx, 1, 'a', None)
    vapi.create(ctx, 1, 'b', None)
    _refused(vapi, db_api, ctx, exception.VolumeLimitExceeded,
             "Maximum number of volumes allowed (2) exceeded for quota "
             "'volumes'.")


def test_volumes_limit_from_config(vapi, db_api, ctx, conf_override):
    conf_override('quota_volumes', 1)
    vapi.create(ctx, 1, 'a', None)
    _refused(vapi, db_api, ctx, exception.VolumeLimitExceeded,
             "Maximum number of volumes allowed (1) exceeded for quota "
             "'volumes'.")


def test_gigabytes_limit(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'gigabytes', 10)
    vapi.create(ctx, 8, 'a', None)
    _refused(vapi, db_api, ctx, exception.VolumeSizeExceedsAvailableQuota,
             'Requested volume or snapshot exceeds allowed gigabytes quota. '
             'Requested 3G, quota is 10G and 8G has been consumed.', size=3)


def test_gigabytes_consumed_includes_reserved(vapi, db_api, engine, ctx):
    db_api.quota_set(ctx, 'p1', 'gigabytes', 10)
    vapi.create(ctx, 4, 'a', None)
    reservations = engine.reserve(ctx, 'p1', {'gigabytes': 5})
    with pytest.raises(exception.VolumeSizeExceedsAvailableQuota,
                       match='Requested 2G, quota is 10G and 9G has been '
                             'consumed'):
        vapi.create(ctx, 2, 'v', None)
    engine.rollback(ctx, reservations)
    volume = vapi.create(ctx, 2, 'v', None)  # accepted
    assert vapi.get(ctx, volume['id'])['status'] == 'available'
    invariants.assert_invariants(db_api, ['p1'])


def test_gigabytes_reported_before_volumes(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'volumes', 0)
    db_api.quota_set(ctx, 'p1', 'gigabytes', 0)
    _refused(vapi, db_api, ctx, exception.VolumeSizeExceedsAvailableQuota,
             'Requested volume or snapshot exceeds allowed gigabytes quota. '
             'Requested 1G, quota is 0G and 0G has been consumed.')


def test_snapshot_gigabytes_are_consumed(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'gigabytes', 10)
    volume = vapi.create(ctx, 4, 'a', None)
    vapi.create_snapshot(ctx, volume['id'])
    _refused(vapi, db_api, ctx, exception.VolumeSizeExceedsAvailableQuota,
             'Requested volume or snapshot exceeds allowed gigabytes quota. '
             'Requested 3G, quota is 10G and 8G has been consumed.', size=3)


def test_per_type_volumes_limit(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'volumes_gold', 1)
    vapi.create(ctx, 1, 'a', None, volume_type='gold')
    _refused(vapi, db_api, ctx, exception.VolumeLimitExceeded,
             "Maximum number of volumes allowed (1) exceeded for quota "
             "'volumes_gold'.", volume_type='gold')
    # Other types are not limited by it.
    assert vapi.create(ctx, 1, 'b', None)['volume_type'] == '__DEFAULT__'
    invariants.assert_invariants(db_api, ['p1'])


def test_per_type_gigabytes_limit(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'gigabytes_gold', 5)
    vapi.create(ctx, 4, 'a', None, volume_type='gold')
    _refused(vapi, db_api, ctx, exception.VolumeSizeExceedsAvailableQuota,
             'Requested volume or snapshot exceeds allowed gigabytes_gold '
             'quota. Requested 2G, quota is 5G and 4G has been consumed.',
             size=2, volume_type='gold')


@pytest.mark.parametrize('limit, size', [(10, 11), (0, 1)])
def test_per_volume_size_limit(vapi, db_api, ctx, conf_override, limit,
                               size):
    conf_override('per_volume_size_limit', limit)
    _refused(vapi, db_api, ctx, exception.VolumeSizeExceedsLimit,
             f'Requested volume size {size}G is larger than maximum allowed '
             f'limit {limit}G.', size=size)


def test_per_volume_size_limit_is_inclusive(vapi, ctx, conf_override):
    conf_override('per_volume_size_limit', 10)
    assert vapi.create(ctx, 10, 'v', None)['size'] == 10


def test_unlimited(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'volumes', -1)
    db_api.quota_set(ctx, 'p1', 'gigabytes', -1)
    for index in range(12):
        vapi.create(ctx, 100, f'v{index}', None)
    assert _usage(db_api, 'volumes') == (12, 0)
    assert _usage(db_api, 'gigabytes') == (1200, 0)


def test_quota_is_per_project(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'volumes', 1)
    vapi.create(ctx, 1, 'a', None)
    other = volflow_context.RequestContext(user_id='u2', project_id='p2')
    assert vapi.create(other, 1, 'b', None)['project_id'] == 'p2'
    assert _usage(db_api, 'volumes', 'p2') == (1, 0)
    invariants.assert_invariants(db_api, ['p1', 'p2'])


def test_over_quota_with_unknown_resource_is_kept(engine, ctx, db_api):
    db_api.quota_set(ctx, 'p1', 'backups', 0)
    with pytest.raises(exception.OverQuota,
                       match='Quota exceeded for resources: backups.'):
        engine.reserve(ctx, 'p1', {'backups': 1})
    assert db_api.reservation_get_all(ctx) == []


# Reservations: expiry, rollback, release ----------------------------------

class Clock:
    """``timeutils.utcnow`` stand-in that moves only when told to."""

    def __init__(self):
        self.now = datetime.datetime(2030, 1, 1)

    def __call__(self, with_timezone=False):
        return self.now

    def advance_time_seconds(self, seconds):
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture
def frozen_time(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(timeutils, 'utcnow', clock)
    return clock


def test_expire_rolls_back_stale_reservations(engine, db_api, ctx,
                                              conf_override, frozen_time):
    conf_override('reservation_expire', 60)
    stale = engine.reserve(ctx, 'p1', {'volumes': 1, 'gigabytes': 5})
    frozen_time.advance_time_seconds(30)
    fresh = engine.reserve(ctx, 'p1', {'volumes': 1, 'gigabytes': 2})
    assert engine.expire(ctx) == 0
    frozen_time.advance_time_seconds(31)
    assert engine.expire(ctx) == len(stale)
    assert _usage(db_api, 'volumes') == (0, 1)
    assert _usage(db_api, 'gigabytes') == (0, 2)
    assert sorted(r['id'] for r in db_api.reservation_get_all(ctx)) == (
        sorted(fresh))
    engine.commit(ctx, stale)  # too late: nothing happens
    assert _usage(db_api, 'gigabytes') == (0, 2)
    frozen_time.advance_time_seconds(60)
    assert engine.expire(ctx) == len(fresh)
    assert _usage(db_api, 'volumes') == (0, 0)
    assert db_api.reservation_get_all(ctx) == []
    assert engine.expire(ctx) == 0


def test_expired_reservation_frees_quota_for_new_creates(
        vapi, engine, db_api, ctx, conf_override, frozen_time):
    """A process died between reserve and commit: expiry gives it back."""
    conf_override('reservation_expire', 60)
    db_api.quota_set(ctx, 'p1', 'volumes', 1)
    engine.reserve(ctx, 'p1', {'volumes': 1, 'gigabytes': 1})
    with pytest.raises(exception.VolumeLimitExceeded):
        vapi.create(ctx, 1, 'v', None)
    frozen_time.advance_time_seconds(61)
    engine.expire(ctx)
    volume = vapi.create(ctx, 1, 'v', None)  # accepted
    assert vapi.get(ctx, volume['id'])['status'] == 'available'
    invariants.assert_invariants(db_api, ['p1'])


def test_rollback_and_commit_are_idempotent(engine, db_api, ctx):
    reservations = engine.reserve(ctx, 'p1', {'volumes': 1})
    engine.rollback(ctx, reservations)
    engine.rollback(ctx, reservations)
    engine.commit(ctx, reservations)
    assert _usage(db_api, 'volumes') == (0, 0)
    reservations = engine.reserve(ctx, 'p1', {'volumes': 2})
    engine.commit(ctx, reservations)
    engine.commit(ctx, reservations)
    engine.rollback(ctx, reservations)
    assert _usage(db_api, 'volumes') == (2, 0)


def test_release_after_delete(vapi, db_api, ctx):
    volume = vapi.create(ctx, 5, 'v', None, volume_type='gold')
    assert _usage(db_api, 'gigabytes_gold') == (5, 0)
    vapi.delete(ctx, volume['id'])
    for resource in ('volumes', 'gigabytes', 'volumes_gold',
                     'gigabytes_gold'):
        assert _usage(db_api, resource) == (0, 0), resource
    assert db_api.reservation_get_all(ctx) == []
    invariants.assert_invariants(db_api, ['p1'])


def test_release_never_goes_below_zero(engine, db_api, ctx):
    engine.release(ctx, 'p1', {'volumes': 3})
    assert _usage(db_api, 'volumes') == (0, 0)
    assert db_api.reservation_get_all(ctx) == []


def test_negative_deltas_are_never_over_quota(engine, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'volumes', 0)
    engine.release(ctx, 'p1', {'volumes': 1})
    assert _usage(db_api, 'volumes') == (0, 0)
