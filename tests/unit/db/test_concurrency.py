"""Concurrent reservations never commit more than the quota allows.

Threads of one process share one database API; OS processes (spawned, as
two volflow services would be) each have their own, on one SQLite file,
one PostgreSQL or one MariaDB database. The project's usage rows do not
exist when the race starts, so creating them is raced too.
"""

from concurrent import futures
import multiprocessing
import threading
import traceback

import pytest

from tests.fixtures import databases
from volflow import conf as volflow_conf
from volflow import context
from volflow.db import fake
from volflow.db.sqlalchemy import api as sql_api
from volflow import exception
from volflow import quota

LIMIT = 20
THREADS = 50
PROJECT = 'p'
CTX = context.RequestContext(user_id='u', project_id=PROJECT)
ADMIN = context.get_admin_context()
DELTAS = {'volumes': 1, 'gigabytes': 1}


def _fresh_url(request, kind):
    """A fresh SQL database nobody has opened yet, dropped afterwards."""
    return databases.fresh_url(request, kind, 'conc')


@pytest.fixture(params=databases.params())
def sql_url(request):
    return _fresh_url(request, request.param)


@pytest.fixture(params=['memory', *databases.params()])
def db(request):
    if request.param == 'memory':
        yield fake.FakeAPI()
        return
    db = sql_api.SQLAPI(_fresh_url(request, request.param))
    yield db
    db.dispose()


def _reserve_and_commit(db):
    """One create's quota steps: True if reserved and committed."""
    engine = quota.QuotaEngine(db, volflow_conf.CONF)
    try:
        reservations = engine.reserve(CTX, PROJECT, DELTAS)
    except exception.OverQuota:
        return False
    engine.commit(CTX, reservations)
    return True


def _at_once(count, func, *args):
    """Run ``func(*args)`` in ``count`` threads released together."""
    start = threading.Barrier(count)

    def run():
        start.wait()
        return func(*args)

    with futures.ThreadPoolExecutor(max_workers=count) as pool:
        return [f.result() for f in [pool.submit(run) for _ in range(count)]]


def _assert_final_usage(db):
    assert db.quota_usage_get_all(ADMIN, PROJECT) == {
        'volumes': {'in_use': LIMIT, 'reserved': 0},
        'gigabytes': {'in_use': LIMIT, 'reserved': 0}}
    assert db.reservation_get_all(ADMIN) == []


def test_threads_never_exceed_the_limit(db):
    db.quota_set(ADMIN, PROJECT, 'volumes', LIMIT)
    results = _at_once(THREADS, _reserve_and_commit, db)
    assert results.count(True) == LIMIT
    assert results.count(False) == THREADS - LIMIT
    _assert_final_usage(db)


def test_compare_and_swap_has_one_winner(db):
    volume = db.volume_create(CTX, {'size': 1, 'project_id': PROJECT,
                                    'status': 'available'})

    def delete():
        try:
            db.volume_update(CTX, volume['id'], {'status': 'deleting'},
                             expected={'status': 'available'})
        except exception.InvalidVolume:
            return False
        return True

    assert _at_once(THREADS, delete).count(True) == 1
    assert db.volume_get(CTX, volume['id'])['status'] == 'deleting'


def _process_worker(url, barrier, threads, results):
    """Body of one spawned process: its own API, then the same race."""
    try:
        db = sql_api.SQLAPI(url)
        barrier.wait(timeout=60)  # both processes create the schema at once
        db.quota_set(ADMIN, PROJECT, 'volumes', LIMIT)
        barrier.wait(timeout=60)
        outcome = _at_once(threads, _reserve_and_commit, db)
        db.dispose()
        results.put(('ok', outcome.count(True), outcome.count(False)))
    except BaseException:
        barrier.abort()  # don't leave the other process waiting
        results.put(('error', traceback.format_exc(), None))


def test_processes_never_exceed_the_limit(sql_url):
    spawn = multiprocessing.get_context('spawn')
    barrier = spawn.Barrier(2)
    results = spawn.Queue()
    threads = THREADS // 2
    workers = [spawn.Process(target=_process_worker,
                             args=(sql_url, barrier, threads, results))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        outcomes = [results.get(timeout=120) for _ in workers]
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    errors = [text for status, text, _ in outcomes if status == 'error']
    assert not errors, '\n'.join(errors)
    assert sum(ok for _, ok, _ in outcomes) == LIMIT
    assert sum(refused for _, _, refused in outcomes) == 2 * threads - LIMIT
    db = sql_api.SQLAPI(sql_url)
    try:
        _assert_final_usage(db)
    finally:
        db.dispose()
