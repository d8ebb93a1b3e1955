"""tests.invariants: the invariants checker catches what it must.

The checker is only worth something if it fails on a broken state, so
each kind of breakage is made through the public db API and must be
reported, on every db implementation available.
"""

import datetime
import importlib.util

import pytest

from tests.fixtures import databases
from tests import invariants
from volflow import conf as volflow_conf
from volflow import context as volflow_context

_HAS_SQL = importlib.util.find_spec('volflow.db.sqlalchemy.api') is not None


@pytest.fixture
def conf(tmp_path):
    conf = volflow_conf.load()
    conf.set_override('state_path', str(tmp_path / 'state'))
    yield conf
    conf.clear_override('state_path')


@pytest.fixture(params=['memory', pytest.param('sqlite', marks=(
    pytest.mark.skipif(not _HAS_SQL, reason='no SQL implementation yet')))])
def db_api(request, conf, tmp_path):
    yield from databases.memory_or_sqlite(request.param, tmp_path)


@pytest.fixture
def admin():
    return volflow_context.get_admin_context()


@pytest.fixture
def gold(db_api, admin):
    return db_api.volume_type_create(admin, 'gold_plated')


def _create(db_api, admin, project_id, size, vtype, status='available'):
    """A volume made as the API flow makes one: reserve, insert, commit."""
    deltas = {'volumes': 1, 'gigabytes': size,
              f"volumes_{vtype['name']}": 1,
              f"gigabytes_{vtype['name']}": size}
    reservations = db_api.quota_reserve(admin, project_id, deltas, {},
                                        _far_future())
    volume = db_api.volume_create(admin, {
        'size': size, 'status': status, 'project_id': project_id,
        'user_id': 'u', 'volume_type_id': vtype['id']})
    db_api.reservation_commit(admin, reservations)
    return volume


def _snapshot(db_api, admin, volume, vtype):
    deltas = {'snapshots': 1, 'gigabytes': volume['size'],
              f"snapshots_{vtype['name']}": 1,
              f"gigabytes_{vtype['name']}": volume['size']}
    reservations = db_api.quota_reserve(admin, volume['project_id'], deltas,
                                        {}, _far_future())
    snapshot = db_api.snapshot_create(admin, {
        'volume_id': volume['id'], 'volume_size': volume['size'],
        'status': 'available', 'project_id': volume['project_id'],
        'volume_type_id': vtype['id']})
    db_api.reservation_commit(admin, reservations)
    return snapshot


def _far_future():
    return datetime.datetime(2999, 1, 1)


def _broken(db_api):
    with pytest.raises(AssertionError) as info:
        invariants.assert_invariants(db_api, ['p1', 'p2', 'p3'])
    return str(info.value)


def test_empty_database_holds(db_api):
    invariants.assert_invariants(db_api)
    invariants.assert_invariants(db_api, ['p1'])


def test_consistent_records_hold(db_api, admin, gold):
    volume = _create(db_api, admin, 'p1', 3, gold)
    _create(db_api, admin, 'p1', 2, gold, status='error')
    _create(db_api, admin, 'p2', 5, gold)
    _snapshot(db_api, admin, volume, gold)
    invariants.assert_invariants(db_api, ['p1', 'p2', 'p3'])


def test_usage_that_does_not_add_up(db_api, admin, gold):
    _create(db_api, admin, 'p2', 3, gold)
    # A row inserted behind quota's back (the double count of bug 1587376
    # the other way round).
    db_api.volume_create(admin, {'size': 4, 'status': 'available',
                                 'project_id': 'p2', 'user_id': 'u',
                                 'volume_type_id': gold['id']})
    message = _broken(db_api)
    assert "p2/volumes: in_use is 1, the project's records add up to 2" in (
        message)
    assert 'p2/gigabytes: in_use is 3' in message
    assert 'p2/gigabytes_gold_plated: in_use is 3' in message
    assert 'p2/volumes_gold_plated: in_use is 1' in message


def test_leak_in_a_project_with_no_records_left(db_api, admin):
    """Usage committed for a volume that was never made (or destroyed)."""
    db_api.reservation_commit(admin, db_api.quota_reserve(
        admin, 'p3', {'volumes': 1}, {}, _far_future()))
    assert 'p3/volumes: in_use is 1' in _broken(db_api)
    # Found only when the project is named: nothing else points at it.
    invariants.assert_invariants(db_api, ['p1'])


def test_outstanding_reservation(db_api, admin, gold):
    _create(db_api, admin, 'p1', 1, gold)
    db_api.quota_reserve(admin, 'p1', {'volumes': 1}, {}, _far_future())
    message = _broken(db_api)
    assert 'outstanding reservations' in message
    assert 'p1/volumes: reserved is 1, not 0' in message


def test_volume_left_creating(db_api, admin, gold):
    volume = _create(db_api, admin, 'p1', 1, gold, status='creating')
    assert f"volume {volume['id']} of project p1 is still creating" in (
        _broken(db_api))


def test_snapshot_gigabytes(db_api, admin, gold):
    volume = _create(db_api, admin, 'p1', 3, gold)
    _snapshot(db_api, admin, volume, gold)
    invariants.assert_invariants(db_api, no_snapshot_gb_quota=False)
    with pytest.raises(AssertionError,
                       match="p1/gigabytes: in_use is 6, the project's "
                             "records add up to 3"):
        invariants.assert_invariants(db_api, no_snapshot_gb_quota=True)


def test_state_ignores_zero_usage_rows(db_api, admin):
    before = invariants.state(db_api, ['p1'])
    db_api.reservation_rollback(admin, db_api.quota_reserve(
        admin, 'p1', {'volumes': 1}, {}, _far_future()))
    assert invariants.state(db_api, ['p1']) == before


def test_state_sees_what_a_request_may_not_change(db_api, admin, gold):
    before = invariants.state(db_api, ['p1'])
    _create(db_api, admin, 'p1', 1, gold)
    after = invariants.state(db_api, ['p1'])
    assert after != before
    assert after['usages']['p1']['volumes'] == (1, 0)
    assert len(after['volumes']) == 1
