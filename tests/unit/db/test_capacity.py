"""Capacity claims: a volume is placed on a backend only where it fits.

In memory, on a SQLite file and on PostgreSQL: threads racing to place
volumes never allocate a backend more than its capacity, a claim made
again claims nothing more, and clearing a volume's host or deleting it
releases exactly its size.
"""

from concurrent import futures
import threading

import pytest
import sqlalchemy as sa

from volflow import context
from volflow.db import rules
from volflow.db.sqlalchemy import api as sql_api
from volflow import exception
from volflow.scheduler import filter_scheduler
from volflow.volume import backends

CTX = context.RequestContext(user_id='u', project_id='p')
ADMIN = context.get_admin_context()
CAPACITY = 30
BACKENDS = ('b1', 'b2')


def _volume(db, size=1, **values):
    return db.volume_create(CTX, dict(values, size=size, project_id='p',
                                      user_id='u', status='creating'))


def _allocated(db):
    return {name: size for name, size in
            backends.allocated_by_backend(db, ADMIN).items() if size}


def test_a_claim_places_the_volume_where_it_fits(db):
    volume = _volume(db, size=3)
    placed = db.volume_claim_capacity(CTX, volume['id'], 'b1', 3,
                                      {'availability_zone': 'az1'})
    assert (placed['host'], placed['availability_zone']) == ('b1', 'az1')
    assert db.volume_get(CTX, volume['id'])['host'] == 'b1'
    with pytest.raises(exception.CapacityClaimFailed) as caught:
        db.volume_claim_capacity(CTX, _volume(db)['id'], 'b1', 3)
    assert 'b1 has 0G free' in str(caught.value)
    assert _allocated(db) == {'b1': 3}


def test_claiming_again_claims_nothing_more(db):
    volume = _volume(db, size=2)
    for _attempt in range(3):
        assert db.volume_claim_capacity(CTX, volume['id'], 'b1',
                                        2)['host'] == 'b1'
    assert _allocated(db) == {'b1': 2}


def test_releases_give_back_exactly_the_size(db):
    first, second = _volume(db, size=2), _volume(db, size=2)
    db.volume_claim_capacity(CTX, first['id'], 'b1', 4)
    db.volume_claim_capacity(CTX, second['id'], 'b1', 4)
    for _release in range(2):  # a reschedule run twice (resume)
        db.volume_update(ADMIN, first['id'], {'host': None})
    assert _allocated(db) == {'b1': 2}
    db.volume_destroy(ADMIN, second['id'])  # delete
    assert _allocated(db) == {}
    assert db.volume_claim_capacity(CTX, first['id'], 'b1',
                                    2)['host'] == 'b1'


def test_a_volume_moved_elsewhere_releases_its_first_backend(db):
    volume = _volume(db, size=2)
    db.volume_claim_capacity(CTX, volume['id'], 'b1', 2)
    db.volume_claim_capacity(CTX, volume['id'], 'b2', 2)
    assert _allocated(db) == {'b2': 2}


def test_cinder_style_hosts_count_for_their_backend(db):
    other = _volume(db, size=2)
    db.volume_update(ADMIN, other['id'], {'host': 'node1@b1#pool'})
    with pytest.raises(exception.CapacityClaimFailed):
        db.volume_claim_capacity(CTX, _volume(db)['id'], 'b1', 2)


@pytest.mark.parametrize('status', ['available', 'error', 'deleting'])
def test_only_a_creating_volume_is_placed(db, status):
    volume = _volume(db)
    db.volume_update(ADMIN, volume['id'], {'status': status})
    with pytest.raises(exception.InvalidVolume):
        db.volume_claim_capacity(CTX, volume['id'], 'b1', 10)
    assert db.volume_get(CTX, volume['id'])['host'] is None


def test_another_projects_volume_is_not_found(db):
    volume = _volume(db)
    other = context.RequestContext(user_id='u', project_id='other')
    with pytest.raises(exception.VolumeNotFound):
        db.volume_claim_capacity(other, volume['id'], 'b1', 10)


def _race(count, func, items):
    start = threading.Barrier(count)

    def run(item):
        start.wait()
        return func(item)

    with futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, items))


def test_threads_never_overcommit(db):
    """100 claims of 1G by 16 threads, next backend on a failed claim."""
    volumes = [_volume(db) for _ in range(100)]

    def claim(volume):
        for name in BACKENDS:
            try:
                return db.volume_claim_capacity(CTX, volume['id'], name,
                                                CAPACITY)['host']
            except exception.CapacityClaimFailed:
                continue
        return None

    chunks = [volumes[i::16] for i in range(16)]
    hosts = [host for chunk in _race(16, lambda c: [claim(v) for v in c],
                                     chunks) for host in chunk]
    assert hosts.count('b1') == hosts.count('b2') == CAPACITY
    assert hosts.count(None) == 100 - 2 * CAPACITY
    assert _allocated(db) == {'b1': CAPACITY, 'b2': CAPACITY}


class _Casts:
    def __init__(self):
        self.casts = []

    def create_volume(self, ctxt, volume, request_spec, filter_properties,
                      allow_reschedule=True):
        self.casts.append(volume['host'])


def _backend(name):
    return {'name': name, 'volume_backend_name': name,
            'availability_zone': 'nova', 'total_capacity_gb': CAPACITY,
            'reserved_percentage': 0, 'thin_provisioning_support': False,
            'max_over_subscription_ratio': 1.0}


def test_schedulers_apart_never_overcommit(db, conf):
    """Four schedulers (no lock in common) place 100 volumes of 1G."""
    db.seed()
    casts = _Casts()
    configured = [_backend(name) for name in BACKENDS]
    schedulers = [filter_scheduler.FilterScheduler(
        db, casts, conf, get_backends=lambda conf: configured)
        for _ in range(4)]
    volumes = [_volume(db) for _ in range(100)]

    def schedule(index):
        placed = refused = 0
        for volume in volumes[index::4]:
            spec = {'volume_id': volume['id'],
                    'volume_properties': {'size': 1}}
            try:
                schedulers[index].schedule_create_volume(CTX, spec, {})
                placed += 1
            except exception.NoValidBackend as exc:
                assert 'free' in str(exc)
                refused += 1
        return placed, refused

    outcomes = _race(4, schedule, range(4))
    assert sum(p for p, _ in outcomes) == 2 * CAPACITY
    assert sum(r for _, r in outcomes) == 100 - 2 * CAPACITY
    assert sorted(casts.casts) == ['b1'] * CAPACITY + ['b2'] * CAPACITY
    assert _allocated(db) == {'b1': CAPACITY, 'b2': CAPACITY}


def test_an_older_sqlite_database_gets_the_lock_table(tmp_path):
    url = f'sqlite:///{tmp_path}/old.sqlite'
    db = sql_api.SQLAPI(url)
    volume = _volume(db)
    with db.engine.begin() as conn:  # as a database made before claims
        conn.execute(sa.text('DROP TABLE backend_locks'))
        conn.execute(sa.text('DROP TABLE alembic_version'))
    db.dispose()
    db = sql_api.SQLAPI(url, upgrade_older=True)  # the embedded default's
    try:
        assert db.volume_claim_capacity(CTX, volume['id'], 'b1',
                                        1)['host'] == 'b1'
    finally:
        db.dispose()


def _counted(db):
    """``{host: gigabytes}`` summed from the volumes themselves."""
    with db.engine.connect() as conn:
        return {host: int(total) for host, total in conn.execute(sa.text(
            "SELECT host, SUM(size) FROM volumes WHERE host IS NOT NULL "
            "AND host != '' GROUP BY host HAVING SUM(size) != 0"))}


def test_kept_sums_follow_every_write(sql_db):
    """Whoever writes - the API or plain SQL - the sums stay exact."""
    db = sql_db
    volumes = [_volume(db, size=n + 1) for n in range(4)]
    db.volume_claim_capacity(CTX, volumes[0]['id'], 'b1', 100)
    db.volume_claim_capacity(CTX, volumes[1]['id'], 'b1', 100)
    db.volume_claim_capacity(CTX, volumes[2]['id'], 'b2', 100)
    db.volume_update(CTX, volumes[1]['id'], {'host': 'node@b1#p'})
    db.volume_update(CTX, volumes[2]['id'], {'size': 7})
    db.volume_update(CTX, volumes[0]['id'], {'host': None})
    db.volume_destroy(CTX, volumes[2]['id'])
    with db.engine.begin() as conn:  # not through the API
        conn.execute(sa.text(
            "INSERT INTO volumes (id, size, host, status, multiattach) "
            "VALUES ('direct', 5, 'b2', 'available', false)"))
    assert db.volume_allocated_by_host(ADMIN) == _counted(db) == {
        'node@b1#p': 2, 'b2': 5}
    assert _allocated(db) == {'b1': 2, 'b2': 5}


def test_an_older_sqlite_database_gets_its_sums_filled(tmp_path):
    url = f'sqlite:///{tmp_path}/old.sqlite'
    db = sql_api.SQLAPI(url)
    volume = _volume(db, size=3)
    db.volume_claim_capacity(CTX, volume['id'], 'b1', 10)
    with db.engine.begin() as conn:  # as a database made before the sums
        for trigger in ('insert', 'update', 'delete'):
            conn.execute(sa.text(
                f'DROP TRIGGER volumes_host_allocations_{trigger}'))
        conn.execute(sa.text('DROP TABLE host_allocations'))
        conn.execute(sa.text(
            "INSERT INTO volumes (id, size, host, multiattach) "
            "VALUES ('old', 4, 'b1', false)"))
        conn.execute(sa.text('DROP TABLE alembic_version'))
    db.dispose()
    db = sql_api.SQLAPI(url, upgrade_older=True)  # the embedded default's
    try:
        assert _allocated(db) == {'b1': 7}
        with pytest.raises(exception.CapacityClaimFailed):
            db.volume_claim_capacity(CTX, _volume(db, size=4)['id'], 'b1',
                                     10)
    finally:
        db.dispose()


def test_backend_of_host():
    assert [rules.backend_of_host(h) for h in (
        'node1@b1#pool', 'b1#pool', 'b1', None, '')] == [
        'b1', 'b1', 'b1', None, None]
