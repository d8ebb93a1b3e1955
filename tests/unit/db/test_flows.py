"""What resumable flows need from every database: claims, keyed quota.

Each test runs on the in-memory fake, on a SQLite file and on PostgreSQL.
"""

import datetime

from oslo_utils import timeutils

from volflow import context
from volflow.db import rules

ADMIN = context.get_admin_context()
DELTAS = {'volumes': 1, 'gigabytes': 3}


def _later(seconds=60):
    return timeutils.utcnow() + datetime.timedelta(seconds=seconds)


def _usage(db, resource='gigabytes'):
    usage = db.quota_usage_get_all(ADMIN, 'p1')[resource]
    return usage['in_use'], usage['reserved']


# Keyed reservations ---------------------------------------------------------
def test_a_keyed_reservation_made_again_is_the_same(db):
    first = db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(), key='k')
    again = db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(), key='k')
    assert first == again == [rules.reservation_id('k', r) for r in DELTAS]
    assert _usage(db) == (0, 3)
    assert len(db.reservation_get_all(ADMIN)) == 2


def test_a_committed_keyed_reservation_is_not_made_again(db):
    ids = db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(), key='k')
    assert db.reservation_commit(ADMIN, ids) == []
    assert db.reservation_commit(ADMIN, ids) == []  # again: a no-op
    assert db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(),
                            key='k') == ids
    assert _usage(db) == (3, 0)
    assert db.reservation_get_all(ADMIN) == []


def test_a_rolled_back_keyed_reservation_may_be_made_again(db):
    ids = db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(), key='k')
    db.reservation_rollback(ADMIN, ids)
    assert db.reservation_commit(ADMIN, ids) == ids  # lost: not committed
    assert _usage(db) == (0, 0)
    assert db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(),
                            key='k') == ids
    assert _usage(db) == (0, 3)


def test_an_expired_reservation_is_reported_lost(db):
    ids = db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(-1))
    assert db.reservation_expire(ADMIN, timeutils.utcnow()) == 2
    assert sorted(db.reservation_commit(ADMIN, ids)) == sorted(ids)
    assert _usage(db) == (0, 0)


def test_purged_commits_are_forgotten(db):
    old = db.quota_reserve(ADMIN, 'p1', DELTAS, {}, _later(), key='old')
    db.reservation_commit(ADMIN, old)
    assert db.reservation_purge_committed(ADMIN, _later(-3600)) == 0
    assert db.reservation_purge_committed(ADMIN, _later()) == 2
    assert db.reservation_commit(ADMIN, old) == old


# Flow claims ----------------------------------------------------------------
def test_a_claim_is_exclusive_until_released(db):
    assert db.flow_claim(ADMIN, 'f1', 'a', _later())
    assert not db.flow_claim(ADMIN, 'f1', 'b', _later())
    assert not db.flow_claim(ADMIN, 'f1', 'a', _later())  # not twice
    assert [(c['flow_uuid'], c['owner'])
            for c in db.flow_claim_get_all(ADMIN)] == [('f1', 'a')]
    db.flow_claim_release(ADMIN, 'f1', 'b')  # not b's: nothing happens
    assert not db.flow_claim(ADMIN, 'f1', 'b', _later())
    db.flow_claim_release(ADMIN, 'f1', 'a')
    assert db.flow_claim(ADMIN, 'f1', 'b', _later())


def test_an_expired_or_dead_claim_is_taken_over(db):
    assert db.flow_claim(ADMIN, 'f1', 'a', _later(-1))
    assert db.flow_claim(ADMIN, 'f1', 'b', _later())
    assert not db.flow_claim(ADMIN, 'f1', 'c', _later())
    assert db.flow_claim(ADMIN, 'f1', 'c', _later(), dead_owners={'b'})
    assert [c['owner'] for c in db.flow_claim_get_all(ADMIN)] == ['c']


def test_renewing_extends_only_the_owners_claims(db):
    db.flow_claim(ADMIN, 'f1', 'a', _later(-1))
    db.flow_claim(ADMIN, 'f2', 'b', _later(-1))
    db.flow_claims_renew(ADMIN, 'a', _later())
    assert not db.flow_claim(ADMIN, 'f1', 'c', _later())
    assert db.flow_claim(ADMIN, 'f2', 'c', _later())
