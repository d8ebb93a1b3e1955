"""What a pooled connection does on its way out of the pool and back.

:mod:`volflow.db.sqlalchemy._engine` makes each engine with oslo.db and
attaches these to its pool, by database:

- PostgreSQL and MySQL: :func:`ping_idle` - a connection is pinged
  before use only if it sat idle in the pool (oslo.db pings at every
  checkout: a round trip per transaction).
- a SQLite file: :func:`pool_sqlite_file` - its connections are pooled
  (oslo.db connects again for every transaction).
- MySQL: :func:`mysql_rollback_only_after_statements` - a connection
  returned after a commit is not rolled back again (PyMySQL sends a
  ``ROLLBACK`` every time).
"""

import time

import sqlalchemy as sa
from sqlalchemy import pool as sa_pool


#: Seconds a pooled connection may have been idle and still be used
#: without a ping first.
PING_AFTER_IDLE = 1.0
_RETURNED = 'volflow_returned'  # when the connection was last checked in


def ping_idle(engine):
    """Ping a connection before use if it was idle, else use it at once.

    oslo.db's engine pings every connection it checks out (SQLAlchemy's
    ``pool_pre_ping``): a round trip per transaction, five in an API
    flow. What the ping guards against - a connection the server or the
    network closed while it sat in the pool (a restart, an idle timeout)
    - needs the connection to have sat there: one checked in less than
    :data:`PING_AFTER_IDLE` seconds ago, after a transaction that
    worked, is used as it is. A dead one is replaced, as SQLAlchemy's
    pre-ping does (``DisconnectionError``: the pool connects again). Of
    a connection dropped in that last second - the server restarting
    under load, when the transactions running also fail - the first
    statement fails: SQLAlchemy then discards every connection of the
    pool, and the transaction is rolled back, having written nothing.
    """
    dialect = engine.dialect

    def checkin(dbapi_connection, record):
        if dbapi_connection is not None:
            record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi_connection, record, proxy):
        returned = record.info.get(_RETURNED)
        if (returned is None or
                time.monotonic() - returned < PING_AFTER_IDLE):
            return  # new, or used a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise sa.exc.DisconnectionError(str(error)) from error
            raise

    sa.event.listen(engine, 'checkin', checkin)
    sa.event.listen(engine, 'checkout', checkout)


def pool_sqlite_file(engine, timeout):
    """Pool a SQLite file's connections, as SQLAlchemy 2 does by itself.

    oslo.db gives a SQLite file a ``NullPool``: a connection per
    transaction, and in WAL mode the last one to close checkpoints the
    log and deletes it. Measured with benchmark (e): 232-235 ms per API
    flow against 23-27 ms pooled. The pool keeps the engine's listeners
    (oslo.db's and volflow's); connections are shared by threads, one
    at a time.
    """
    dialect = engine.dialect
    cargs, cparams = dialect.create_connect_args(engine.url)
    cparams['check_same_thread'] = False
    cparams.setdefault('timeout', timeout)
    old = engine.pool
    engine.pool = sa_pool.QueuePool(
        lambda: dialect.connect(*cargs, **cparams),
        recycle=old._recycle, reset_on_return=old._reset_on_return,
        _dispatch=old.dispatch, dialect=dialect)
    old.dispose()


#: Set on a DBAPI connection whose last word was a commit or rollback.
_ENDED = '_volflow_ended'


def mysql_rollback_only_after_statements(engine):
    """Send no ``ROLLBACK`` when nothing ran since the last commit.

    SQLAlchemy rolls back every connection returned to the pool, after a
    commit too; psycopg2 knows its connection's state and sends nothing
    then, PyMySQL sends a ``ROLLBACK`` each time: a round trip per
    transaction. The server's status flags can't tell instead: after a
    plain ``SELECT`` they say no transaction, while InnoDB holds one open,
    with the metadata locks that keep a migration waiting. So the
    connection is marked when a commit or rollback ends its transaction,
    and unmarked by the next statement: a marked one needs no rollback.
    """
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def raw(connection):  # the pool hands over its proxy, the rest the raw
        return getattr(connection, 'dbapi_connection', connection)

    def do_commit(dbapi_connection):
        commit(dbapi_connection)
        setattr(raw(dbapi_connection), _ENDED, True)

    def do_rollback(dbapi_connection):
        if getattr(raw(dbapi_connection), _ENDED, False):
            return
        rollback(dbapi_connection)
        setattr(raw(dbapi_connection), _ENDED, True)

    def statement(conn, cursor, text, parameters, context, executemany):
        setattr(raw(conn.connection), _ENDED, False)

    dialect.do_commit = do_commit
    dialect.do_rollback = do_rollback
    sa.event.listen(engine, 'before_cursor_execute', statement)
