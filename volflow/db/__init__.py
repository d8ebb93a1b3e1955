"""volflow's database layer: one interface, two implementations.

:mod:`volflow.db.api` is the interface (:class:`~volflow.db.api.API`) and
the helpers its implementations share; :mod:`volflow.db.fake` (in memory)
and :mod:`volflow.db.sqlalchemy` (SQLite, PostgreSQL) implement it.
:func:`get_api` picks one from configuration. The SQL implementation is
imported only by a process that asks for a SQL database: importing the
interface, or the in-memory fake, never loads SQLAlchemy.
"""

import threading

from volflow import conf as volflow_conf
from volflow.db import api as db_api
from volflow.db import fake

API = db_api.API

_APIS = {}
_APIS_LOCK = threading.Lock()


def default_connection(conf):
    """The embedded default's database: a SQLite file under state_path."""
    return f"sqlite:///{conf.state_path}/volflow.sqlite"


def _sql_api(connection, upgrade_older, conf):
    # SQLAlchemy is loaded by the processes that use it only (see above).
    from volflow.db.sqlalchemy import _engine
    from volflow.db.sqlalchemy import api as sql_api
    return sql_api.SQLAPI(connection, upgrade_older=upgrade_older,
                          **_engine.engine_options(conf))


def get_api(connection=None, conf=None):
    """Return the database API for ``connection``, one per process and URL.

    ``'memory://'`` gives the in-memory fake; any other value is a
    SQLAlchemy URL. ``None`` reads ``[database] connection`` and falls back
    to the SQLite file under ``state_path``. On first use the schema is made
    in a new database and the default data seeded; the default SQLite
    file is upgraded if older, any other database must be upgraded with
    ``volflow db sync`` (:mod:`volflow.db.sqlalchemy.migration`).
    """
    conf = conf or volflow_conf.CONF
    upgrade_older = False
    if connection is None:
        connection = conf.database.connection
        if not connection:
            connection = default_connection(conf)
            upgrade_older = True
    with _APIS_LOCK:
        api = _APIS.get(connection)
        if api is None:
            if connection.startswith('memory://'):
                api = fake.FakeAPI()
            else:
                api = _sql_api(connection, upgrade_older, conf)
            api.seed()
            _APIS[connection] = api
        return api


def reset_apis():
    """Forget the cached APIs (tests that switch databases)."""
    with _APIS_LOCK:
        for api in _APIS.values():
            dispose = getattr(api, 'dispose', None)
            if dispose is not None:
                dispose()
        _APIS.clear()
