"""Engines and transactions for the SQL implementation.

SQLite gets the treatment SQLAlchemy documents for serializable
transactions with pysqlite: the driver's own transaction handling is turned
off and volflow emits ``BEGIN`` itself, ``BEGIN IMMEDIATE`` for a
transaction that writes, so that writers (threads or processes) queue on
the database lock instead of failing when a read lock cannot be upgraded.
Every SQLite connection runs in WAL mode (readers never wait for the
writer) with a busy timeout and ``synchronous = NORMAL``.

PostgreSQL needs nothing special here: writers lock the rows they change
(``SELECT ... FOR UPDATE``), and a transaction that loses a deadlock is
retried by :func:`retry_on_deadlock`. MySQL/MariaDB (InnoDB) is run as
PostgreSQL is: row locks, and ``READ COMMITTED`` (InnoDB's default,
``REPEATABLE READ``, would let a plain read after a locking one see an
older snapshot than the lock holder committed).
"""

import contextlib
import datetime
import json
import os
import random
import sqlite3
import time

from oslo_db import api as oslo_db_api
from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy import exc as sa_exc
from sqlalchemy import pool as sa_pool

from volflow import exception

LOG = logging.getLogger(__name__)

#: Seconds a SQLite connection waits for the database lock.
SQLITE_BUSY_TIMEOUT = 30
_SQLITE_BUSY_TIMEOUT_PRAGMA = 'PRAGMA busy_timeout = 30000'  # as above
#: Execution option read by the SQLite ``begin`` hook.
BEGIN_OPTION = 'volflow_begin'
_BEGIN_STATEMENTS = {'immediate': 'BEGIN IMMEDIATE', 'deferred': 'BEGIN'}
#: SQLSTATEs of a PostgreSQL transaction worth running again.
_RETRY_PGCODES = ('40P01', '40001')  # deadlock, serialization failure
#: MySQL error numbers of a transaction worth running again.
_RETRY_MYSQL_ERRORS = (1213,)  # ER_LOCK_DEADLOCK
_MAX_ATTEMPTS = 5


def engine_options(conf):
    """``create_engine`` keyword arguments from oslo.db's ``[database]``.

    The pool (``max_pool_size``, ``max_overflow``, ``pool_timeout``,
    ``connection_recycle_time``) of a server's database, and MySQL's
    ``mysql_sql_mode``; SQLite's connections are not pooled that way.
    """
    database = conf.database
    options = {'pool_size': database.max_pool_size,
               'max_overflow': database.max_overflow,
               'pool_recycle': database.connection_recycle_time,
               'mysql_sql_mode': database.mysql_sql_mode}
    if database.pool_timeout is not None:
        options['pool_timeout'] = database.pool_timeout
    return {key: value for key, value in options.items()
            if value is not None}


def _mysql_sql_mode(sql_mode):
    def on_connect(dbapi_connection, connection_record):
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute('SET SESSION sql_mode = %s', [sql_mode])
        finally:
            cursor.close()
    return on_connect


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return {'__datetime__': value.isoformat()}
    raise TypeError(f'{type(value).__name__} is not JSON serializable')


def _json_object_hook(obj):
    if len(obj) == 1 and '__datetime__' in obj:
        return datetime.datetime.fromisoformat(obj['__datetime__'])
    return obj


def json_dumps(value):
    """JSON for the database, datetimes included (as tagged objects)."""
    return json.dumps(value, default=_json_default)


def json_loads(text):
    """Inverse of :func:`json_dumps`."""
    return json.loads(text, object_hook=_json_object_hook)


def is_sqlite_memory(url):
    return url.get_backend_name() == 'sqlite' and url.database in (
        None, '', ':memory:')


def create_engine(connection, **kwargs):
    """Return an Engine for ``connection`` set up as the module describes.

    A SQLite file's directory is created if it does not exist yet.
    """
    url = sa.engine.make_url(connection)
    kwargs.setdefault('json_serializer', json_dumps)
    kwargs.setdefault('json_deserializer', json_loads)
    sql_mode = kwargs.pop('mysql_sql_mode', 'TRADITIONAL')
    if url.get_backend_name() != 'sqlite':
        kwargs.setdefault('pool_pre_ping', True)
        mysql_dialect = url.get_backend_name() in ('mysql', 'mariadb')
        if mysql_dialect:
            kwargs.setdefault('isolation_level', 'READ COMMITTED')
        try:
            engine = sa.create_engine(url, **kwargs)
        except ModuleNotFoundError as exc:
            raise exception.MissingDependency.of(
                f"[database] connection "
                f"'{url.render_as_string(hide_password=True)}'",
                exc) from None
        if mysql_dialect and sql_mode:
            sa.event.listen(engine, 'connect', _mysql_sql_mode(sql_mode))
        return engine

    for pooled in ('pool_size', 'max_overflow', 'pool_timeout'):
        kwargs.pop(pooled, None)  # SQLite's pools take no sizes
    connect_args = kwargs.setdefault('connect_args', {})
    connect_args.setdefault('timeout', SQLITE_BUSY_TIMEOUT)
    connect_args.setdefault('check_same_thread', False)
    if is_sqlite_memory(url):
        kwargs.setdefault('poolclass', sa_pool.StaticPool)
    elif not url.database.startswith('file:'):
        directory = os.path.dirname(os.path.abspath(url.database))
        os.makedirs(directory, exist_ok=True)
    engine = sa.create_engine(url, **kwargs)
    sa.event.listen(engine, 'connect', _sqlite_connect)
    sa.event.listen(engine, 'begin', _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection, connection_record):
    # Take BEGIN away from pysqlite: _sqlite_begin emits it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_SQLITE_BUSY_TIMEOUT_PRAGMA)
        _sqlite_enable_wal(cursor)
        # In WAL mode NORMAL syncs at checkpoints, not at every commit:
        # the database stays consistent through any crash, and only a
        # power loss can take back the last transactions. FULL costs an
        # fsync per commit (1.3 ms each, six per create).
        cursor.execute('PRAGMA synchronous = NORMAL')
    finally:
        cursor.close()


def _sqlite_enable_wal(cursor):
    """Switch to WAL (a no-op once done: the mode is kept in the file).

    Switching needs the database to itself and SQLite reports "locked"
    at once rather than waiting, so a process opening a new database
    while another creates its tables tries again.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    while True:
        try:
            cursor.execute('PRAGMA journal_mode = WAL')
            return
        except sqlite3.OperationalError as error:
            if ('locked' not in str(error) or
                    time.monotonic() > deadline):
                raise
        time.sleep(random.uniform(0.005, 0.05))


def _sqlite_begin(conn):
    mode = conn.get_execution_options().get(BEGIN_OPTION, 'deferred')
    conn.exec_driver_sql(_BEGIN_STATEMENTS[mode])


@contextlib.contextmanager
def transaction(sessionmaker, write=False):
    """A session in one transaction, committed when the block succeeds.

    ``write`` opens SQLite's transaction with ``BEGIN IMMEDIATE``.
    """
    with sessionmaker() as session, session.begin():
        session.connection(execution_options={
            BEGIN_OPTION: 'immediate' if write else 'deferred'})
        yield session


def insert_ignore(session, model, rows, keys):
    """Insert ``rows`` of ``model``, skipping those whose ``keys`` exist."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == 'mysql':
        # A no-op update of a duplicate (not INSERT IGNORE, which would
        # also turn a value too long into a warning).
        insert = mysql.insert(model).values(rows)
        session.execute(insert.on_duplicate_key_update(
            {keys[0]: insert.inserted[keys[0]]}))
        return
    if dialect in ('postgresql', 'sqlite'):
        insert = postgresql.insert if dialect == 'postgresql' else (
            sqlite.insert)
        session.execute(insert(model).values(rows).on_conflict_do_nothing(
            index_elements=keys))
        return
    for row in rows:
        try:
            with session.begin_nested():
                session.execute(sa.insert(model).values(row))
        except sa_exc.IntegrityError:
            pass  # someone else inserted it first


def _is_retryable(error):
    """A transaction that lost a deadlock (or a serialization check)."""
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    orig = error.orig
    if getattr(orig, 'pgcode', None) in _RETRY_PGCODES:
        return True
    args = getattr(orig, 'args', ())
    return bool(args) and args[0] in _RETRY_MYSQL_ERRORS


#: Runs a function again when its transaction lost a deadlock: oslo.db's
#: retry, told which errors are deadlocks (the engines are plain
#: SQLAlchemy's, so the driver's error is looked at, not oslo.db's
#: ``DBDeadlock``), waiting a few milliseconds (jittered, doubling).
retry_on_deadlock = oslo_db_api.wrap_db_retry(
    max_retries=_MAX_ATTEMPTS - 1, retry_interval=0.01,
    inc_retry_interval=True, max_retry_interval=0.2, jitter=True,
    exception_checker=_is_retryable)
