"""Engines from oslo.db's ``[database]`` options; deadlocks retried."""

from oslo_db import exception as db_exc
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


#: The two ways in: an ORM session, a Core connection.
BEGINS = pytest.mark.parametrize('begin', [_engine.transaction,
                                           _engine.connection],
                                 ids=['session', 'connection'])


def _statements(manager, block):
    engine = _engine.engine_of(manager, 'sqlite')
    seen = []

    def statement(conn, cursor, text, params, context, many):
        seen.append(text)

    sa.event.listen(engine, 'before_cursor_execute', statement)
    try:
        block()
    finally:
        sa.event.remove(engine, 'before_cursor_execute', statement)
    return seen


def _begins(manager, write, begin):
    def block():
        with begin(manager, write) as session:
            session.execute(sa.text('SELECT 1'))
    return _statements(manager, block)


@BEGINS
def test_the_facade_s_sqlite_writers_begin_immediate(tmp_path, begin):
    """oslo.db's own BEGIN hook runs after volflow's, and emits nothing."""
    manager = _engine.transaction_manager(f'sqlite:///{tmp_path}/x.sqlite')
    assert _begins(manager, True, begin) == ['BEGIN IMMEDIATE', 'SELECT 1']
    assert _begins(manager, False, begin) == ['BEGIN', 'SELECT 1']


def test_a_transaction_opened_inside_a_writer_s_gets_its_own_begin(
        tmp_path):
    """The writer's kind of BEGIN is not inherited by a reader inside it.

    (A reader's ``BEGIN IMMEDIATE`` inside a writer of the same SQLite
    file would wait for the writer's lock, which waits for it.)
    """
    manager = _engine.transaction_manager(f'sqlite:///{tmp_path}/x.sqlite')

    def block():
        with _engine.connection(manager, write=True) as conn:
            with _engine.connection(manager) as inner:
                inner.execute(sa.text('SELECT 2'))
            conn.execute(sa.text('SELECT 1'))
    assert _statements(manager, block) == [
        'BEGIN IMMEDIATE', 'BEGIN', 'SELECT 2', 'SELECT 1']


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


@pytest.mark.postgres
@BEGINS
def test_a_postgresql_reader_runs_without_a_transaction(request, begin):
    """Each of its statements is a transaction: no BEGIN, no ROLLBACK.

    A writer is still one transaction, on the same pooled connection.
    """
    url = databases.fresh_url(request, 'postgresql', 'reader')
    manager = _engine.transaction_manager(url)
    engine = _engine.engine_of(manager, url)
    request.addfinalizer(engine.dispose)

    def transaction_ids(write):
        with begin(manager, write) as session:
            return [session.execute(sa.text('SELECT txid_current()')).scalar()
                    for _ in range(2)]

    for _ in range(2):
        first, second = transaction_ids(write=False)
        assert first != second
        first, second = transaction_ids(write=True)
        assert first == second
    assert engine.pool.checkedin() == 1
