"""volflow.volume.api.API: create, get, wait, delete and snapshots.

Run against the in-memory fake and, when the SQL implementation exists,
against a SQLite file: the API must behave the same on both.
"""

import importlib.util
import threading

import hypothesis
from hypothesis import strategies
import pytest

from tests import invariants
from tests import rpcapis
from volflow import context as volflow_context
from volflow import db
from volflow.db import api as db_api_module
from volflow.db import fake as fake_db
from volflow import exception
from volflow.image import fake as fake_image
from volflow.volume import api as volume_api

_HAS_SQL = importlib.util.find_spec('volflow.db.sqlalchemy.api') is not None
BACKENDS = ['memory', pytest.param('sqlite', marks=pytest.mark.skipif(
    not _HAS_SQL, reason='volflow.db.sqlalchemy.api does not exist yet'))]


def _memory_db(conf):
    db_api = fake_db.FakeAPI()
    db_api.seed()
    return db_api


@pytest.fixture(params=BACKENDS)
def db_api(request, conf, tmp_path):
    if request.param == 'memory':
        yield _memory_db(conf)
        return
    db_api = db.get_api('sqlite:///' + str(tmp_path / 'x.sqlite'))
    yield db_api
    db_api.dispose()


@pytest.fixture
def ctx():
    return volflow_context.RequestContext(user_id='u1', project_id='p1')


@pytest.fixture
def other_ctx():
    return volflow_context.RequestContext(user_id='u2', project_id='p2')


@pytest.fixture
def admin_ctx():
    return volflow_context.RequestContext(user_id='admin', project_id='p0',
                                          is_admin=True)


def _api(conf, db_api, tmp_path, scheduler=None):
    return volume_api.API(
        db_api=db_api,
        image_service=fake_image.FakeImageService(db_api,
                                                  str(tmp_path / 'img')),
        scheduler_rpcapi=scheduler or rpcapis.Scheduler(db_api),
        volume_rpcapi=rpcapis.UnusedVolumeRpc(), conf=conf)


@pytest.fixture
def vapi(conf, db_api, tmp_path):
    return _api(conf, db_api, tmp_path)


def _usage(db_api, ctx, resource):
    usage = db_api.quota_usage_get_all(ctx, ctx.project_id)[resource]
    return usage['in_use'], usage['reserved']


# create -------------------------------------------------------------------

def test_create_returns_the_volume_as_the_flow_leaves_it(conf, db_api,
                                                         tmp_path, ctx):
    vapi = _api(conf, db_api, tmp_path,
                rpcapis.Scheduler(db_api, finish=False))
    volume = vapi.create(ctx, 2, 'name', 'description')
    assert set(db_api_module.VOLUME_FIELDS) <= set(volume)
    assert volume['status'] == 'creating'
    assert (volume['size'], volume['name'], volume['description']) == (
        2, 'name', 'description')
    assert (volume['project_id'], volume['user_id']) == ('p1', 'u1')
    assert volume['volume_type'] == '__DEFAULT__'
    assert volume['availability_zone'] == 'nova'
    assert volume['metadata'] == {}
    assert _usage(db_api, ctx, 'gigabytes') == (2, 0)
    db_api.volume_update(ctx, volume['id'], {'status': 'available'})
    invariants.assert_invariants(db_api, ['p1'])


def test_create_with_every_argument(vapi, db_api, ctx, admin_ctx):
    db_api.volume_type_create(admin_ctx, 'gold', {})
    image = db_api.image_create(ctx, {'name': 'i', 'size': 1,
                                      'project_id': 'p1'})
    volume = vapi.create(ctx, '3', 'n', 'd', image_id=image['id'],
                         volume_type='gold', metadata={'a': 'b'},
                         availability_zone='nova')
    # As the API flow handed it over; the scheduler stand-in has made it
    # available meanwhile.
    assert volume['status'] == 'creating'
    volume = vapi.get(ctx, volume['id'])
    assert volume['status'] == 'available'
    assert (volume['size'], volume['image_id'], volume['volume_type'],
            volume['metadata']) == (3, image['id'], 'gold', {'a': 'b'})
    invariants.assert_invariants(db_api, ['p1'])


def test_cast_failure_leaves_an_error_volume(conf, db_api, tmp_path, ctx):
    vapi = _api(conf, db_api, tmp_path,
                rpcapis.Scheduler(db_api,
                                  fail_with=OSError('no route to host')))
    volume = vapi.create(ctx, 1, 'v', None)
    assert volume['status'] == 'error'
    assert _usage(db_api, ctx, 'volumes') == (1, 0)
    invariants.assert_invariants(db_api, ['p1'])
    vapi.delete(ctx, volume['id'])
    assert _usage(db_api, ctx, 'volumes') == (0, 0)
    invariants.assert_invariants(db_api, ['p1'])


def test_refused_create_changes_nothing(vapi, db_api, ctx):
    vapi.create(ctx, 1, 'first', None)
    before = invariants.state(db_api, ['p1'])
    with pytest.raises(exception.InvalidInput, match="'0'"):
        vapi.create(ctx, 0, 'v', None)
    assert invariants.state(db_api, ['p1']) == before
    invariants.assert_invariants(db_api, ['p1'])


# get / get_all ------------------------------------------------------------

def test_projects_see_only_their_volumes(vapi, db_api, ctx, other_ctx,
                                         admin_ctx):
    mine = vapi.create(ctx, 1, 'mine', None)
    theirs = vapi.create(other_ctx, 1, 'theirs', None)
    assert vapi.get(ctx, mine['id'])['name'] == 'mine'
    assert [v['id'] for v in vapi.get_all(ctx)] == [mine['id']]
    with pytest.raises(exception.VolumeNotFound, match=theirs['id']):
        vapi.get(ctx, theirs['id'])
    assert {v['id'] for v in vapi.get_all(admin_ctx)} == {mine['id'],
                                                          theirs['id']}
    assert vapi.get(admin_ctx, theirs['id'])['project_id'] == 'p2'


def test_wait_returns_once_the_volume_left_creating(conf, db_api, tmp_path,
                                                    ctx):
    vapi = _api(conf, db_api, tmp_path,
                rpcapis.Scheduler(db_api, finish=False))
    volume = vapi.create(ctx, 1, 'v', None)
    timer = threading.Timer(0.05, db_api.volume_update,
                            (ctx, volume['id'], {'status': 'available'}))
    timer.start()
    try:
        assert vapi.wait(ctx, volume['id'], 10)['status'] == 'available'
    finally:
        timer.cancel()


def test_wait_times_out_naming_the_volume(conf, db_api, tmp_path, ctx):
    vapi = _api(conf, db_api, tmp_path,
                rpcapis.Scheduler(db_api, finish=False))
    volume = vapi.create(ctx, 1, 'v', None)
    with pytest.raises(exception.Timeout) as info:
        vapi.wait(ctx, volume['id'], 0.02)
    assert str(info.value) == (f"Volume {volume['id']} is still creating "
                               f"after 0.02 seconds.")
    db_api.volume_update(ctx, volume['id'], {'status': 'error'})
    invariants.assert_invariants(db_api, ['p1'])


# delete -------------------------------------------------------------------

@pytest.mark.parametrize('status', ['available', 'error'])
def test_delete_releases_quota(vapi, db_api, ctx, status):
    keep = vapi.create(ctx, 2, 'keep', None)
    volume = vapi.create(ctx, 3, 'v', None)
    db_api.volume_update(ctx, volume['id'], {'status': status})
    vapi.delete(ctx, volume['id'])
    with pytest.raises(exception.VolumeNotFound):
        vapi.get(ctx, volume['id'])
    assert _usage(db_api, ctx, 'volumes') == (1, 0)
    assert _usage(db_api, ctx, 'gigabytes') == (2, 0)
    assert _usage(db_api, ctx, 'gigabytes___DEFAULT__') == (2, 0)
    assert [v['id'] for v in vapi.get_all(ctx)] == [keep['id']]
    invariants.assert_invariants(db_api, ['p1'])


@pytest.mark.parametrize('status', ['creating', 'in-use', 'deleting'])
def test_delete_refused_from_other_statuses(vapi, db_api, ctx, status):
    volume = vapi.create(ctx, 1, 'v', None)
    db_api.volume_update(ctx, volume['id'], {'status': status})
    before = invariants.state(db_api, ['p1'])
    with pytest.raises(exception.InvalidVolume) as info:
        vapi.delete(ctx, volume['id'])
    assert f"not '{status}'" in str(info.value)
    assert volume['id'] in str(info.value)
    assert invariants.state(db_api, ['p1']) == before


def test_admin_may_force_delete(vapi, db_api, ctx):
    volume = vapi.create(ctx, 1, 'v', None)
    db_api.volume_update(ctx, volume['id'], {'status': 'creating'})
    vapi.delete(ctx.elevated(), volume['id'], force=True)
    assert vapi.get_all(ctx) == []
    assert _usage(db_api, ctx, 'volumes') == (0, 0)
    invariants.assert_invariants(db_api, ['p1'])


def test_force_delete_needs_admin(vapi, db_api, ctx):
    volume = vapi.create(ctx, 1, 'v', None)
    before = invariants.state(db_api, ['p1'])
    with pytest.raises(exception.InvalidInput, match='admin'):
        vapi.delete(ctx, volume['id'], force=True)
    assert invariants.state(db_api, ['p1']) == before


def test_volume_with_snapshots_cannot_be_deleted(vapi, db_api, ctx):
    volume = vapi.create(ctx, 1, 'v', None)
    vapi.create_snapshot(ctx, volume['id'])
    before = invariants.state(db_api, ['p1'])
    with pytest.raises(exception.InvalidVolume, match='snapshots'):
        vapi.delete(ctx, volume['id'])
    assert invariants.state(db_api, ['p1']) == before


def test_cannot_delete_another_projects_volume(vapi, db_api, ctx,
                                               other_ctx):
    theirs = vapi.create(other_ctx, 1, 'theirs', None)
    with pytest.raises(exception.VolumeNotFound):
        vapi.delete(ctx, theirs['id'])
    assert vapi.get(other_ctx, theirs['id'])['status'] == 'available'


# snapshots ----------------------------------------------------------------

def test_snapshot_counts_against_quota(vapi, db_api, ctx):
    volume = vapi.create(ctx, 4, 'v', None)
    snapshot = vapi.create_snapshot(ctx, volume['id'], name='s')
    assert snapshot['status'] == 'available'
    assert (snapshot['volume_id'], snapshot['volume_size']) == (
        volume['id'], 4)
    assert _usage(db_api, ctx, 'snapshots') == (1, 0)
    assert _usage(db_api, ctx, 'gigabytes') == (8, 0)
    assert _usage(db_api, ctx, 'snapshots___DEFAULT__') == (1, 0)
    assert [s['id'] for s in vapi.get_all_snapshots(ctx)] == [snapshot['id']]
    invariants.assert_invariants(db_api, ['p1'])


def test_snapshot_gigabytes_not_counted_when_configured(vapi, db_api, ctx,
                                                        conf_override):
    conf_override('no_snapshot_gb_quota', True)
    volume = vapi.create(ctx, 4, 'v', None)
    vapi.create_snapshot(ctx, volume['id'])
    assert _usage(db_api, ctx, 'gigabytes') == (4, 0)
    invariants.assert_invariants(db_api, ['p1'])


def test_snapshot_of_unavailable_volume_refused(vapi, db_api, ctx):
    volume = vapi.create(ctx, 1, 'v', None)
    db_api.volume_update(ctx, volume['id'], {'status': 'error'})
    before = invariants.state(db_api, ['p1'])
    with pytest.raises(exception.InvalidVolume, match="not 'error'"):
        vapi.create_snapshot(ctx, volume['id'])
    assert invariants.state(db_api, ['p1']) == before


def test_snapshot_over_quota_refused(vapi, db_api, ctx):
    volume = vapi.create(ctx, 1, 'v', None)
    db_api.quota_set(ctx, 'p1', 'snapshots', 0)
    before = invariants.state(db_api, ['p1'])
    with pytest.raises(exception.SnapshotLimitExceeded,
                       match=r"\(0\) exceeded for quota 'snapshots'"):
        vapi.create_snapshot(ctx, volume['id'])
    assert invariants.state(db_api, ['p1']) == before
    invariants.assert_invariants(db_api, ['p1'])


def test_cannot_snapshot_or_read_another_projects_snapshot(
        vapi, db_api, ctx, other_ctx):
    theirs = vapi.create(other_ctx, 1, 'theirs', None)
    with pytest.raises(exception.VolumeNotFound):
        vapi.create_snapshot(ctx, theirs['id'])
    snapshot = vapi.create_snapshot(other_ctx, theirs['id'])
    with pytest.raises(exception.SnapshotNotFound):
        vapi.get_snapshot(ctx, snapshot['id'])
    assert vapi.get_all_snapshots(ctx) == []


# Concurrency (the invariants) --------------------------------------------

def test_concurrent_creates_never_exceed_quota(vapi, db_api, ctx):
    db_api.quota_set(ctx, 'p1', 'volumes', 20)
    barrier = threading.Barrier(50)
    results = []
    lock = threading.Lock()

    def create(index):
        barrier.wait()
        try:
            volume = vapi.create(ctx, 1, f'v{index}', None)
            outcome = vapi.get(ctx, volume['id'])['status']
        except exception.VolumeLimitExceeded as exc:
            outcome = str(exc)
        except Exception as exc:  # reported, not swallowed
            outcome = repr(exc)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(set(results)) == [
        "Maximum number of volumes allowed (20) exceeded for quota "
        "'volumes'.", 'available']
    assert results.count('available') == 20
    assert len(results) == 50
    assert len(vapi.get_all(ctx)) == 20
    assert _usage(db_api, ctx, 'volumes') == (20, 0)
    assert _usage(db_api, ctx, 'gigabytes') == (20, 0)
    invariants.assert_invariants(db_api, ['p1'])


# Any sequence of creates and deletes keeps the invariants -----------------

_OPERATIONS = strategies.lists(
    strategies.one_of(
        strategies.tuples(strategies.just('create'),
                          strategies.sampled_from(['p1', 'p2']),
                          strategies.integers(min_value=-1, max_value=6)),
        strategies.tuples(strategies.just('delete'),
                          strategies.sampled_from(['p1', 'p2']),
                          strategies.integers(min_value=0, max_value=9)),
        strategies.tuples(strategies.just('fail-cast'),
                          strategies.sampled_from(['p1', 'p2']),
                          strategies.integers(min_value=1, max_value=3))),
    max_size=12)


@hypothesis.settings(max_examples=40, deadline=None, database=None,
                     suppress_health_check=[
                         hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(operations=_OPERATIONS,
                  volumes=strategies.integers(min_value=0, max_value=4),
                  gigabytes=strategies.integers(min_value=0, max_value=12))
def test_any_sequence_keeps_the_invariants(conf, tmp_path, operations,
                                           volumes, gigabytes):
    db_api = _memory_db(conf)
    scheduler = rpcapis.Scheduler(db_api)
    vapi = _api(conf, db_api, tmp_path, scheduler)
    admin = volflow_context.get_admin_context()
    for project in ('p1', 'p2'):
        db_api.quota_set(admin, project, 'volumes', volumes)
        db_api.quota_set(admin, project, 'gigabytes', gigabytes)
    for kind, project, number in operations:
        ctx = volflow_context.RequestContext(user_id='u',
                                             project_id=project)
        if kind == 'delete':
            existing = vapi.get_all(ctx)
            if existing:
                vapi.delete(ctx, existing[number % len(existing)]['id'])
            continue
        scheduler.fail_with = OSError('down') if kind == 'fail-cast' else None
        before = invariants.state(db_api, ['p1', 'p2'])
        try:
            vapi.create(ctx, number, 'v', None)
        except (exception.InvalidInput, exception.OverQuota):
            assert invariants.state(db_api, ['p1', 'p2']) == before
        invariants.assert_invariants(db_api, ['p1', 'p2'])
    for project in ('p1', 'p2'):
        usages = db_api.quota_usage_get_all(admin, project)
        for resource in ('volumes', 'gigabytes'):
            limit = volumes if resource == 'volumes' else gigabytes
            assert usages.get(resource, {'in_use': 0})['in_use'] <= limit
