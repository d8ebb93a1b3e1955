"""Engines and transactions for the SQL implementation, on oslo.db.

Every engine is made by oslo.db's ``enginefacade``
(:func:`transaction_manager`): one transaction context per database
API, configured with oslo.db's ``[database]`` options (pool sizes,
recycle time, ``mysql_sql_mode``, ``max_retries`` at start, ...). Its
sessions, Core connections and transactions are the facade's
(``writer.using()`` / ``reader.using()``, :func:`transaction`;
``writer.connection`` / ``reader.connection``, :func:`connection`), and
its errors are oslo.db's (``DBDuplicateEntry``,
``DBDeadlock``, ``DBDataError``): oslo.db's filters translate the
driver's.

SQLite gets more than oslo.db gives it (:mod:`._sqlite`): ``BEGIN
IMMEDIATE`` for a transaction that writes, WAL mode, a busy timeout and
``synchronous = NORMAL``. oslo.db's engine may connect once before the
hooks are attached (``max_retries``): the pool is emptied after, so that
every connection used has them.

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

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from volflow.db.sqlalchemy import _pool
from volflow.db.sqlalchemy import _sqlite
from volflow import exception

LOG = logging.getLogger(__name__)

#: SQLSTATE of a PostgreSQL serialization failure (oslo.db's DBError).
_SERIALIZATION_FAILURE = '40001'
_MAX_ATTEMPTS = 5
#: ``[database]`` options an engine is made with (oslo.db's names).
_ENGINE_OPTIONS = ('max_pool_size', 'max_overflow', 'pool_timeout',
                   'connection_recycle_time', 'mysql_sql_mode',
                   'mysql_wsrep_sync_wait', 'max_retries', 'retry_interval',
                   'sqlite_synchronous', 'connection_debug',
                   'connection_trace', 'connection_parameters')


def engine_options(conf):
    """:func:`transaction_manager` keyword arguments from ``[database]``.

    The pool (``max_pool_size``, ``max_overflow``, ``pool_timeout``,
    ``connection_recycle_time``) of a server's database, MySQL's
    ``mysql_sql_mode``, the connection attempts at start (``max_retries``,
    ``retry_interval``), SQLite's ``sqlite_synchronous`` and oslo.db's
    debugging options, as the operator set them.
    """
    database = conf.database
    options = {key: getattr(database, key, None) for key in _ENGINE_OPTIONS}
    return {key: value for key, value in options.items()
            if value is not None}


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


def transaction_manager(connection, sqlite_fk=False, pre_ping=True,
                        **options):
    """An enginefacade transaction context for ``connection``.

    Its engine is oslo.db's, made on first use with ``options``
    (:func:`engine_options`) and volflow's hooks (module docstring). A
    SQLite file's directory is created if it does not exist yet.

    :param sqlite_fk: enforce SQLite's foreign keys (oslo.db's option).
    :param pre_ping: ping a server's connection before it is used, if it
        has been idle in the pool (:func:`._pool.ping_idle`); False never
        pings, and a dropped connection fails its statement instead. A
        SQLite file's connections are never pinged.
    """
    url = sa.engine.make_url(connection)
    if (url.get_backend_name() == 'sqlite' and not is_sqlite_memory(url)
            and not url.database.startswith('file:')):
        directory = os.path.dirname(os.path.abspath(url.database))
        os.makedirs(directory, exist_ok=True)
    manager = enginefacade.transaction_context()
    # oslo.db's thread_checkin sleeps at every connection's return to
    # the pool, to let eventlet switch: volflow runs no eventlet, and the
    # sleep gives the GIL away (4.2 of 17 s of 50 profiled API flows).
    options.setdefault('thread_checkin', False)
    manager.configure(connection=connection, sqlite_fk=sqlite_fk,
                      json_serializer=json_dumps,
                      json_deserializer=json_loads, **options)
    manager.append_on_engine_create(
        lambda engine: _on_engine_create(
            engine, options.get('sqlite_synchronous', True), pre_ping))
    return manager


def engine_of(manager, connection):
    """The engine of ``manager`` (made for ``connection``), made now.

    :raises MissingDependency: the URL's driver is not installed.
    """
    try:
        return manager.writer.get_engine()
    except ModuleNotFoundError as exc:
        url = sa.engine.make_url(connection)
        raise exception.MissingDependency.of(
            f"[database] connection "
            f"'{url.render_as_string(hide_password=True)}'",
            exc) from None


def create_engine(connection, **options):
    """An engine of its own for ``connection`` (:func:`transaction_manager`).

    For what uses the engine alone: migrations, ``volflow db``. Unless
    told, it does not try to connect as it is made (oslo.db's
    ``max_retries`` 0).
    """
    options.setdefault('max_retries', 0)
    return engine_of(transaction_manager(connection, **options),
                     connection)


def _on_engine_create(engine, synchronous, pre_ping=True):
    """volflow's hooks on a new oslo.db engine, then an empty pool."""
    # oslo.db pings at every checkout and has no option for it: the
    # pool's own flag. volflow pings idle connections only.
    engine.pool._pre_ping = False
    if pre_ping and engine.dialect.name != 'sqlite':
        _pool.ping_idle(engine)
    # oslo.db hands the JSON (de)serializers to PostgreSQL's dialect
    # only; SQLAlchemy keeps them on the dialect, as create_engine would.
    dialect = engine.dialect
    if getattr(dialect, '_json_serializer', None) is None:
        dialect._json_serializer = json_dumps
        dialect._json_deserializer = json_loads
    backend = dialect.name
    if backend == 'sqlite':
        sa.event.listen(engine, 'connect', _sqlite.on_connect(synchronous))
        _listen_first(engine, 'begin', _sqlite.begin)
        if not is_sqlite_memory(engine.url):
            _pool.pool_sqlite_file(engine, _sqlite.BUSY_TIMEOUT)
    elif backend == 'mysql':
        sa.event.listen(engine, 'connect', _mysql_read_committed)
        _pool.mysql_rollback_only_after_statements(engine)
        # A connection made before the hook (max_retries) has not run it.
        engine.pool.dispose()


def _listen_first(engine, event, fn):
    """Listen for ``event`` before the engine's listeners of it.

    oslo.db's ``begin`` hook emits a plain ``BEGIN`` unless the connection
    is marked as begun; volflow's must run first to emit ``BEGIN
    IMMEDIATE`` and mark it. SQLAlchemy ignores ``insert=True`` for an
    engine's events: the others are taken off and put back after.
    """
    # An engine's events, or (handle_error) its dialect's.
    dispatch = (engine.dispatch if hasattr(engine.dispatch, event)
                else engine.dialect.dispatch)
    others = list(getattr(dispatch, event))
    for other in others:
        sa.event.remove(engine, event, other)
    sa.event.listen(engine, event, fn)
    for other in others:
        sa.event.listen(engine, event, other)


def refuse_unstorable_values(engine):
    """A value the driver can't take is bad input, raised as such.

    A NUL character, text that can't be encoded, a number out of the
    driver's range fail in the driver before the database sees them;
    oslo.db would wrap them as ``DBError``, logging each with a warning
    and its traceback. volflow's hook runs first and raises
    ``InvalidInput``, which bypasses oslo.db's.
    """
    _listen_first(engine, 'handle_error', _refuse_unstorable)


def _refuse_unstorable(context):
    error = context.original_exception
    if (context.sqlalchemy_exception is None and
            isinstance(error, (ValueError, OverflowError))):
        raise exception.InvalidInput(
            reason=(f"the database can't store a value: "
                    f"{str(error).strip().splitlines()[0]}")) from error


def _mysql_read_committed(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(
            'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED')
    finally:
        cursor.close()


class _Scope:
    """What enginefacade keeps a transaction's state on: one per call."""


@contextlib.contextmanager
def transaction(manager, write=False):
    """A facade session in one transaction, committed when the block ends.

    ``write``: the facade's writer, opening SQLite's transaction with
    ``BEGIN IMMEDIATE``; else its reader (a plain ``BEGIN``). Each call
    is a transaction of its own, never part of an enclosing one.

    A reader on PostgreSQL runs in autocommit, without a transaction:
    at ``READ COMMITTED`` every statement reads its own snapshot anyway,
    so the ``BEGIN`` and ``ROLLBACK`` (two round trips) say nothing. On
    MySQL switching to autocommit is a round trip itself; on SQLite the
    transaction is one snapshot for all the reader's statements.
    """
    mode = manager.writer if write else manager.reader
    with mode.using(_Scope()) as session:
        conn = session.connection(execution_options={
            _sqlite.BEGIN_OPTION: 'immediate' if write else 'deferred'})
        with _reading(conn, write):
            yield session


@contextlib.contextmanager
def connection(manager, write=False):
    """A facade Core connection in one transaction, as :func:`transaction`.

    For a call whose statements are all Core (no entity, no unit of
    work): the ORM session's own scope and execution are 80-100 µs a call
    (measured on SQLite) that such a call does not need. Same transaction,
    same ``BEGIN`` on SQLite, same reader on PostgreSQL.
    """
    mode = manager.writer if write else manager.reader
    with contextlib.ExitStack() as stack:
        # enginefacade begins the transaction as it checks the connection
        # out: the kind of BEGIN is set for that moment only, so that a
        # transaction opened inside this one gets its own.
        token = _sqlite.BEGIN_KIND.set('immediate' if write else 'deferred')
        try:
            conn = stack.enter_context(mode.connection.using(_Scope()))
        finally:
            _sqlite.BEGIN_KIND.reset(token)
        stack.enter_context(_reading(conn, write))
        yield conn


@contextlib.contextmanager
def _reading(conn, write):
    """A PostgreSQL reader's connection in autocommit for the block."""
    if write or conn.dialect.name != 'postgresql':
        yield
        return
    # psycopg2's own switch, which sends nothing: SQLAlchemy's isolation
    # level AUTOCOMMIT sends a SET when it is reset.
    dbapi_connection = conn.connection.dbapi_connection
    dbapi_connection.autocommit = True
    try:
        yield
    finally:
        if not dbapi_connection.closed:
            dbapi_connection.autocommit = False


def insert_ignore(session, model, rows, keys):
    """Insert ``rows`` of ``model``, skipping those whose ``keys`` exist."""
    if not rows:
        return
    dialect = (session.dialect if isinstance(session, sa.Connection)
               else session.get_bind().dialect).name
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
        except db_exc.DBDuplicateEntry:
            pass  # someone else inserted it first


def _is_serialization_failure(error):
    """PostgreSQL's serialization failure (oslo.db names deadlocks only)."""
    inner = getattr(error, 'inner_exception', None)
    orig = getattr(inner, 'orig', None)
    return getattr(orig, 'pgcode', None) == _SERIALIZATION_FAILURE


#: Runs a function again when its transaction lost a deadlock (oslo.db's
#: ``DBDeadlock``) or a serialization check: oslo.db's retry, waiting a
#: few milliseconds (jittered, doubling).
retry_on_deadlock = oslo_db_api.wrap_db_retry(
    max_retries=_MAX_ATTEMPTS - 1, retry_interval=0.01,
    inc_retry_interval=True, max_retry_interval=0.2, jitter=True,
    retry_on_deadlock=True, exception_checker=_is_serialization_failure)
