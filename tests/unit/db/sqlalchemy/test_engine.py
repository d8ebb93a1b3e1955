"""Engines from oslo.db's ``[database]`` options; deadlocks retried."""

from oslo_db import exception as db_exc
import pymysql
import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from tests.fixtures import databases
from volflow.db.sqlalchemy import _engine


class _DriverError(Exception):
    def __init__(self, *args, pgcode=None):
        super().__init__(*args)
        self.pgcode = pgcode


def _db_error(orig, kind=db_exc.DBError):
    """oslo.db's translation of a driver's error (as its filters make)."""
    return kind(sa_exc.OperationalError('UPDATE ...', {}, orig))


@pytest.mark.parametrize('error', [
    _db_error(_DriverError('deadlock detected', pgcode='40P01'),
              db_exc.DBDeadlock),
    _db_error(_DriverError('could not serialize access', pgcode='40001')),
    _db_error(_DriverError(1213, 'Deadlock found when trying to get lock'),
              db_exc.DBDeadlock)])
def test_a_lost_deadlock_is_run_again(error):
    calls = []

    @_engine.retry_on_deadlock
    def write():
        calls.append(1)
        if len(calls) < 3:
            raise error
        return 'done'

    assert write() == 'done'
    assert len(calls) == 3


def test_other_errors_and_the_last_attempt_are_raised():
    calls = []

    @_engine.retry_on_deadlock
    def duplicate():
        calls.append(1)
        raise _db_error(_DriverError(1062, 'Duplicate entry'),
                        db_exc.DBDuplicateEntry)

    with pytest.raises(db_exc.DBDuplicateEntry):
        duplicate()
    assert len(calls) == 1

    @_engine.retry_on_deadlock
    def always():
        calls.append(1)
        raise _db_error(_DriverError('deadlock', pgcode='40P01'),
                        db_exc.DBDeadlock)

    with pytest.raises(db_exc.DBDeadlock):
        always()
    assert len(calls) == 1 + _engine._MAX_ATTEMPTS


def test_the_pool_follows_the_database_options(conf, conf_override):
    conf_override('max_pool_size', 7, group='database')
    conf_override('max_overflow', 3, group='database')
    conf_override('connection_recycle_time', 600, group='database')
    engine = _engine.create_engine(
        'postgresql+psycopg2://u@127.0.0.1:9/x',
        **_engine.engine_options(conf))
    assert (engine.pool.size(), engine.pool._max_overflow,
            engine.pool._recycle) == (7, 3, 600)
    sqlite = _engine.create_engine('sqlite://',
                                   **_engine.engine_options(conf))
    assert sqlite.pool._recycle == 600


def test_mysql_sessions_run_in_the_configured_sql_mode(conf, request):
    url = databases.fresh_url(request, 'mysql', 'mode')
    engine = _engine.create_engine(url, **_engine.engine_options(conf))
    try:
        with engine.connect() as conn:
            mode = conn.execute(sa.text('SELECT @@SESSION.sql_mode')).scalar()
            level = conn.execute(sa.text(
                'SELECT @@SESSION.tx_isolation')).scalar()
    finally:
        engine.dispose()
    assert 'STRICT_ALL_TABLES' in mode.split(',')  # part of TRADITIONAL
    assert level == 'READ-COMMITTED'


def _begins(manager, write):
    engine = _engine.engine_of(manager, 'sqlite')
    seen = []

    def statement(conn, cursor, text, params, context, many):
        seen.append(text)

    sa.event.listen(engine, 'before_cursor_execute', statement)
    try:
        with _engine.transaction(manager, write) as session:
            session.execute(sa.text('SELECT 1'))
    finally:
        sa.event.remove(engine, 'before_cursor_execute', statement)
    return seen


def test_the_facade_s_sqlite_writers_begin_immediate(tmp_path):
    """oslo.db's own BEGIN hook runs after volflow's, and emits nothing."""
    manager = _engine.transaction_manager(f'sqlite:///{tmp_path}/x.sqlite')
    assert _begins(manager, write=True) == ['BEGIN IMMEDIATE', 'SELECT 1']
    assert _begins(manager, write=False) == ['BEGIN', 'SELECT 1']


def test_a_sqlite_file_is_pooled_in_wal_mode(tmp_path):
    manager = _engine.transaction_manager(f'sqlite:///{tmp_path}/x.sqlite')
    engine = _engine.engine_of(manager, 'sqlite')
    try:
        with _engine.transaction(manager) as session:
            first = session.connection().connection.dbapi_connection
            mode = session.execute(sa.text('PRAGMA journal_mode')).scalar()
        with _engine.transaction(manager) as session:
            second = session.connection().connection.dbapi_connection
    finally:
        engine.dispose()
    assert mode == 'wal'
    assert first is second  # oslo.db's NullPool would connect again


def test_a_command_does_not_wait_for_an_unreachable_database(conf):
    """volflow's ``max_retries`` is 0: the engine is made, unconnected.

    oslo.db's default (10 tries, 10 s apart) would raise only after
    100 s here.
    """
    options = _engine.engine_options(conf)
    assert options['max_retries'] == 0
    engine = _engine.create_engine('postgresql+psycopg2://u@127.0.0.1:9/x',
                                   **options)
    assert engine.pool.checkedout() == 0


_BACKEND_ID = {'postgresql': 'SELECT pg_backend_pid()',
               'mysql': 'SELECT CONNECTION_ID()'}
_KILL = {'postgresql': 'SELECT pg_terminate_backend({})',
         'mysql': 'KILL {}'}


@pytest.mark.parametrize('kind', databases.params('postgresql', 'mysql'))
def test_only_an_idle_connection_is_pinged(kind, request, monkeypatch):
    """A connection used a moment ago goes unpinged: no round trip.

    One idle for ``PING_AFTER_IDLE`` is pinged, and replaced if the
    server closed it; one closed within that time fails its statement,
    and the pool's next connection works.
    """
    url = databases.fresh_url(request, kind, 'ping')
    engine = _engine.create_engine(url)
    killer = _engine.create_engine(url, pre_ping=False)
    request.addfinalizer(engine.dispose)
    request.addfinalizer(killer.dispose)
    pings = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, 'do_ping',
                        lambda conn: pings.append(conn) or ping(conn))

    def backend_id():
        with engine.connect() as conn:
            return conn.execute(sa.text(_BACKEND_ID[kind])).scalar()

    def kill(backend):
        with killer.connect() as conn:
            conn.execute(sa.text(_KILL[kind].format(int(backend))))

    first = backend_id()
    assert [backend_id() for _ in range(3)] == [first] * 3
    assert pings == []  # used a moment ago, every time
    monkeypatch.setattr(_engine, 'PING_AFTER_IDLE', 0.0)
    kill(first)
    second = backend_id()  # pinged, found closed, replaced
    assert second != first and len(pings) == 1
    monkeypatch.setattr(_engine, 'PING_AFTER_IDLE', 3600.0)
    kill(second)
    with pytest.raises(db_exc.DBConnectionError):
        backend_id()
    assert backend_id() not in (first, second)


@pytest.mark.postgres
def test_a_postgresql_reader_runs_without_a_transaction(request):
    """Each of its statements is a transaction: no BEGIN, no ROLLBACK.

    A writer is still one transaction, on the same pooled connection.
    """
    url = databases.fresh_url(request, 'postgresql', 'reader')
    manager = _engine.transaction_manager(url)
    engine = _engine.engine_of(manager, url)
    request.addfinalizer(engine.dispose)

    def transaction_ids(write):
        with _engine.transaction(manager, write) as session:
            return [session.execute(sa.text('SELECT txid_current()')).scalar()
                    for _ in range(2)]

    for _ in range(2):
        first, second = transaction_ids(write=False)
        assert first != second
        first, second = transaction_ids(write=True)
        assert first == second
    assert engine.pool.checkedin() == 1


@pytest.mark.mysql
def test_a_mysql_connection_is_rolled_back_only_after_statements(
        request, monkeypatch):
    """No ``ROLLBACK`` (a round trip) after a commit; one after a read.

    After a read InnoDB holds its transaction open, whatever the server's
    status flags say: rolled back, the pooled connection keeps no
    metadata lock that would hold a migration up.
    """
    url = databases.fresh_url(request, 'mysql', 'rollback')
    manager = _engine.transaction_manager(url)
    engine = _engine.engine_of(manager, url)
    other = _engine.create_engine(url, pre_ping=False)
    request.addfinalizer(engine.dispose)
    request.addfinalizer(other.dispose)
    with engine.begin() as conn:
        conn.execute(sa.text('CREATE TABLE t (id INT PRIMARY KEY)'))
    rollbacks = []
    rollback = pymysql.connections.Connection.rollback
    monkeypatch.setattr(pymysql.connections.Connection, 'rollback',
                        lambda self: rollbacks.append(self) or rollback(self))
    for n in range(3):
        with _engine.transaction(manager, write=True) as session:
            session.execute(sa.text('INSERT INTO t VALUES (:n)'), {'n': n})
    assert rollbacks == []
    with _engine.transaction(manager) as session:
        assert session.execute(sa.text('SELECT COUNT(*) FROM t')).scalar() == 3
    assert len(rollbacks) == 1
    with pytest.raises(ZeroDivisionError):
        with _engine.transaction(manager, write=True) as session:
            session.execute(sa.text('INSERT INTO t VALUES (9)'))
            1 / 0
    assert len(rollbacks) == 2
    assert engine.pool.checkedin() == 1
    with other.connect() as conn:  # no lock left by the pooled connection
        conn.execute(sa.text('SET SESSION lock_wait_timeout = 5'))
        conn.execute(sa.text('ALTER TABLE t ADD COLUMN x INT'))
        assert conn.execute(sa.text('SELECT COUNT(*) FROM t')).scalar() == 3
