"""taskflow's SQL persistence, cheap enough to record every flow.

taskflow's SQLAlchemy backend builds a new ``Connection`` - a new
``MetaData`` and new ``Table`` objects - on every ``get_connection()``,
which storage calls for each of the ~29 writes of a 6-task flow: 311-469
ms per run on a SQLite file, because SQLAlchemy's compiled-statement cache
never sees the same table twice. Every operation runs in its own engine
transaction, so :class:`SQLAlchemyBackend` keeps one connection, built and
upgraded once per process; what it keeps besides the tables - statements
built once, the last write of each atom and flow detail - only saves
work: a write that would tell resume nothing (a task's ``RUNNING``, a
progress-only update, a flow recorded ``PENDING`` now ``RUNNING``) is not
made, and a flow's atom details go in with its record, in one statement.

Its engine is oslo.db's, made as volflow's database's is
(:func:`volflow.db.sqlalchemy._engine.transaction_manager`): on SQLite in
WAL mode with a busy timeout, ``synchronous = NORMAL`` and every
transaction opened with ``BEGIN IMMEDIATE`` - taskflow reads a row and
then updates it in one transaction, which under WAL fails at once
("database is locked") if another writer committed in between, unless
the write lock is taken first. ``foreign_keys`` is on (oslo.db's
``sqlite_fk``), so that destroying a logbook removes its flow and atom
details as the schema's ``ON DELETE CASCADE`` says.
The tables are made by volflow's migrations, with volflow's.

Importing taskflow's backend module (``impl_sqlalchemy``) imports alembic,
for migrations volflow does not run: about 0.2 s of every command's
start. So the backend and its connection are built on taskflow's
interfaces (``base.Backend``, ``base.Connection``) and its ``tables``:
what a flow run writes is volflow's own code below, and the rest -
reading, saving and destroying logbooks, which resume, conductors and the
cleanup of old records do - is taskflow's own connection on the same
engine, imported the first time one of those is called.
"""

import collections
import contextlib
import itertools
import threading

from oslo_db import exception as db_exc
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from taskflow import exceptions as taskflow_exceptions
from taskflow.persistence.backends.sqlalchemy import tables
from taskflow.persistence import base
from taskflow.persistence import models
from taskflow import states

from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import _flows
from volflow.db.sqlalchemy import _sqlite
from volflow.db.sqlalchemy import migration
from volflow.persistence import _held

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


def _row(record):
    """A detail's row for the UPDATE built by ``_Connection._statement``."""
    values = record.to_dict()
    values['_volflow_uuid'] = values.pop('uuid')
    return values


def in_memory(url):
    """True for ``memory://`` and SQLite in memory: gone with the process."""
    if url.startswith('memory://'):
        return True
    parsed = sa.engine.make_url(url)
    return parsed.get_backend_name() == 'sqlite' and parsed.database in (
        None, '', ':memory:')


def engine_url(engine):
    """The URL of a SQLAlchemy ``engine``, None for anything else."""
    if not isinstance(engine, sa.engine.Engine):
        return None
    return engine.url.render_as_string(hide_password=False)


class _Connection(base.Connection):
    """taskflow's connection: a run's writes here, the rest taskflow's."""

    def __init__(self, backend, upgrade_lock):
        self._backend = backend
        self._upgrade_lock = upgrade_lock
        self._engine = backend.engine
        self._metadata = sa.MetaData()
        self._tables = tables.fetch(self._metadata)
        self._taskflow_connection = None
        self._claims_conf = backend.claims_conf
        self._claim_insert = _flows.CLAIM_INSERTS.get(
            self._engine.dialect.name)
        # A result not written yet: {flow uuid: {atom uuid: (row, key)}};
        # and the flow of each atom detail this process recorded.
        self._pending = {}
        self._parents = collections.OrderedDict()

    @property
    def backend(self):
        return self._backend

    def validate(self):
        with self._engine.connect():
            pass

    def close(self):
        pass

    def upgrade(self):
        # taskflow's tables are volflow's migrations' (no alembic unless
        # the database is new): the database of volflow's own API is at
        # the head already; a persistence database of its own gets the
        # whole schema when new, else needs 'volflow db sync'.
        with self._upgrade_lock:
            migration.ensure(self._engine)

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
        self._update_rows(conn, table, [_row(record)])

    def _update_rows(self, conn, table, rows):
        statement = self._statement('update', table)
        for row in rows:
            if conn.execute(statement, row).rowcount == 0:
                raise taskflow_exceptions.NotFound(
                    f'No {table.name} row with uuid '
                    f'{row["_volflow_uuid"]!r}')

    def _lock(self):
        return self.__dict__.setdefault('_volflow_lock', threading.Lock())

    def _written(self):
        return self.__dict__.setdefault('_volflow_written',
                                        collections.OrderedDict())

    def _remember_atoms(self, keys):
        """``{atom uuid: key}`` are written: later equal writes are not."""
        written = self._written()
        with self._lock():
            for uuid, key in keys.items():
                written[uuid] = key
                written.move_to_end(uuid)
            while len(written) > _REMEMBERED:
                written.popitem(last=False)

    def _flush(self, conn, flow_uuid):
        """Write the flow's pending results in ``conn``'s transaction.

        :returns: ``{atom uuid: key}`` of what was written, to remember
            once the transaction has committed.
        """
        with self._lock():
            pending = self._pending.pop(flow_uuid, None)
        if not pending:
            return {}
        try:
            self._update_rows(conn, self._tables.atomdetails,
                              [row for row, _key in pending.values()])
        except BaseException:
            with self._lock():  # not written: still pending
                self._pending.setdefault(flow_uuid, {}).update(pending)
            raise
        return {uuid: key for uuid, (_row, key) in pending.items()}

    def update_atom_details(self, atom_detail):
        """Write an atom detail, unless it would tell nothing to resume.

        taskflow writes four times per task: ``RUNNING``, progress 0.0,
        the result (``SUCCESS``), progress 1.0. Resuming re-runs a task
        recorded ``RUNNING`` exactly as it runs one still ``PENDING`` (in
        a linear flow, the next one), and nothing volflow does reads the
        progress back: so the running state and progress-only updates
        are not written - the result is, with the progress along.

        A task's result in a flow this process recorded may wait for the
        flow's next write - the next task's result, a failure, a revert,
        the flow's own state - and go in its transaction: half the
        transactions of a flow's results. A crash in between re-runs the
        task whose result waited (never more than one): every task of
        volflow's flows may run twice, as the crash matrix proves by
        killing each one after its work, before its record.
        """
        if (atom_detail.state == states.RUNNING and
                atom_detail.intention == states.EXECUTE):
            return atom_detail
        key = _sans_progress(atom_detail.to_dict())
        with self._lock():
            if self._written().get(atom_detail.uuid) == key:
                return atom_detail
            flow_uuid = self._parents.get(atom_detail.uuid)
            waiting = self._pending.get(flow_uuid, {})
            if waiting.get(atom_detail.uuid, (None, None))[1] == key:
                # Progress only: the waiting result takes it along.
                waiting[atom_detail.uuid] = (_row(atom_detail), key)
                return atom_detail
            if (flow_uuid is not None and flow_uuid not in self._pending
                    and atom_detail.state == states.SUCCESS and
                    atom_detail.intention == states.EXECUTE):
                self._pending[flow_uuid] = {
                    atom_detail.uuid: (_row(atom_detail), key)}
                return atom_detail
        with _storage_errors('updating atom details', atom_detail.uuid):
            with self._engine.begin() as conn:
                written = self._flush(conn, flow_uuid)
                self._update_row(conn, self._tables.atomdetails,
                                 atom_detail)
        written[atom_detail.uuid] = key
        self._remember_atoms(written)
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
        """Remember a flow this process recorded, forget the oldest.

        A flow with a result waiting is not forgotten: its atoms' next
        writes must find their flow, to write what waits first - else a
        revert written on its own would later be overwritten by the
        waiting result of the same atom. So the flows remembered are
        :data:`_REMEMBERED` at most, and those with a result waiting
        (running here; their next write takes it) beyond.
        """
        known = self._flows_known()
        with self._lock():
            known[flow_detail.uuid] = [flow_detail.state,
                                       dict(flow_detail.meta or {}),
                                       {ad.uuid for ad in flow_detail}]
            known.move_to_end(flow_detail.uuid)
            excess = len(known) - _REMEMBERED
            if excess > 0:
                oldest = itertools.islice(known, excess + len(self._pending))
                forgotten = [uuid for uuid in oldest
                             if uuid not in self._pending and
                             uuid != flow_detail.uuid][:excess]
                for uuid in forgotten:
                    for atom_uuid in known.pop(uuid)[2]:
                        self._parents.pop(atom_uuid, None)
            for atom_detail in flow_detail:
                self._parents[atom_detail.uuid] = flow_detail.uuid

    def create_logbook(self, book):
        """Insert a new logbook and its flow details; False if it exists.

        taskflow's ``save_logbook`` reads first and merges into a logbook
        that exists; volflow records each flow once, under a uuid that
        tells duplicates, so one transaction of inserts says it all (the
        atom details included: :func:`volflow.engines.load_engine` makes
        them with the flow detail). Where the claims are in this database,
        the flows' claims for this process too (see
        :mod:`volflow.persistence._claims`).
        """
        claims = []
        if self._claims_conf is not None and self._claim_insert is not None:
            claims = [_held.claim_row(self._claims_conf, flow_detail.uuid)
                      for flow_detail in book]
        with _storage_errors('creating logbook', book.uuid):
            try:
                with self._engine.begin() as conn:
                    conn.execute(self._statement(
                        'insert', self._tables.logbooks), book.to_dict())
                    for flow_detail in book:
                        self._insert_flow_details(conn, flow_detail,
                                                  book.uuid)
                    claimed = [row['flow_uuid'] for row in claims
                               if conn.execute(self._claim_insert,
                                               row).rowcount == 1]
            except db_exc.DBDuplicateEntry:
                return False
        for flow_uuid in claimed:
            _held.claimed_with_record(flow_uuid)
        for flow_detail in book:
            self._remember_flow(flow_detail)
        return True

    def _drops_claim(self, flow_detail):
        """Whether the flow's final state write drops its claim too."""
        return (self._claims_conf is not None and
                flow_detail.state in _held.FINISHED and
                _held.held(flow_detail.uuid))

    def _write_flow(self, flow_detail, insert_new=False):
        """The flow detail's row, its pending results, maybe its claim."""
        drop = self._drops_claim(flow_detail)
        table = self._tables.atomdetails
        with _storage_errors('updating flow details', flow_detail.uuid):
            with self._engine.begin() as conn:
                written = self._flush(conn, flow_detail.uuid)
                self._update_row(conn, self._tables.flowdetails,
                                 flow_detail)
                if insert_new:
                    inserted = set(conn.execute(sa.select(
                        table.c.uuid).where(
                            table.c.parent_uuid == flow_detail.uuid)
                    ).scalars())
                    for atom_detail in flow_detail:
                        if atom_detail.uuid not in inserted:
                            self._insert_atom_details(conn, atom_detail,
                                                      flow_detail.uuid)
                if drop:
                    conn.execute(_flows.CLAIM_RELEASE, {
                        'c_uuid': flow_detail.uuid,
                        'c_owner': _held.owner()})
        self._remember_atoms(written)
        if drop:
            _held.dropped_with_state(flow_detail.uuid)

    def update_flow_details(self, flow_detail):
        """The flow detail's row; its atom details only if new ones.

        A flow recorded ``PENDING`` by this process and now ``RUNNING``,
        nothing else changed, is not written: resume treats both alike
        (unfinished: run it), and the next state it reaches is written.
        Atom details this process inserted are not looked for again.
        The results waiting for this write go in its transaction, and so
        does dropping this process's claim when the flow is finished.
        """
        known = self._flows_known().get(flow_detail.uuid)
        atoms = {ad.uuid for ad in flow_detail}
        meta = dict(flow_detail.meta or {})
        if known is not None and atoms <= known[2]:
            if (known[0] == states.PENDING and
                    flow_detail.state == states.RUNNING and
                    meta == known[1]):
                return flow_detail
            self._write_flow(flow_detail)
            known[:2] = [flow_detail.state, meta]
            return flow_detail
        self._write_flow(flow_detail, insert_new=True)
        if known is not None:
            known[:] = [flow_detail.state, meta, known[2] | atoms]
        return flow_detail

    # Everything a flow run does not write: taskflow's own code.
    def _taskflow(self):
        if self._taskflow_connection is None:
            # Imports alembic: only resume, conductors and cleanup get here.
            from taskflow.persistence.backends import impl_sqlalchemy
            self._taskflow_connection = impl_sqlalchemy.Connection(
                self._backend, upgrade_lock=self._upgrade_lock)
        return self._taskflow_connection

    def clear_all(self):
        return self._taskflow().clear_all()

    def save_logbook(self, book):
        return self._taskflow().save_logbook(book)

    def destroy_logbook(self, book_uuid):
        return self._taskflow().destroy_logbook(book_uuid)

    def get_logbook(self, book_uuid, lazy=False):
        return self._taskflow().get_logbook(book_uuid, lazy=lazy)

    def get_logbooks(self, lazy=False):
        return self._taskflow().get_logbooks(lazy=lazy)

    def get_flows_for_book(self, book_uuid, lazy=False):
        return self._taskflow().get_flows_for_book(book_uuid, lazy=lazy)

    def get_flow_details(self, fd_uuid, lazy=False):
        return self._taskflow().get_flow_details(fd_uuid, lazy=lazy)

    def get_atom_details(self, ad_uuid):
        return self._taskflow().get_atom_details(ad_uuid)

    def get_atoms_for_flow(self, fd_uuid):
        return self._taskflow().get_atoms_for_flow(fd_uuid)


@contextlib.contextmanager
def _storage_errors(what, uuid):
    """Database errors as taskflow's ``StorageFailure``, as taskflow's."""
    try:
        yield
    except (db_exc.DBError, sa_exc.SQLAlchemyError):
        taskflow_exceptions.raise_with_cause(
            taskflow_exceptions.StorageFailure,
            f'Failed {what} with uuid {uuid!r}')


class SQLAlchemyBackend(base.Backend):
    """A taskflow SQLAlchemy backend with one cached, upgraded connection.

    :param connection: a SQLAlchemy URL.
    :param claims_conf: the configuration of a backend whose database
        holds the flow claims too (the database's own records): claims
        are then written with the records (``_Connection``).
    :param engine_kwargs: oslo.db's engine options (the pool's sizes;
        :func:`volflow.db.sqlalchemy._engine.engine_options`).
    """

    def __init__(self, connection, claims_conf=None, **engine_kwargs):
        # No ping per checkout (a round trip before every write of a
        # flow): a dropped connection fails its statement instead, and
        # taskflow's storage retries it.
        engine = _engine.engine_of(_engine.transaction_manager(
            connection, sqlite_fk=True, pre_ping=False, **engine_kwargs),
            connection)
        if engine.dialect.name == 'sqlite':
            engine = engine.execution_options(
                **{_sqlite.BEGIN_OPTION: 'immediate'})
        super().__init__({'connection': connection})
        self.claims_conf = claims_conf
        self._engine = engine
        self._upgrade_lock = threading.Lock()
        self._connection = None
        self._connection_lock = threading.Lock()

    @property
    def engine(self):
        return self._engine

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

    def details(self):
        """``(uuid, state, meta)`` of every recorded flow, in one query."""
        table = self.tables.flowdetails
        with self.engine.connect() as conn:
            return [(row.uuid, row.state, row.meta or {})
                    for row in conn.execute(sa.select(
                        table.c.uuid, table.c.state, table.c.meta))]

    def close(self):
        self.engine.dispose()
        self._connection = None
