"""Conformance of every database implementation to ``volflow.db.api.API``.

Each test runs on the in-memory fake, on a SQLite file and on PostgreSQL,
and asserts what a caller sees: the dicts returned, the errors raised and
the quota usage left behind.
"""

import datetime
import threading
from unittest import mock
import uuid

from oslo_utils import timeutils
import pytest
import sqlalchemy as sa

from tests.fixtures import databases
from volflow import conf as volflow_conf
from volflow import context
from volflow import db as volflow_db
from volflow.db import api
from volflow.db.sqlalchemy import api as sql_api
from volflow import exception

CTX_A = context.RequestContext(user_id='ua', project_id='pa')
CTX_B = context.RequestContext(user_id='ub', project_id='pb')
ADMIN = context.get_admin_context()
NOW = datetime.datetime(2030, 1, 2, 3, 4, 5, 678901)


class _Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self, *args, **kwargs):
        return self.now

    def advance(self, seconds):
        self.now += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    """``timeutils.utcnow()`` frozen at ``NOW``; ``.advance(seconds)``."""
    with mock.patch.object(timeutils, 'utcnow', new=_Clock()) as frozen:
        yield frozen


@pytest.fixture
def gold(db):
    return db.volume_type_create(ADMIN, 'gold', {'volume_backend_name': 'b'},
                                 description='Fast.')


def _volume(db, ctx=CTX_A, **values):
    values.setdefault('size', 1)
    values.setdefault('project_id', ctx.project_id)
    return db.volume_create(ctx, values)


# Volumes -----------------------------------------------------------------
def test_a_volume_id_is_taken_once(db):
    first = _volume(db, name='first')
    with pytest.raises(exception.InvalidVolume,
                       match=f'volume {first["id"]} already exists'):
        _volume(db, CTX_B, id=first['id'], name='second')
    assert [v['name'] for v in db.volume_get_all(ADMIN)] == ['first']


def test_a_volume_and_its_type_name_are_one_statement(sql_db):
    """The INSERT returns the type's name: no second statement reads it."""
    gold = sql_db.volume_type_create(ADMIN, 'gold')
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith('BEGIN'):
            seen.append(statement.split()[0].upper())

    sa.event.listen(sql_db.engine, 'before_cursor_execute', record)
    try:
        typed = _volume(sql_db, volume_type_id=gold['id'])
        untyped = _volume(sql_db)
    finally:
        sa.event.remove(sql_db.engine, 'before_cursor_execute', record)
    assert seen == ['INSERT', 'INSERT']
    assert (typed['volume_type'], untyped['volume_type']) == ('gold', None)
    assert sql_db.volume_get(CTX_A, typed['id'])['volume_type'] == 'gold'


def test_volume_create_defaults(db, clock):
    volume = db.volume_create(CTX_A, {'size': 1, 'project_id': 'pa'})
    assert set(volume) == set(api.VOLUME_FIELDS) | {'reason', 'multiattach'}
    assert uuid.UUID(volume['id'])
    assert volume == dict(
        dict.fromkeys(api.VOLUME_FIELDS), id=volume['id'], size=1,
        project_id='pa', status='creating', metadata={}, reason=None,
        multiattach=False, created_at=NOW, updated_at=NOW)
    assert db.volume_get(CTX_A, volume['id']) == volume


def test_volume_create_all_fields_and_extras(db, gold, clock):
    values = {'id': str(uuid.uuid4()), 'name': 'n', 'description': 'd',
              'size': 3, 'status': 'available', 'project_id': 'pa',
              'user_id': 'ua', 'volume_type_id': gold['id'],
              'volume_type': 'ignored', 'availability_zone': 'nova',
              'host': 'h@b#p', 'snapshot_id': None, 'source_volid': None,
              'image_id': 'img', 'metadata': {'k': 'v', 'n': [1, 2]},
              'multiattach': True, 'bootable': True,
              'launched_at': NOW + datetime.timedelta(seconds=1)}
    volume = db.volume_create(CTX_A, values)
    expected = dict(values, volume_type='gold', reason=None,
                    created_at=NOW, updated_at=NOW)
    assert volume == expected
    assert db.volume_get(CTX_A, values['id']) == expected
    assert db.volume_get_all(CTX_A) == [expected]
    assert values['volume_type'] == 'ignored'  # the caller's dict is intact


def test_volume_create_duplicate_id(db):
    volume = _volume(db)
    with pytest.raises(exception.InvalidVolume, match=volume['id']):
        _volume(db, id=volume['id'])
    assert len(db.volume_get_all(ADMIN)) == 1


def test_volume_type_name_of_unknown_type_is_none(db):
    volume = _volume(db, volume_type_id='no-such-type')
    assert volume['volume_type'] is None
    assert db.volume_get(CTX_A, volume['id'])['volume_type'] is None


def test_volume_get_missing(db):
    with pytest.raises(exception.VolumeNotFound, match='nope'):
        db.volume_get(ADMIN, 'nope')


def test_volume_get_all_oldest_first_and_filters(db, gold):
    first = _volume(db, status='available', host='h1',
                    volume_type_id=gold['id'])
    second = _volume(db, status='error', host='h2')
    third = _volume(db, status='available', host='h2')
    other = _volume(db, CTX_B, status='available', host='h1')
    ids = [v['id'] for v in db.volume_get_all(CTX_A)]
    assert ids == [first['id'], second['id'], third['id']]
    assert [v['id'] for v in db.volume_get_all(ADMIN)] == ids + [other['id']]
    assert [v['id'] for v in db.volume_get_all(
        CTX_A, {'status': 'available'})] == [first['id'], third['id']]
    assert [v['id'] for v in db.volume_get_all(
        ADMIN, {'host': 'h1'})] == [first['id'], other['id']]
    assert [v['id'] for v in db.volume_get_all(
        ADMIN, {'project_id': 'pb'})] == [other['id']]
    assert db.volume_get_all(ADMIN, {'host': 'h1', 'status': 'error'}) == []
    assert db.volume_get_all(CTX_A)[0]['volume_type'] == 'gold'


def test_volume_update(db, gold, clock):
    volume = _volume(db, metadata={'a': '1'})
    clock.advance(5)
    updated = db.volume_update(
        CTX_A, volume['id'],
        {'status': 'available', 'host': 'h', 'volume_type_id': gold['id'],
         'volume_type': 'ignored', 'metadata': {'b': '2'},
         'reason': 'why', 'launched_at': NOW})
    later = NOW + datetime.timedelta(seconds=5)
    expected = dict(volume, status='available', host='h',
                    volume_type_id=gold['id'], volume_type='gold',
                    metadata={'b': '2'}, reason='why', launched_at=NOW,
                    updated_at=later)
    assert updated == expected
    assert db.volume_get(CTX_A, volume['id']) == expected
    assert db.volume_update(CTX_A, volume['id'], {'size': 2}) == dict(
        expected, size=2)


def test_volume_update_missing(db):
    with pytest.raises(exception.VolumeNotFound):
        db.volume_update(ADMIN, 'nope', {'status': 'error'})


@pytest.mark.parametrize('expected', [
    {'status': 'creating'},
    {'status': ('available', 'creating')},
    {'status': ['creating'], 'host': None},
])
def test_volume_update_expected_matches(db, expected):
    volume = _volume(db)
    updated = db.volume_update(CTX_A, volume['id'], {'status': 'error'},
                               expected=expected)
    assert updated['status'] == 'error'


@pytest.mark.parametrize('expected, field', [
    ({'status': 'available'}, 'status'),
    ({'status': ('available', 'in-use')}, 'status'),
    ({'status': 'creating', 'host': 'h'}, 'host'),
])
def test_volume_update_expected_mismatch_changes_nothing(db, expected,
                                                         field):
    volume = _volume(db)
    with pytest.raises(exception.InvalidVolume, match=field):
        db.volume_update(CTX_A, volume['id'], {'status': 'deleting'},
                         expected=expected)
    assert db.volume_get(CTX_A, volume['id']) == volume


def test_volume_destroy(db):
    volume = _volume(db, metadata={'k': 'v'})
    keep = _volume(db)
    db.volume_destroy(CTX_A, volume['id'])
    with pytest.raises(exception.VolumeNotFound):
        db.volume_get(CTX_A, volume['id'])
    with pytest.raises(exception.VolumeNotFound):
        db.volume_destroy(CTX_A, volume['id'])
    assert db.volume_get_all(CTX_A) == [keep]


def test_volume_allocated_by_host(db):
    assert db.volume_allocated_by_host(ADMIN) == {}
    _volume(db, size=2, host='h1')
    _volume(db, size=3, host='h1')
    _volume(db, CTX_B, size=5, host='h2')
    _volume(db, size=7)  # not placed
    _volume(db, size=11, host='')
    assert db.volume_allocated_by_host(ADMIN) == {'h1': 5, 'h2': 5}
    assert db.volume_allocated_by_host(CTX_A) == {'h1': 5, 'h2': 5}


# Scoping -----------------------------------------------------------------
def test_volumes_of_another_project_are_not_found(db):
    volume = _volume(db)
    assert db.volume_get_all(CTX_B) == []
    with pytest.raises(exception.VolumeNotFound):
        db.volume_get(CTX_B, volume['id'])
    with pytest.raises(exception.VolumeNotFound):
        db.volume_update(CTX_B, volume['id'], {'status': 'error'})
    with pytest.raises(exception.VolumeNotFound):
        db.volume_destroy(CTX_B, volume['id'])
    assert db.volume_get(CTX_A, volume['id']) == volume
    assert db.volume_get(ADMIN, volume['id']) == volume
    assert db.volume_get_all(ADMIN) == [volume]
    assert db.volume_update(ADMIN, volume['id'],
                            {'status': 'error'})['status'] == 'error'
    db.volume_destroy(ADMIN, volume['id'])
    assert db.volume_get_all(ADMIN) == []


def test_snapshots_of_another_project_are_not_found(db):
    snap = db.snapshot_create(CTX_A, {'volume_id': 'v', 'project_id': 'pa'})
    assert db.snapshot_get_all(CTX_B) == []
    assert db.snapshot_get_all(CTX_B, volume_id='v') == []
    for call in (lambda: db.snapshot_get(CTX_B, snap['id']),
                 lambda: db.snapshot_update(CTX_B, snap['id'], {'name': 'x'}),
                 lambda: db.snapshot_destroy(CTX_B, snap['id'])):
        with pytest.raises(exception.SnapshotNotFound):
            call()
    assert db.snapshot_get(ADMIN, snap['id']) == snap
    assert db.snapshot_get_all(ADMIN) == [snap]
    db.snapshot_destroy(ADMIN, snap['id'])
    assert db.snapshot_get_all(CTX_A) == []


def test_images_private_to_their_project_public_to_all(db):
    private = db.image_create(CTX_A, {'name': 'a', 'project_id': 'pa'})
    public = db.image_create(CTX_B, {'name': 'b', 'project_id': 'pb',
                                     'is_public': True})
    b_only = db.image_create(CTX_B, {'name': 'c', 'project_id': 'pb'})
    assert db.image_get_all(CTX_A) == [private, public]
    assert db.image_get_all(CTX_B) == [public, b_only]
    assert db.image_get_all(ADMIN) == [private, public, b_only]
    assert db.image_get(CTX_A, public['id']) == public
    assert db.image_get(ADMIN, private['id']) == private
    with pytest.raises(exception.ImageNotFound, match=private['id']):
        db.image_get(CTX_B, private['id'])
    with pytest.raises(exception.ImageNotFound):
        db.image_get(CTX_A, b_only['id'])


# Snapshots ---------------------------------------------------------------
def test_snapshot_crud(db, gold, clock):
    snap = db.snapshot_create(CTX_A, {'volume_id': 'v1', 'project_id': 'pa',
                                      'volume_size': 2, 'name': 's'})
    assert snap == {'id': snap['id'], 'volume_id': 'v1', 'volume_size': 2,
                    'name': 's', 'status': 'creating', 'project_id': 'pa',
                    'created_at': NOW}
    typed = db.snapshot_create(CTX_A, {
        'id': 'snap-2', 'volume_id': 'v2', 'project_id': 'pa',
        'volume_size': 1, 'volume_type_id': gold['id']})
    assert typed['id'] == 'snap-2'
    assert typed['volume_type_id'] == gold['id']
    assert db.snapshot_get(CTX_A, 'snap-2') == typed
    assert db.snapshot_get_all(CTX_A) == [snap, typed]
    assert db.snapshot_get_all(CTX_A, volume_id='v2') == [typed]
    updated = db.snapshot_update(CTX_A, snap['id'], {'status': 'available'})
    assert updated == dict(snap, status='available')
    assert db.snapshot_get(CTX_A, snap['id']) == updated
    db.snapshot_destroy(CTX_A, snap['id'])
    assert db.snapshot_get_all(CTX_A) == [typed]
    with pytest.raises(exception.SnapshotNotFound, match=snap['id']):
        db.snapshot_get(CTX_A, snap['id'])


# Images ------------------------------------------------------------------
def test_image_create_defaults_and_fields(db, clock):
    image = db.image_create(CTX_A, {'name': 'cirros', 'size': 5 * 2 ** 30,
                                    'project_id': 'pa'})
    assert image == {'id': image['id'], 'name': 'cirros',
                     'size': 5 * 2 ** 30, 'min_disk': 0, 'status': 'active',
                     'project_id': 'pa', 'is_public': False,
                     'properties': {}, 'location': None, 'created_at': NOW}
    full = db.image_create(CTX_A, {
        'id': 'img-1', 'name': 'f', 'size': 1, 'min_disk': 2,
        'project_id': 'pa', 'is_public': True, 'location': '/tmp/f',
        'properties': {'volume_type': 'gold'}, 'disk_format': 'raw'})
    assert full['properties'] == {'volume_type': 'gold'}
    assert full['disk_format'] == 'raw'
    assert db.image_get(CTX_B, 'img-1') == full
    with pytest.raises(exception.ImageNotFound):
        db.image_get(ADMIN, 'nope')


# Volume types ------------------------------------------------------------
def test_volume_types(db, gold):
    assert gold == {'id': gold['id'], 'name': 'gold', 'description': 'Fast.',
                    'is_public': True, 'qos_specs_id': None,
                    'encryption': None,
                    'extra_specs': {'volume_backend_name': 'b'}}
    bronze = db.volume_type_create(CTX_A, 'bronze')
    assert bronze == {'id': bronze['id'], 'name': 'bronze',
                      'description': None, 'is_public': True,
                      'qos_specs_id': None, 'encryption': None,
                      'extra_specs': {}}
    assert db.volume_type_get(CTX_B, gold['id']) == gold
    assert db.volume_type_get_by_name(CTX_B, 'bronze') == bronze
    assert db.volume_type_get_all(CTX_A) == [bronze, gold]
    with pytest.raises(exception.InvalidVolumeType, match="'gold'"):
        db.volume_type_create(ADMIN, 'gold')
    with pytest.raises(exception.VolumeTypeNotFound, match='nope'):
        db.volume_type_get(ADMIN, 'nope')
    with pytest.raises(exception.VolumeTypeNotFound, match='silver'):
        db.volume_type_get_by_name(ADMIN, 'silver')


def test_seed_default_type_idempotently(db):
    db.seed()
    db.seed()
    [vtype] = db.volume_type_get_all(ADMIN)
    assert vtype == {'id': vtype['id'], 'name': '__DEFAULT__',
                     'description': 'Default volume type.',
                     'is_public': True, 'qos_specs_id': None,
                     'encryption': None, 'extra_specs': {}}


def test_image_update_and_destroy(db):
    image = db.image_create(CTX_A, {'name': 'a', 'project_id': 'pa',
                                    'status': 'queued'})
    updated = db.image_update(CTX_A, image['id'], {
        'status': 'active', 'size': 3, 'properties': {'checksum': 'x'}})
    assert (updated['status'], updated['size'], updated['properties']) == (
        'active', 3, {'checksum': 'x'})
    assert db.image_get(CTX_A, image['id']) == updated
    with pytest.raises(exception.ImageNotFound):
        db.image_update(CTX_B, image['id'], {'name': 'b'})
    with pytest.raises(exception.ImageNotFound):
        db.image_destroy(CTX_B, image['id'])
    db.image_destroy(CTX_A, image['id'])
    with pytest.raises(exception.ImageNotFound):
        db.image_get(ADMIN, image['id'])


# Quotas ------------------------------------------------------------------
def test_quota_destroy_all_forgets_one_projects_limits(db):
    db.quota_set(ADMIN, 'pa', 'volumes', 5)
    db.quota_set(ADMIN, 'pa', 'backups', 2)
    db.quota_set(ADMIN, 'pb', 'volumes', 1)
    db.quota_destroy_all(ADMIN, 'pa')
    assert db.quota_get_all(ADMIN, 'pa') == {}
    assert db.quota_get_all(ADMIN, 'pb') == {'volumes': 1}


def test_quota_set_and_get(db):
    assert db.quota_get_all(ADMIN, 'pa') == {}
    db.quota_set(ADMIN, 'pa', 'volumes', 5)
    db.quota_set(ADMIN, 'pa', 'gigabytes_gold', -1)
    db.quota_set(ADMIN, 'pb', 'volumes', 1)
    db.quota_set(ADMIN, 'pa', 'volumes', 7)
    assert db.quota_get_all(ADMIN, 'pa') == {'volumes': 7,
                                             'gigabytes_gold': -1}
    assert db.quota_get_all(ADMIN, 'pb') == {'volumes': 1}


@pytest.mark.parametrize('no_snapshot_gb', [False, True])
def test_quota_reserve_creates_usage_from_live_count(db, gold,
                                                     no_snapshot_gb):
    volflow_conf.CONF.set_override('no_snapshot_gb_quota', no_snapshot_gb)
    try:
        _volume(db, size=2, volume_type_id=gold['id'], status='error')
        _volume(db, size=3)
        _volume(db, CTX_B, size=100, volume_type_id=gold['id'])
        db.snapshot_create(CTX_A, {'volume_id': 'v', 'project_id': 'pa',
                                   'volume_size': 2,
                                   'volume_type_id': gold['id']})
        deltas = {'volumes': 1, 'gigabytes': 4, 'snapshots': 0,
                  'volumes_gold': 1, 'gigabytes_gold': 4}
        ids = db.quota_reserve(CTX_A, 'pa', deltas, {}, NOW)
    finally:
        volflow_conf.CONF.clear_override('no_snapshot_gb_quota')
    snap_gb = 0 if no_snapshot_gb else 2
    assert db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 2, 'reserved': 1},
        'gigabytes': {'in_use': 5 + snap_gb, 'reserved': 4},
        'snapshots': {'in_use': 1, 'reserved': 0},
        'volumes_gold': {'in_use': 1, 'reserved': 1},
        'gigabytes_gold': {'in_use': 2 + snap_gb, 'reserved': 4}}
    assert db.quota_usage_get_all(ADMIN, 'pb') == {}
    assert db.reservation_get_all(ADMIN) == [
        {'id': rid, 'project_id': 'pa', 'resource': res, 'delta': delta,
         'expire': NOW}
        for rid, (res, delta) in zip(ids, deltas.items())]


def test_quota_reserve_reads_a_class_s_limits_under_the_project_s(db):
    """Defaults, then ``defaults_from``'s limits, then the project's."""
    db.quota_set(ADMIN, 'class:x', 'volumes', 1)
    db.quota_set(ADMIN, 'class:x', 'gigabytes', 100)
    db.quota_set(ADMIN, 'pa', 'gigabytes', 3)
    assert db.quota_get_all_of(ADMIN, ['class:x', 'pa', 'pb']) == [
        {'volumes': 1, 'gigabytes': 100}, {'gigabytes': 3}, {}]
    limits = {'volumes': 10, 'gigabytes': 10}
    db.quota_reserve(CTX_A, 'pa', {'volumes': 1, 'gigabytes': 3}, limits,
                     NOW, defaults_from='class:x')
    with pytest.raises(exception.OverQuota) as volumes:  # the class's 1
        db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, limits, NOW,
                         defaults_from='class:x')
    with pytest.raises(exception.OverQuota) as gigabytes:  # the project's
        db.quota_reserve(CTX_A, 'pa', {'gigabytes': 1}, limits, NOW,
                         defaults_from='class:x')
    assert volumes.value.kwargs['quotas']['volumes'] == 1
    assert gigabytes.value.kwargs['quotas']['gigabytes'] == 3
    db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, limits, NOW)  # no class


def test_quota_reserve_checks_a_volume_s_size_first(db):
    """``size`` against ``per_volume_gigabytes``: class, then project."""
    limits = {'volumes': 10, 'per_volume_gigabytes': 100}
    db.quota_set(ADMIN, 'class:x', 'per_volume_gigabytes', 5)
    assert db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, limits, NOW,
                            defaults_from='class:x', size=5)
    usages = db.quota_usage_get_all(ADMIN, 'pa')
    reservations = db.reservation_get_all(ADMIN)
    with pytest.raises(exception.VolumeSizeExceedsLimit) as info:
        db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, limits, NOW,
                         defaults_from='class:x', size=6, key='k')
    assert info.value.kwargs == {'size': 6, 'limit': 5}
    assert db.quota_usage_get_all(ADMIN, 'pa') == usages
    assert db.reservation_get_all(ADMIN) == reservations
    db.quota_set(ADMIN, 'pa', 'per_volume_gigabytes', -1)  # the project's
    db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, limits, NOW,
                     defaults_from='class:x', size=6)
    with pytest.raises(exception.VolumeSizeExceedsLimit):
        db.quota_reserve(CTX_A, 'pb', {'volumes': 1}, limits, NOW,
                         size=101)  # no class: the default given


def test_a_reservation_and_its_commit_are_few_round_trips(sql_db):
    """Reserving is 4 statements, committing 4, each a round trip.

    Reserving: two reads, an UPDATE and an INSERT; committing: a DELETE
    returning the reservations it took, a locking read of their usage
    rows, an UPDATE and an INSERT. An UPDATE of usage rows is one
    statement, never one per row.
    """
    deltas = {'volumes': 1, 'gigabytes': 2, 'volumes_gold': 1,
              'gigabytes_gold': 2}
    sql_db.quota_reserve(CTX_A, 'pa', deltas, {}, NOW)  # the usage rows
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith('BEGIN'):
            seen.append((statement.split()[0].upper(), executemany))

    sa.event.listen(sql_db.engine, 'before_cursor_execute', record)
    try:
        ids = sql_db.quota_reserve(CTX_A, 'pa', deltas, {}, NOW, key='k',
                                   size=2)
        reserved = list(seen)
        del seen[:]
        assert sql_db.reservation_commit(CTX_A, ids) == []
    finally:
        sa.event.remove(sql_db.engine, 'before_cursor_execute', record)
    assert [kind for kind, _many in reserved] == [
        'SELECT', 'SELECT', 'UPDATE', 'INSERT']
    assert [kind for kind, _many in seen] == [
        'DELETE', 'SELECT', 'UPDATE', 'INSERT']
    assert ('UPDATE', True) not in reserved + seen
    assert sql_db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 1, 'reserved': 1},
        'gigabytes': {'in_use': 2, 'reserved': 2},
        'volumes_gold': {'in_use': 1, 'reserved': 1},
        'gigabytes_gold': {'in_use': 2, 'reserved': 2}}


def test_reservations_committed_names_only_the_committed(db):
    kept, dropped, outstanding = (
        db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, {}, NOW)
        for _ in range(3))
    db.reservation_commit(CTX_A, kept)
    db.reservation_rollback(CTX_A, dropped)
    asked = outstanding + dropped + kept + ['unknown'] + kept
    assert db.reservations_committed(ADMIN, asked) == kept
    assert db.reservations_committed(ADMIN, []) == []


def test_quota_reserve_counts_only_once(db):
    _volume(db)
    db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, {}, NOW)
    _volume(db)  # created after the usage row exists: not recounted
    db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, {}, NOW)
    assert db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 1, 'reserved': 2}}


def test_over_quota_names_overs_and_changes_nothing(db):
    ids = db.quota_reserve(CTX_A, 'pa', {'volumes': 2, 'gigabytes': 10,
                                         'snapshots': 1}, {}, NOW)
    db.reservation_commit(CTX_A, ids[:1])
    usages = db.quota_usage_get_all(ADMIN, 'pa')
    reservations = db.reservation_get_all(ADMIN)
    limits = {'volumes': 3, 'gigabytes': 10, 'snapshots': -1}
    with pytest.raises(exception.OverQuota) as info:
        db.quota_reserve(CTX_A, 'pa', {'volumes': 2, 'gigabytes': 1,
                                       'snapshots': 100}, limits, NOW)
    assert info.value.kwargs['overs'] == 'gigabytes, volumes'
    assert info.value.kwargs['over_list'] == ['gigabytes', 'volumes']
    assert info.value.kwargs['quotas'] == limits
    assert info.value.kwargs['usages']['volumes'] == {'in_use': 2,
                                                      'reserved': 0}
    assert db.quota_usage_get_all(ADMIN, 'pa') == usages
    assert db.reservation_get_all(ADMIN) == reservations


def test_over_quota_on_fresh_project_creates_no_usage(db):
    _volume(db)
    with pytest.raises(exception.OverQuota):
        db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, {'volumes': 1}, NOW)
    assert db.quota_usage_get_all(ADMIN, 'pa') == {}
    assert db.reservation_get_all(ADMIN) == []


@pytest.mark.parametrize('limit, delta, over', [
    (-1, 10 ** 6, False), (3, 3, False), (3, 4, True), (0, 0, False),
    (0, 1, True), (0, -1, False),
])
def test_quota_limits(db, limit, delta, over):
    deltas = {'volumes': delta}
    if over:
        with pytest.raises(exception.OverQuota):
            db.quota_reserve(CTX_A, 'pa', deltas, {'volumes': limit}, NOW)
    else:
        assert len(db.quota_reserve(CTX_A, 'pa', deltas,
                                    {'volumes': limit}, NOW)) == 1


def test_commit_and_rollback_are_idempotent(db):
    kept = db.quota_reserve(CTX_A, 'pa', {'volumes': 1, 'gigabytes': 5},
                            {}, NOW)
    dropped = db.quota_reserve(CTX_A, 'pa', {'volumes': 2}, {}, NOW)
    assert db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 0, 'reserved': 3},
        'gigabytes': {'in_use': 0, 'reserved': 5}}
    for _ in range(2):
        db.reservation_commit(CTX_A, kept)
        db.reservation_rollback(CTX_A, dropped)
    db.reservation_rollback(CTX_A, kept)  # already committed: no effect
    db.reservation_commit(CTX_A, dropped)  # already rolled back: no effect
    db.reservation_commit(CTX_A, ['unknown'])
    db.reservation_commit(CTX_A, [])
    db.reservation_rollback(CTX_A, None)
    assert db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 1, 'reserved': 0},
        'gigabytes': {'in_use': 5, 'reserved': 0}}
    assert db.reservation_get_all(ADMIN) == []


def test_negative_deltas_release_and_clamp_at_zero(db):
    db.reservation_commit(CTX_A, db.quota_reserve(
        CTX_A, 'pa', {'volumes': 3, 'gigabytes': 3}, {}, NOW))
    ids = db.quota_reserve(CTX_A, 'pa', {'volumes': -1, 'gigabytes': -5},
                           {'volumes': 0, 'gigabytes': 0}, NOW)
    assert db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 3, 'reserved': 0},
        'gigabytes': {'in_use': 3, 'reserved': 0}}
    db.reservation_commit(CTX_A, ids)
    assert db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 2, 'reserved': 0},
        'gigabytes': {'in_use': 0, 'reserved': 0}}


def test_reservation_expire(db):
    hour = datetime.timedelta(hours=1)
    old = db.quota_reserve(CTX_A, 'pa', {'volumes': 1, 'gigabytes': 2}, {},
                           NOW - hour)
    due = db.quota_reserve(CTX_B, 'pb', {'volumes': 4}, {}, NOW)
    fresh = db.quota_reserve(CTX_A, 'pa', {'volumes': 1}, {}, NOW + hour)
    assert [r['id'] for r in db.reservation_get_all(ADMIN, 'pa')] == (
        old + fresh)
    assert [r['id'] for r in db.reservation_get_all(ADMIN, 'pb')] == due
    assert db.reservation_expire(ADMIN, NOW) == 3
    assert db.reservation_expire(ADMIN, NOW) == 0
    assert [r['id'] for r in db.reservation_get_all(ADMIN)] == fresh
    assert db.quota_usage_get_all(ADMIN, 'pa') == {
        'volumes': {'in_use': 0, 'reserved': 1},
        'gigabytes': {'in_use': 0, 'reserved': 0}}
    assert db.quota_usage_get_all(ADMIN, 'pb') == {
        'volumes': {'in_use': 0, 'reserved': 0}}
    db.reservation_commit(CTX_A, old)  # expired: nothing left to commit
    assert db.quota_usage_get_all(ADMIN, 'pa')['volumes']['in_use'] == 0


def test_records_are_copies(db):
    metadata = {'k': 'v'}
    volume = _volume(db, metadata=metadata)
    metadata['k'] = 'changed'
    volume['metadata']['k'] = 'changed too'
    assert db.volume_get(CTX_A, volume['id'])['metadata'] == {'k': 'v'}


# SQL only ----------------------------------------------------------------
@pytest.fixture(params=databases.params())
def sql_url(request, tmp_path):
    """A fresh, empty SQL database URL (no SQLAPI holds it yet)."""
    if request.param == 'sqlite':
        return f'sqlite:///{tmp_path}/state/volflow.sqlite'
    return databases.fresh_url(request, request.param, 'api')


def test_get_api_creates_schema_and_seeds(sql_url):
    # Other tests' APIs are kept.
    with mock.patch.dict(volflow_db._APIS, clear=True):
        db = volflow_db.get_api(sql_url)
        assert volflow_db.get_api(sql_url) is db
        assert isinstance(db, sql_api.SQLAPI)
        assert [t['name'] for t in db.volume_type_get_all(ADMIN)] == [
            '__DEFAULT__']
        volflow_db.reset_apis()
    second = sql_api.SQLAPI(sql_url)  # another process, same database
    second.seed()
    assert len(second.volume_type_get_all(ADMIN)) == 1
    second.dispose()


def test_volume_get_all_is_one_query(sql_url):
    db = sql_api.SQLAPI(sql_url)
    gold = db.volume_type_create(ADMIN, 'gold')
    for _ in range(5):
        _volume(db, volume_type_id=gold['id'])
    statements = []

    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith('SELECT'):
            statements.append(statement)

    sa.event.listen(db.engine, 'before_cursor_execute', record)
    volumes = db.volume_get_all(CTX_A)
    db.dispose()
    assert [v['volume_type'] for v in volumes] == ['gold'] * 5
    assert len(statements) == 1


def test_sqlite_runs_in_wal_mode(tmp_path):
    db = sql_api.SQLAPI(f'sqlite:///{tmp_path}/a/b/volflow.sqlite')
    db.seed()
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql('PRAGMA journal_mode').scalar() == 'wal'
        assert conn.exec_driver_sql('PRAGMA busy_timeout').scalar() == 30000
    db.dispose()
    assert (tmp_path / 'a' / 'b' / 'volflow.sqlite').exists()


def test_sqlite_in_memory(clock):
    db = sql_api.SQLAPI('sqlite://')
    volume = _volume(db)
    assert db.volume_get_all(CTX_A) == [volume]
    db.dispose()


def test_a_volume_write_wakes_a_waiter(db):
    """Every volume write of this process wakes API.wait at once."""
    volume = db.volume_create(ADMIN, {'size': 1, 'status': 'creating'})
    mark = db.volume_changes()
    assert not db.volume_wait_change(mark, 0)
    woken = []
    waiter = threading.Thread(target=lambda: woken.append(
        db.volume_wait_change(mark, 60)))
    waiter.start()
    db.volume_claim_capacity(ADMIN, volume['id'], 'b1', 10)
    waiter.join(60)
    assert woken == [True]
    for write in (lambda: db.volume_update(ADMIN, volume['id'],
                                           {'status': 'available'}),
                  lambda: db.volume_destroy(ADMIN, volume['id']),
                  lambda: db.volume_create(ADMIN, {'size': 1})):
        mark = db.volume_changes()
        write()
        assert db.volume_wait_change(mark, 0)
