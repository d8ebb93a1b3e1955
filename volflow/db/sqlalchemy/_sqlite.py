"""What a SQLite connection gets beyond oslo.db: the engine's hooks.

oslo.db takes ``BEGIN`` away from pysqlite and emits a plain (deferred)
``BEGIN``; :func:`begin`, attached to the facade's engine as it is made
and run before oslo.db's hook, emits ``BEGIN IMMEDIATE`` for a
transaction that writes, so that writers (threads or processes) queue on
the database lock instead of failing when a read lock cannot be
upgraded. :func:`on_connect` puts every connection in WAL mode (readers
never wait for the writer) with a busy timeout and ``synchronous =
NORMAL``.

A transaction says which ``BEGIN`` it needs with the execution option
:data:`BEGIN_OPTION` (a session's connection), or, when enginefacade
begins it as it checks the connection out, with :data:`BEGIN_KIND` set
around that moment (:func:`volflow.db.sqlalchemy._engine.connection`).
"""

import contextvars
import random
import sqlite3
import time

#: Seconds a SQLite connection waits for the database lock.
BUSY_TIMEOUT = 30
_BUSY_TIMEOUT_PRAGMA = 'PRAGMA busy_timeout = 30000'  # as above
#: Execution option read by :func:`begin`: ``immediate`` or ``deferred``.
BEGIN_OPTION = 'volflow_begin'
#: The same, for a connection begun by enginefacade as it is checked out:
#: set around its ``begin`` only.
BEGIN_KIND = contextvars.ContextVar('volflow_begin', default='deferred')
_BEGIN_STATEMENTS = {'immediate': 'BEGIN IMMEDIATE', 'deferred': 'BEGIN'}
#: oslo.db's mark of a SQLite connection whose BEGIN was emitted.
_OSLO_IN_TRANSACTION = 'in_transaction'


def on_connect(synchronous):
    """The ``connect`` hook: busy timeout, WAL, ``synchronous``."""
    def on_connect(dbapi_connection, connection_record):
        # oslo.db has taken BEGIN away from pysqlite; begin() emits it.
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(_BUSY_TIMEOUT_PRAGMA)
            _enable_wal(cursor)
            if synchronous:
                # In WAL mode NORMAL syncs at checkpoints, not at every
                # commit: the database stays consistent through any
                # crash, and only a power loss can take back the last
                # transactions. FULL costs an fsync per commit (1.3 ms
                # each, six per create). [database] sqlite_synchronous
                # off leaves oslo.db's OFF.
                cursor.execute('PRAGMA synchronous = NORMAL')
        finally:
            cursor.close()
    return on_connect


def _enable_wal(cursor):
    """Switch to WAL (a no-op once done: the mode is kept in the file).

    Switching needs the database to itself and SQLite reports "locked"
    at once rather than waiting, so a process opening a new database
    while another creates its tables tries again.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            cursor.execute('PRAGMA journal_mode = WAL')
            return
        except sqlite3.OperationalError as error:
            if ('locked' not in str(error) or
                    time.monotonic() > deadline):
                raise
        time.sleep(random.uniform(0.005, 0.05))


def begin(conn):
    """The ``begin`` hook: the ``BEGIN`` the transaction asked for."""
    mode = conn.get_execution_options().get(BEGIN_OPTION) or (
        BEGIN_KIND.get())
    conn.exec_driver_sql(_BEGIN_STATEMENTS[mode])
    conn.info[_OSLO_IN_TRANSACTION] = True  # oslo.db's hook: no BEGIN
