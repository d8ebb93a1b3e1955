"""Which taskflow persistence backend records a database's flows.

:func:`get_backend` picks one per database: taskflow's SQL persistence for
a SQL database on disk or on a server (:mod:`volflow.persistence._sql`,
imported only when such a backend is built: it costs SQLAlchemy and
taskflow's tables), the memory backend for anything else.

The memory backend (for the in-memory database) keeps one connection, and
does not deep-copy, as taskflow's default storage does not.
"""

import weakref

from oslo_config import cfg
from taskflow.persistence.backends import impl_memory
from taskflow import states

from volflow import db

CONF = cfg.CONF

#: Flow states that need nothing more.
FINISHED = frozenset([states.SUCCESS, states.REVERTED])
#: Key of volflow's entry in a flow detail's meta, beside taskflow's
#: ``factory`` (:func:`volflow.persistence.new_detail`).
META = 'volflow'


_BACKENDS = weakref.WeakKeyDictionary()  # db api -> backend
_URL_BACKENDS = {}  # persistence_connection -> backend


class MemoryBackend(impl_memory.MemoryBackend):
    """taskflow's memory backend with one connection, no deep copies."""

    def __init__(self):
        super().__init__({'deep_copy': False})
        self._connection = impl_memory.Connection(self)

    def get_connection(self):
        return self._connection


def get_backend(db_api=None, conf=None):
    """The persistence backend for flows on ``db_api``, one per process.

    For a SQL database on disk or on a server: ``[taskflow]
    persistence_connection`` when set, else that database itself. For
    anything else - the in-memory database, an embedder's own - the
    memory backend, one per database: nothing of such a database outlives
    its process, so neither should the records of its flows.
    """
    conf = conf or CONF
    db_api = db_api or db.get_api(conf=conf)
    backend = _BACKENDS.get(db_api)
    if backend is not None:
        return backend
    engine = getattr(db_api, 'engine', None)
    if engine is None:
        backend = MemoryBackend()
    else:
        backend = _sql_backend(engine, conf)
    return _BACKENDS.setdefault(db_api, backend)


def _sql_backend(engine, conf):
    """The backend of a database on SQLAlchemy ``engine``."""
    from volflow.persistence import _sql  # SQL databases only (see above)
    db_url = _sql.engine_url(engine)
    url = conf.taskflow.persistence_connection or db_url
    if db_url is None or _sql.in_memory(db_url) or _sql.in_memory(url):
        return MemoryBackend()
    if url == db_url:
        return _sql.SQLAlchemyBackend(url)
    backend = _URL_BACKENDS.get(url)
    if backend is None:
        backend = _URL_BACKENDS.setdefault(url, _sql.SQLAlchemyBackend(url))
    return backend


def reset():
    """Close and forget every backend (tests that switch databases)."""
    backends = list(_BACKENDS.values()) + list(_URL_BACKENDS.values())
    _BACKENDS.clear()
    _URL_BACKENDS.clear()
    for backend in backends:
        backend.close()


def details(backend):
    """``(uuid, state, meta)`` of every recorded flow, atoms not read."""
    sql_details = getattr(backend, 'details', None)  # one query in SQL
    if sql_details is not None:
        return sql_details()
    conn = backend.get_connection()
    return [(fd.uuid, fd.state, fd.meta or {})
            for book in conn.get_logbooks(lazy=True)
            for fd in conn.get_flows_for_book(book.uuid, lazy=True)]


def ours(meta):
    """volflow's entry of a recorded run, from its flow detail's meta.

    None for a flow detail that is not volflow's, and for a jobboard job's
    step (:mod:`volflow.flows.jobs`): those belong to the conductors,
    which claim, resume and remove them on the board.
    """
    info = meta.get(META)
    if isinstance(info, dict) and 'kind' in info and 'step' not in info:
        return info
    return None
