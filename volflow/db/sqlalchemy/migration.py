"""Run volflow's migrations (:mod:`volflow.db.migrations`); read versions.

A database's revision is the row of ``alembic_version``. Checking it is
two queries (is the table there, its row) and imports no Alembic: the
head is the last file name of ``migrations/versions`` (revision ids are
file names, one linear chain). Alembic is imported only to upgrade.

:func:`ensure` runs on a process's first use of a database:

* at the head revision: nothing to do;
* empty (no table at all): a new install, upgraded at once;
* at an older revision, or made before migrations (tables, no version):
  upgraded when ``upgrade_older`` (the embedded default's own SQLite
  file), else refused with :class:`~volflow.exception.DatabaseNotSynced`
  saying to run ``volflow db sync``, as Cinder's services do.

Upgrades hold the schema lock - SQLite's write lock (the migrations run in
one ``BEGIN IMMEDIATE`` transaction), PostgreSQL's advisory lock (in the
migrations' transaction), MySQL's ``GET_LOCK`` - and look at the revision
again under it: of several processes starting at once, one upgrades and
the others find the head.
"""

import functools
import logging as std_logging
import os
import re

from oslo_db import exception as db_exc
from oslo_log import log as logging
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from volflow.db.sqlalchemy import _sqlite
from volflow import exception

LOG = logging.getLogger(__name__)

VERSION_TABLE = 'alembic_version'
#: Key of the PostgreSQL advisory lock held while migrating.
_PG_LOCK_KEY = 0x766f6c666c6f77
_MYSQL_LOCK = 'volflow_schema'
_MYSQL_LOCK_TIMEOUT = 300
_SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), 'db', 'migrations')
_REVISION_FILE = re.compile(r'^(\d{4}_\w+)\.py$')


@functools.cache
def revisions():
    """Every revision id, oldest first (the files of the versions folder)."""
    names = []
    for name in os.listdir(os.path.join(_SCRIPTS, 'versions')):
        found = _REVISION_FILE.match(name)
        if found:
            names.append(found.group(1))
    return sorted(names)


def head():
    """The revision this code needs."""
    return revisions()[-1]


def target_metadata():
    """The tables the models describe: volflow's and taskflow's."""
    from taskflow.persistence.backends.sqlalchemy import tables

    from volflow.db.sqlalchemy import _capacity  # noqa: F401 (its tables)
    from volflow.db.sqlalchemy import _flows  # noqa: F401 (its tables)
    from volflow.db.sqlalchemy import models
    metadata = sa.MetaData()
    for table in models.Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    tables.fetch(metadata)
    return metadata


def current(connectable):
    """The database's revision; None when it has no version (yet).

    ``connectable``: an Engine, or a Connection in a transaction (read in
    a savepoint, which a missing table does not abort).
    """
    if isinstance(connectable, sa.engine.Connection):
        return _read_version(connectable, connectable.begin_nested)
    with connectable.connect() as conn:
        return _read_version(conn, conn.begin)


def _read_version(conn, begin):
    try:
        with begin():
            # Looked for first: oslo.db logs a warning, traceback and all,
            # for the error of a missing table.
            if not sa.inspect(conn).has_table(VERSION_TABLE):
                return None
            return conn.execute(sa.text(
                f'SELECT version_num FROM {VERSION_TABLE}')).scalar()
    except (db_exc.DBError, sa_exc.DBAPIError):  # oslo.db's engine or not
        return None


def ensure(engine, upgrade_older=False):
    """Make sure the database is at the head revision (module docstring).

    :raises DatabaseNotSynced: an existing database behind the head and
        not ``upgrade_older``.
    """
    if current(engine) == head():
        return
    # Looked at again under the schema lock: another process may be
    # making this database right now (on MySQL, table by table).
    upgrade(engine, upgrade_older=upgrade_older)


def _not_synced(engine, found):
    if found is not None and found not in revisions():
        return exception.DatabaseNotSynced(
            url=_render(engine), revision=found,
            remedy=f'this volflow knows revisions up to {head()} only: '
                   f'upgrade volflow')
    return exception.DatabaseNotSynced(
        url=_render(engine), revision=found or 'none',
        remedy=f"this volflow needs {head()}: run 'volflow db sync'")


def _render(engine):
    return engine.url.render_as_string(hide_password=True)


def upgrade(engine, revision='head', upgrade_older=True):
    """Upgrade the database to ``revision`` under the schema lock.

    With ``upgrade_older`` False, only an empty database is upgraded (a
    process that found it empty and lost the race finds it made).
    """
    with engine.connect() as conn:
        conn = conn.execution_options(**{_sqlite.BEGIN_OPTION: 'immediate'})
        dialect = conn.dialect.name
        if dialect == 'mysql':
            _mysql_lock(conn)
        try:
            with conn.begin():
                if dialect == 'postgresql':
                    conn.execute(sa.select(
                        sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
                found = current(conn)
                if found == head() and revision == 'head':
                    return
                if (not upgrade_older and
                        sa.inspect(conn).get_table_names()):
                    raise _not_synced(engine, found)
                if found is not None and found not in revisions():
                    raise _not_synced(engine, found)
                _alembic_upgrade(conn, revision)
        finally:
            if dialect == 'mysql':
                conn.execute(sa.text('SELECT RELEASE_LOCK(:name)'),
                             {'name': _MYSQL_LOCK})
                conn.commit()
    LOG.debug('Database %(url)s upgraded from %(old)s to %(new)s',
              {'url': _render(engine), 'old': found or 'none',
               'new': revision if revision != 'head' else head()})


def _mysql_lock(conn):
    got = conn.execute(sa.text('SELECT GET_LOCK(:name, :timeout)'),
                       {'name': _MYSQL_LOCK,
                        'timeout': _MYSQL_LOCK_TIMEOUT}).scalar()
    conn.commit()
    if got != 1:
        raise exception.VolflowException(
            message=f'Timed out waiting for the schema lock '
                    f'{_MYSQL_LOCK!r} on {_render(conn.engine)}')


def _alembic_upgrade(conn, revision):
    # Alembic's INFO lines (its plugins as it is imported, each step)
    # would reach a service's stderr on the first use of a new database;
    # upgrade() logs what was done. A level set by the logging
    # configuration is kept.
    alembic_log = std_logging.getLogger('alembic')
    quieted = alembic_log.level == std_logging.NOTSET
    if quieted:
        alembic_log.setLevel(std_logging.WARNING)
    try:
        from alembic import command
        from alembic import config as alembic_config
        cfg = alembic_config.Config()
        cfg.set_main_option('script_location', _SCRIPTS)
        cfg.attributes['connection'] = conn
        command.upgrade(cfg, revision)
    finally:
        if quieted:
            alembic_log.setLevel(std_logging.NOTSET)


def sync(engine, revision='head'):
    """``volflow db sync``: upgrade to ``revision``; return the revision."""
    upgrade(engine, revision)
    return current(engine)
