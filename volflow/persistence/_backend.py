"""taskflow persistence backends cheap enough to record every flow.

taskflow's SQLAlchemy backend builds a new ``Connection`` - a new
``MetaData`` and new ``Table`` objects - on every ``get_connection()``,
which storage calls for each of the ~29 writes of a 6-task flow: 311-469
ms per run on a SQLite file, because SQLAlchemy's compiled-statement cache
never sees the same table twice. The connection holds nothing but those
tables (every operation runs in its own engine transaction), so
:class:`SQLAlchemyBackend` keeps one, built and upgraded once per process.

Its engine is volflow's own (:func:`volflow.db.sqlalchemy._engine.
create_engine`): pooled, and on SQLite in WAL mode with a busy timeout,
``synchronous = NORMAL`` and every transaction opened with ``BEGIN
IMMEDIATE`` - taskflow reads a row and then updates it in one
transaction, which under WAL fails at once ("database is locked") if
another writer committed in between, unless the write lock is taken
first. ``foreign_keys`` is on, so that destroying a logbook removes its
flow and atom details as the schema's ``ON DELETE CASCADE`` says.
On PostgreSQL the tables are created like volflow's (no alembic).

The memory backend (for the in-memory database) keeps the very flow and
atom details it is given (:class:`_LiveConnection`): the engine's storage
updates its own objects after every write, so a write needs no copy, no
serialisation and no merge - taskflow's memory backend does all three,
about a third of a create's storage cost on the in-memory database.
"""

import collections
import contextlib
import threading
import weakref

from oslo_config import cfg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from taskflow import exceptions as taskflow_exceptions
from taskflow.persistence.backends import impl_memory
from taskflow.persistence.backends import impl_sqlalchemy
from taskflow.persistence import base
from taskflow.persistence import models
from taskflow import states
from taskflow.types import failure as taskflow_failure

from volflow import db
from volflow.db.sqlalchemy import _engine

CONF = cfg.CONF

#: Flow states that need nothing more.
FINISHED = frozenset([states.SUCCESS, states.REVERTED])
#: Key of volflow's entry in a flow detail's meta (the jobboard's steps,
#: :mod:`volflow.flows.jobs`, keep theirs under ``volflow``).
META = 'volflow_run'


_BACKENDS = weakref.WeakKeyDictionary()  # db api -> backend
_URL_BACKENDS = {}  # persistence_connection -> backend

#: Atom detail meta keys taskflow updates around every execution.
_PROGRESS = ('progress', 'progress_details')
#: How many atom details :class:`_Connection` remembers the last write of.
_REMEMBERED = 4096


def _sans_progress(values):
    """An atom detail's values but its progress.

    The meta dict is a new one: taskflow updates the detail's own in place.
    """
    meta = values.get('meta') or {}
    return dict(values, meta={key: value for key, value in meta.items()
                              if key not in _PROGRESS})


def _sqlite_foreign_keys(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute('PRAGMA foreign_keys = ON')
    finally:
        cursor.close()


class _Connection(impl_sqlalchemy.Connection):
    """taskflow's connection, creating its tables the way volflow does."""

    def upgrade(self):
        # taskflow migrates with alembic except on SQLite; volflow does
        # not depend on alembic and creates the current tables directly,
        # under the lock that keeps two starting processes apart.
        with self._upgrade_lock:
            _engine.create_schema(self._engine, self._metadata)

    # taskflow's own updates read the row, merge it with what they were
    # given and write every column back - and a flow detail's update
    # rewrites each of its atom details too: 6-10 statements per flow
    # state change. The engine's storage is the one writer of its flow
    # (runs are claimed) and hands over the whole record, so one UPDATE
    # of the row, with a statement built once, says the same: about half
    # the cost of a persisted flow (measured on PostgreSQL).
    def _statement(self, kind, table):
        """``kind`` (``insert``, ``update``) of ``table``, built once."""
        statements = self.__dict__.setdefault('_volflow_statements', {})
        statement = statements.get((kind, table.name))
        if statement is None:
            statement = statements[(kind, table.name)] = (
                sa.insert(table) if kind == 'insert' else
                sa.update(table).where(
                    table.c.uuid == sa.bindparam('_volflow_uuid')))
        return statement

    # taskflow inserts with ``insert(table).values(**row)``: a statement
    # built per row, about half the cost of the insert. One statement,
    # built once, takes every row - the atom details of a flow in one
    # execution.
    def _insert_flow_details(self, conn, flow_detail, parent_uuid):
        tables = self._tables
        conn.execute(self._statement('insert', tables.flowdetails),
                     dict(flow_detail.to_dict(), parent_uuid=parent_uuid))
        atoms = [dict(atom_detail.to_dict(), parent_uuid=flow_detail.uuid,
                      atom_type=models.atom_detail_type(atom_detail))
                 for atom_detail in flow_detail]
        if atoms:
            conn.execute(self._statement('insert', tables.atomdetails),
                         atoms)

    def _insert_atom_details(self, conn, atom_detail, parent_uuid):
        conn.execute(self._statement('insert', self._tables.atomdetails),
                     dict(atom_detail.to_dict(), parent_uuid=parent_uuid,
                          atom_type=models.atom_detail_type(atom_detail)))

    def _update_row(self, conn, table, record):
        statement = self._statement('update', table)
        values = record.to_dict()
        values['_volflow_uuid'] = values.pop('uuid')
        if conn.execute(statement, values).rowcount == 0:
            raise taskflow_exceptions.NotFound(
                f'No {table.name} row with uuid {record.uuid!r}')

    def update_atom_details(self, atom_detail):
        """Write an atom detail, unless it would tell nothing to resume.

        taskflow writes four times per task: ``RUNNING``, progress 0.0,
        the result (``SUCCESS``), progress 1.0. Resuming re-runs a task
        recorded ``RUNNING`` exactly as it runs one still ``PENDING`` (in
        a linear flow, the next one), and nothing volflow does reads the
        progress back: so the running state and progress-only updates
        are not written - the result is, with the progress along.
        """
        if (atom_detail.state == states.RUNNING and
                atom_detail.intention == states.EXECUTE):
            return atom_detail
        key = _sans_progress(atom_detail.to_dict())
        written = self.__dict__.setdefault(
            '_volflow_written', collections.OrderedDict())
        lock = self.__dict__.setdefault('_volflow_lock', threading.Lock())
        with lock:
            if written.get(atom_detail.uuid) == key:
                return atom_detail
        with _storage_errors('updating atom details', atom_detail.uuid):
            with self._engine.begin() as conn:
                self._update_row(conn, self._tables.atomdetails,
                                 atom_detail)
        with lock:
            written[atom_detail.uuid] = key
            written.move_to_end(atom_detail.uuid)
            while len(written) > _REMEMBERED:
                written.popitem(last=False)
        return atom_detail

    def _flows_known(self):
        """``{flow uuid: [state, meta, {atom uuids}]}`` as written.

        What this process wrote of the flows it recorded: the rows they
        have, so that a flow detail's update needs neither a query for
        its atom details nor a write that would tell resume nothing.
        Bounded like the atom details' (:data:`_REMEMBERED`).
        """
        known = self.__dict__.get('_volflow_flows')
        if known is None:
            known = self.__dict__.setdefault('_volflow_flows',
                                             collections.OrderedDict())
        return known

    def _remember_flow(self, flow_detail):
        lock = self.__dict__.setdefault('_volflow_lock', threading.Lock())
        known = self._flows_known()
        with lock:
            known[flow_detail.uuid] = [flow_detail.state,
                                       dict(flow_detail.meta or {}),
                                       {ad.uuid for ad in flow_detail}]
            known.move_to_end(flow_detail.uuid)
            while len(known) > _REMEMBERED:
                known.popitem(last=False)

    def create_logbook(self, book):
        """Insert a new logbook and its flow details; False if it exists.

        taskflow's ``save_logbook`` reads first and merges into a logbook
        that exists; volflow records each flow once, under a uuid that
        tells duplicates, so one transaction of inserts says it all (the
        atom details included: :func:`volflow.engines.load_engine` makes
        them with the flow detail).
        """
        with _storage_errors('creating logbook', book.uuid):
            try:
                with self._engine.begin() as conn:
                    conn.execute(self._statement(
                        'insert', self._tables.logbooks), book.to_dict())
                    for flow_detail in book:
                        self._insert_flow_details(conn, flow_detail,
                                                  book.uuid)
            except sa_exc.IntegrityError:
                return False
        for flow_detail in book:
            self._remember_flow(flow_detail)
        return True

    def update_flow_details(self, flow_detail):
        """The flow detail's row; its atom details only if new ones.

        A flow recorded ``PENDING`` by this process and now ``RUNNING``,
        nothing else changed, is not written: resume treats both alike
        (unfinished: run it), and the next state it reaches is written.
        Atom details this process inserted are not looked for again.
        """
        known = self._flows_known().get(flow_detail.uuid)
        atoms = {ad.uuid for ad in flow_detail}
        meta = dict(flow_detail.meta or {})
        if known is not None and atoms <= known[2]:
            if (known[0] == states.PENDING and
                    flow_detail.state == states.RUNNING and
                    meta == known[1]):
                return flow_detail
            with _storage_errors('updating flow details', flow_detail.uuid):
                with self._engine.begin() as conn:
                    self._update_row(conn, self._tables.flowdetails,
                                     flow_detail)
            known[:2] = [flow_detail.state, meta]
            return flow_detail
        table = self._tables.atomdetails
        with _storage_errors('updating flow details', flow_detail.uuid):
            with self._engine.begin() as conn:
                self._update_row(conn, self._tables.flowdetails,
                                 flow_detail)
                inserted = set(conn.execute(sa.select(table.c.uuid).where(
                    table.c.parent_uuid == flow_detail.uuid)).scalars())
                for atom_detail in flow_detail:
                    if atom_detail.uuid not in inserted:
                        self._insert_atom_details(conn, atom_detail,
                                                  flow_detail.uuid)
        if known is not None:
            known[:] = [flow_detail.state, meta, known[2] | atoms]
        return flow_detail


@contextlib.contextmanager
def _storage_errors(what, uuid):
    """Database errors as taskflow's ``StorageFailure``, as taskflow's."""
    try:
        yield
    except sa_exc.SQLAlchemyError:
        taskflow_exceptions.raise_with_cause(
            taskflow_exceptions.StorageFailure,
            f'Failed {what} with uuid {uuid!r}')


class SQLAlchemyBackend(impl_sqlalchemy.SQLAlchemyBackend):
    """taskflow's SQLAlchemy backend with one cached, upgraded connection.

    :param connection: a SQLAlchemy URL.
    """

    def __init__(self, connection):
        # No ping per checkout (a round trip before every one of the
        # ~40 writes of a create): a dropped connection fails its
        # statement instead, and taskflow's storage retries it.
        engine = _engine.create_engine(connection, pool_pre_ping=False)
        if engine.dialect.name == 'sqlite':
            sa.event.listen(engine, 'connect', _sqlite_foreign_keys)
            engine = engine.execution_options(
                **{_engine.BEGIN_OPTION: 'immediate'})
        super().__init__({'connection': connection}, engine=engine)
        self._connection = None
        self._connection_lock = threading.Lock()

    def get_connection(self):
        if self._connection is None:
            with self._connection_lock:
                if self._connection is None:
                    conn = _Connection(self, upgrade_lock=self._upgrade_lock)
                    conn.upgrade()
                    self._connection = conn
        return self._connection

    @property
    def tables(self):
        """taskflow's tables (for the queries resume makes itself)."""
        return self.get_connection()._tables

    def close(self):
        self.engine.dispose()
        self._connection = None


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

    def get_logbook(self, book_uuid, lazy=False):
        try:
            return self._books[book_uuid]
        except KeyError:
            raise taskflow_exceptions.NotFound(
                f'No logbook found with uuid {book_uuid!r}') from None

    def get_logbooks(self, lazy=False):
        with self._lock:
            return iter(list(self._books.values()))

    def get_flows_for_book(self, book_uuid, lazy=False):
        return iter(list(self.get_logbook(book_uuid)))

    def get_flow_details(self, fd_uuid, lazy=False):
        try:
            return self._flows[fd_uuid]
        except KeyError:
            raise taskflow_exceptions.NotFound(
                f'No flow details found with uuid {fd_uuid!r}') from None

    def get_atom_details(self, ad_uuid):
        try:
            return self._atoms[ad_uuid]
        except KeyError:
            raise taskflow_exceptions.NotFound(
                f'No atom details found with uuid {ad_uuid!r}') from None

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


def _is_memory(url):
    if url.startswith('memory://'):
        return True
    parsed = sa.engine.make_url(url)
    return parsed.get_backend_name() == 'sqlite' and parsed.database in (
        None, '', ':memory:')


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
    db_url = (engine.url.render_as_string(hide_password=False)
              if isinstance(engine, sa.engine.Engine) else None)
    url = conf.taskflow.persistence_connection or db_url
    if db_url is None or _is_memory(db_url) or _is_memory(url):
        backend = MemoryBackend()
    elif url == db_url:
        backend = SQLAlchemyBackend(url)
    else:
        backend = _URL_BACKENDS.get(url)
        if backend is None:
            backend = _URL_BACKENDS.setdefault(
                url, SQLAlchemyBackend(url))
    return _BACKENDS.setdefault(db_api, backend)


def reset():
    """Close and forget every backend (tests that switch databases)."""
    backends = list(_BACKENDS.values()) + list(_URL_BACKENDS.values())
    _BACKENDS.clear()
    _URL_BACKENDS.clear()
    for backend in backends:
        backend.close()


def details(backend):
    """``(uuid, state, meta)`` of every recorded flow, atoms not read."""
    if isinstance(backend, SQLAlchemyBackend):
        table = backend.tables.flowdetails
        with backend.engine.connect() as conn:
            return [(row.uuid, row.state, row.meta or {})
                    for row in conn.execute(sa.select(
                        table.c.uuid, table.c.state, table.c.meta))]
    conn = backend.get_connection()
    return [(fd.uuid, fd.state, fd.meta or {})
            for book in conn.get_logbooks(lazy=True)
            for fd in conn.get_flows_for_book(book.uuid, lazy=True)]


def ours(meta):
    """volflow's record in a flow detail's meta (None: not volflow's)."""
    info = meta.get(META)
    return info if isinstance(info, dict) and 'kind' in info else None
