"""Pooled connections: pinged when idle, a SQLite file pooled, MySQL's
rollbacks only after statements - on real databases."""

from oslo_db import exception as db_exc
import pymysql
import pytest
import sqlalchemy as sa

from tests.fixtures import databases
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import _pool


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

    # "A moment ago" is within PING_AFTER_IDLE, however slow the machine.
    monkeypatch.setattr(_pool, 'PING_AFTER_IDLE', 3600.0)
    first = backend_id()
    assert [backend_id() for _ in range(3)] == [first] * 3
    assert pings == []  # used a moment ago, every time
    monkeypatch.setattr(_pool, 'PING_AFTER_IDLE', 0.0)
    kill(first)
    second = backend_id()  # pinged, found closed, replaced
    assert second != first and len(pings) == 1
    monkeypatch.setattr(_pool, 'PING_AFTER_IDLE', 3600.0)
    kill(second)
    with pytest.raises(db_exc.DBConnectionError):
        backend_id()
    assert backend_id() not in (first, second)


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
