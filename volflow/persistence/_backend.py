"""Which taskflow persistence backend records a database's flows.

:func:`get_backend` picks one per database: taskflow's SQL persistence for
a SQL database on disk or on a server (:mod:`volflow.persistence._sql`,
imported only when such a backend is built: it costs SQLAlchemy and
taskflow's tables), the memory backend for anything else.

The memory backend (for the in-memory database) keeps the very flow and
atom details it is given (:class:`_LiveConnection`): the engine's storage
updates its own objects after every write, so a write needs no copy, no
serialisation and no merge - taskflow's memory backend does all three,
about a third of a create's storage cost on the in-memory database.
"""

import threading
import weakref

from oslo_config import cfg
from taskflow import exceptions as taskflow_exceptions
from taskflow.persistence.backends import impl_memory
from taskflow.persistence import base
from taskflow.types import failure as taskflow_failure

from volflow import db
from volflow.persistence import _held

CONF = cfg.CONF

#: Flow states that need nothing more.
FINISHED = _held.FINISHED
#: Key of volflow's entry in a flow detail's meta, beside taskflow's
#: ``factory`` (:func:`volflow.persistence.new_detail`).
META = 'volflow'


_BACKENDS = weakref.WeakKeyDictionary()  # db api -> backend
_URL_BACKENDS = {}  # persistence_connection -> backend


class _LiveConnection(base.Connection):
    """A memory connection that keeps the objects it is given.

    A logbook, flow detail or atom detail saved for the first time is
    kept as it is; a later write of another object with the same uuid is
    merged into the kept one (references, not copies), and the kept one
    is returned - taskflow's storage then finds it is its own. An engine
    loaded with a recorded flow detail holds that very object, so its
    every write is a lookup. What readers get is the kept objects: a
    process resuming a flow runs on the objects the dead run left, as
    it would on what a backend recorded.
    """

    def __init__(self, backend):
        self._backend = backend
        self._lock = threading.RLock()
        self._books = {}
        self._flows = {}
        self._atoms = {}

    @property
    def backend(self):
        return self._backend

    def close(self):
        pass

    def upgrade(self):
        pass

    def validate(self):
        pass

    def clear_all(self):
        with self._lock:
            self._books.clear()
            self._flows.clear()
            self._atoms.clear()

    def update_atom_details(self, atom_detail, ignore_missing=False):
        kept = self._atoms.get(atom_detail.uuid)
        if kept is None:
            with self._lock:
                for flow_detail in self._flows.values():
                    kept = flow_detail.find(atom_detail.uuid)
                    if kept is not None:
                        break
                else:
                    if not ignore_missing:
                        raise taskflow_exceptions.NotFound(
                            f'No atom details found with uuid '
                            f'{atom_detail.uuid!r}')
                    return atom_detail
                self._atoms[atom_detail.uuid] = kept
        if kept is not atom_detail:
            kept.update(atom_detail)
        _strip_tracebacks(kept)
        return kept

    def update_flow_details(self, flow_detail, ignore_missing=False):
        with self._lock:
            kept = self._flows.get(flow_detail.uuid)
            if kept is None:
                if not ignore_missing:
                    raise taskflow_exceptions.NotFound(
                        f'No flow details found with uuid '
                        f'{flow_detail.uuid!r}')
                kept = self._flows[flow_detail.uuid] = flow_detail
            elif kept is not flow_detail:
                kept.merge(flow_detail)
            for atom_detail in flow_detail:
                have = kept.find(atom_detail.uuid)
                if have is None:
                    kept.add(atom_detail)
                    have = atom_detail
                elif have is not atom_detail:
                    have.update(atom_detail)
                self._atoms.setdefault(have.uuid, have)
        return kept

    def save_logbook(self, book):
        with self._lock:
            kept = self._books.get(book.uuid)
            if kept is None:
                kept = self._books[book.uuid] = book
            elif kept is not book:
                kept.merge(book)
            for flow_detail in book:
                flow_detail = self.update_flow_details(flow_detail,
                                                       ignore_missing=True)
                if kept.find(flow_detail.uuid) is not flow_detail:
                    kept.add(flow_detail)
        return kept

    def create_logbook(self, book):
        """Save a new logbook; False if it, or one of its flows, exists."""
        with self._lock:
            if book.uuid in self._books or any(
                    fd.uuid in self._flows for fd in book):
                return False
            self.save_logbook(book)
        return True

    def destroy_logbook(self, book_uuid):
        with self._lock:
            book = self._books.pop(book_uuid, None)
            if book is None:
                raise taskflow_exceptions.NotFound(
                    f'No logbook found with uuid {book_uuid!r}')
            for flow_detail in book:
                self._flows.pop(flow_detail.uuid, None)
                for atom_detail in flow_detail:
                    self._atoms.pop(atom_detail.uuid, None)

    @staticmethod
    def _kept(table, uuid, what):
        """The kept object of ``uuid``; taskflow's ``NotFound`` if none."""
        try:
            return table[uuid]
        except KeyError:
            raise taskflow_exceptions.NotFound(
                f'No {what} found with uuid {uuid!r}') from None

    def get_logbook(self, book_uuid, lazy=False):
        return self._kept(self._books, book_uuid, 'logbook')

    def get_logbooks(self, lazy=False):
        with self._lock:
            return iter(list(self._books.values()))

    def get_flows_for_book(self, book_uuid, lazy=False):
        return iter(list(self.get_logbook(book_uuid)))

    def get_flow_details(self, fd_uuid, lazy=False):
        return self._kept(self._flows, fd_uuid, 'flow details')

    def get_atom_details(self, ad_uuid):
        return self._kept(self._atoms, ad_uuid, 'atom details')

    def get_atoms_for_flow(self, fd_uuid):
        return iter(list(self.get_flow_details(fd_uuid)))


def _strip_tracebacks(atom_detail):
    """Keep an atom's failures as a backend records them: no traceback.

    A kept record lives until it is cleaned up; a live traceback would
    keep its frames, and all they refer to, as long. The engine's
    storage keeps the live failure in its own cache while it runs (it
    hands that one out as long as the recorded one matches it); a
    resumed engine gets the recorded one, as from any backend.
    """
    for name in ('failure', 'revert_failure'):
        failure = getattr(atom_detail, name)
        if failure is not None and failure.exc_info is not None:
            setattr(atom_detail, name,
                    taskflow_failure.Failure.from_dict(failure.to_dict()))


class MemoryBackend(impl_memory.MemoryBackend):
    """taskflow's memory backend with one connection that keeps objects."""

    def __init__(self):
        super().__init__({'deep_copy': False})
        self._connection = _LiveConnection(self)

    def get_connection(self):
        return self._connection

    def close(self):
        self._connection.clear_all()
        super().close()


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
    from volflow.db.sqlalchemy import _engine
    options = _engine.engine_options(conf)
    if url == db_url:
        return _sql.SQLAlchemyBackend(url, claims_conf=conf, **options)
    backend = _URL_BACKENDS.get(url)
    if backend is None:
        backend = _URL_BACKENDS.setdefault(
            url, _sql.SQLAlchemyBackend(url, **options))
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
