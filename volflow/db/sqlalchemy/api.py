"""The database interface on SQLAlchemy: SQLite by default, PostgreSQL too.

It behaves as the in-memory fake does (:mod:`volflow.db.fake`): the same
dicts, the same errors, the same project scoping. What the fake gets from
one process-wide lock, this module gets from transactions:

* every write runs in one transaction; on SQLite it starts with
  ``BEGIN IMMEDIATE``, so writers from any thread or process run one at a
  time (see :mod:`volflow.db.sqlalchemy._engine`);
* on PostgreSQL a write locks the rows it reads before deciding
  (``SELECT ... FOR UPDATE``): the volume of a compare-and-swap
  :meth:`SQLAPI.volume_update`, the backend of a capacity claim
  (:mod:`volflow.db.sqlalchemy._capacity`), the project's usage rows in
  :meth:`SQLAPI.quota_reserve`, the reservations being committed. Usage
  rows that do not exist yet are inserted first (``ON CONFLICT DO
  NOTHING``), then locked, so two first reservations can't both count.

The schema is checked on first use (:func:`volflow.db.sqlalchemy.migration.
ensure`): a new database gets it, an older one is upgraded only with
``upgrade_older`` (the embedded default's file) or ``volflow db sync``.
Create one :class:`SQLAPI` per process
and URL (:func:`volflow.db.get_api` does): it owns the Engine and its
connection pool.
"""

import contextlib
import copy
import threading

from oslo_db import exception as db_exc
from oslo_log import log as logging
from oslo_utils import timeutils
import sqlalchemy as sa

from volflow.db import api
from volflow.db import rules
from volflow.db.sqlalchemy import _capacity
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import _flows
from volflow.db.sqlalchemy import _images
from volflow.db.sqlalchemy import _quota
from volflow.db.sqlalchemy import _services
from volflow.db.sqlalchemy import _types
from volflow.db.sqlalchemy import migration
from volflow.db.sqlalchemy import models
from volflow import exception

LOG = logging.getLogger(__name__)


def _scoped(stmt, model, context):
    """Restrict ``stmt`` to the context's project unless it is admin."""
    if context.is_admin:
        return stmt
    return stmt.where(model.project_id == context.project_id)


def _volume_dict(volume, type_name):
    record = volume.to_dict()
    record['volume_type'] = type_name
    return record


def _by_volume_id(stmt):
    """``{is admin: stmt}``: one volume by id (``v_id``).

    For a non-admin context, scoped to its project (``v_project``).
    """
    stmt = stmt.where(models.Volume.id == sa.bindparam('v_id'))
    return {True: stmt, False: stmt.where(
        models.Volume.project_id == sa.bindparam('v_project'))}


# Statements built once: building one costs about as much as running it.
_VOLUME_GET = _by_volume_id(sa.select(
    models.Volume, models.VolumeType.name).outerjoin(
        models.VolumeType,
        models.Volume.volume_type_id == models.VolumeType.id))
_VOLUME_LOCK = {admin: stmt.with_for_update() for admin, stmt in
                _by_volume_id(sa.select(models.Volume)).items()}
_TYPE_NAME = sa.select(models.VolumeType.name).where(
    models.VolumeType.id == sa.bindparam('t_id'))
#: A Core INSERT: the ORM's unit of work (an entity, its flush) cost
#: about as much as the statement on SQLite. It returns the name of the
#: volume's type, which the record has: one statement, not two.
#: (Written out: SQLAlchemy renders a RETURNING clause's columns without
#: their table, which makes the subquery's ``id`` ambiguous.)
_VOLUME_INSERT = sa.insert(models.Volume.__table__).returning(
    sa.literal_column(
        '(SELECT volume_types.name FROM volume_types '
        'WHERE volume_types.id = volumes.volume_type_id)'))


class SQLAPI(_capacity.CapacityMixin, _flows.ClaimsMixin,
             _images.ImagesMixin, _services.ServicesMixin, _types.TypesMixin,
             api.API):
    """:class:`volflow.db.api.API` on a SQLAlchemy database.

    :param connection: a SQLAlchemy URL.
    :param upgrade_older: upgrade a database at an older schema revision
        on first use, instead of refusing to run on it.
    :param engine_kwargs: oslo.db's engine options
        (:func:`volflow.db.sqlalchemy._engine.engine_options`).
    :ivar engine: the enginefacade's Engine, for an embedding service that
        shares it.
    """

    def __init__(self, connection: str, upgrade_older: bool = False,
                 **engine_kwargs):
        super().__init__()
        self._upgrade_older = upgrade_older
        self._manager = _engine.transaction_manager(connection,
                                                    **engine_kwargs)
        self.engine = _engine.engine_of(self._manager, connection)
        _engine.refuse_unstorable_values(self.engine)
        self._schema_lock = threading.Lock()
        self._schema_ready = False
        # One in-memory SQLite connection is shared: take turns on it.
        self._connection_lock = (
            threading.RLock() if _engine.is_sqlite_memory(self.engine.url)
            else contextlib.nullcontext())
        LOG.debug('SQL database API on %s',
                  self.engine.url.render_as_string(hide_password=True))

    def dispose(self):
        """Close every pooled connection."""
        self.engine.dispose()

    def _ensure_schema(self):
        if not self._schema_ready:
            with self._schema_lock:
                if not self._schema_ready:
                    migration.ensure(self.engine,
                                     upgrade_older=self._upgrade_older)
                    self._schema_ready = True

    @contextlib.contextmanager
    def _transaction(self, write=False, orm=True):
        """A session in one transaction (see ``_engine.transaction``).

        ``orm`` False: a Core connection instead
        (:func:`~volflow.db.sqlalchemy._engine.connection`), for a call
        that runs Core statements only.

        A value the database can't take (a NUL character, undecodable
        text, too long for its column, a number out of range) is bad
        input, refused as ``InvalidInput``, not a database failure.
        """
        self._ensure_schema()
        begin = _engine.transaction if orm else _engine.connection
        try:
            with self._connection_lock, begin(
                    self._manager, write) as session:
                yield session
        except (db_exc.DBDataError, ValueError, OverflowError) as exc:
            cause = getattr(getattr(exc, 'inner_exception', None), 'orig',
                            None) or exc
            raise exception.InvalidInput(
                reason=(f"the database can't store a value: "
                        f"{str(cause).strip().splitlines()[0]}")) from exc

    # Volumes -------------------------------------------------------------
    @staticmethod
    def _volumes(context):
        stmt = sa.select(models.Volume, models.VolumeType.name).outerjoin(
            models.VolumeType,
            models.Volume.volume_type_id == models.VolumeType.id)
        return _scoped(stmt, models.Volume, context)

    @staticmethod
    def _type_name(session, type_id):
        if type_id is None:
            return None
        return session.scalar(_TYPE_NAME, {'t_id': type_id})

    def _volume_record(self, session, volume):
        return _volume_dict(volume,
                            self._type_name(session, volume.volume_type_id))

    def _lock_volume(self, session, context, volume_id):
        params = {'v_id': volume_id}
        if not context.is_admin:
            params['v_project'] = context.project_id
        volume = session.scalar(_VOLUME_LOCK[context.is_admin], params)
        if volume is None:
            raise exception.VolumeNotFound(volume_id=volume_id)
        return volume

    @api.volume_write
    def volume_create(self, context, values):
        record = rules.new_volume(values, timeutils.utcnow())
        duplicate = rules.already_exists('volume', record['id'])
        try:
            with self._transaction(write=True, orm=False) as conn:
                # A volume with this id already: the unique id refuses it.
                row, volume = models.Volume.insert_row(record)
                volume['volume_type'] = conn.execute(
                    _VOLUME_INSERT, row).scalar_one()
                return volume
        except db_exc.DBDuplicateEntry:
            raise duplicate from None

    def volume_get(self, context, volume_id):
        params = {'v_id': volume_id}
        if not context.is_admin:
            params['v_project'] = context.project_id
        with self._transaction() as session:
            row = session.execute(_VOLUME_GET[context.is_admin],
                                  params).one_or_none()
        if row is None:
            raise exception.VolumeNotFound(volume_id=volume_id)
        return _volume_dict(*row)

    def volume_get_all(self, context, filters=None):
        filters = dict(filters or {})
        stmt = self._volumes(context)
        for field in list(filters):
            if field in models.Volume.FIELDS and field != 'metadata':
                column = getattr(models.Volume, models.Volume.FIELDS[field])
                stmt = stmt.where(column == filters.pop(field))
        with self._transaction() as session:
            rows = session.execute(stmt.order_by(models.Volume.seq)).all()
        volumes = [_volume_dict(*row) for row in rows]
        return [v for v in volumes
                if all(v.get(k) == f for k, f in filters.items())]

    @api.volume_write
    @_engine.retry_on_deadlock
    def volume_update(self, context, volume_id, values, expected=None):
        values = copy.deepcopy(values)
        values.pop('volume_type', None)
        with self._transaction(write=True) as session:
            volume = self._lock_volume(session, context, volume_id)
            rules.check_expected('volume', volume_id, volume.to_dict(),
                                 expected)
            volume.update_from(values)
            volume.updated_at = timeutils.utcnow()
            session.flush()
            return _volume_dict(
                volume, self._type_name(session, volume.volume_type_id))

    @api.volume_write
    def volume_destroy(self, context, volume_id):
        with self._transaction(write=True) as session:
            session.delete(self._lock_volume(session, context, volume_id))

    def volume_allocated_by_host(self, context):
        with self._transaction() as session:
            return _capacity.allocated_by_host(session)

    # Snapshots -----------------------------------------------------------
    def _snapshot(self, session, context, snapshot_id):
        stmt = sa.select(models.Snapshot).where(
            models.Snapshot.id == snapshot_id)
        snapshot = session.scalar(_scoped(stmt, models.Snapshot, context))
        if snapshot is None:
            raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
        return snapshot

    def _insert(self, kind, model, record):
        """Insert a new row of ``model``; its dict."""
        try:
            with self._transaction(write=True) as session:
                row = model()
                row.update_from(record)
                session.add(row)
            return row.to_dict()
        except db_exc.DBDuplicateEntry:
            raise rules.already_exists(kind, record['id']) from None

    def snapshot_create(self, context, values):
        return self._insert('snapshot', models.Snapshot, rules.new_record(
            'snapshot', api.SNAPSHOT_FIELDS, values, status='creating',
            created_at=timeutils.utcnow()))

    def snapshot_get(self, context, snapshot_id):
        with self._transaction() as session:
            return self._snapshot(session, context, snapshot_id).to_dict()

    def snapshot_get_all(self, context, volume_id=None):
        stmt = _scoped(sa.select(models.Snapshot), models.Snapshot, context)
        if volume_id is not None:
            stmt = stmt.where(models.Snapshot.volume_id == volume_id)
        with self._transaction() as session:
            return [s.to_dict() for s in session.scalars(
                stmt.order_by(models.Snapshot.seq))]

    def snapshot_update(self, context, snapshot_id, values):
        with self._transaction(write=True) as session:
            snapshot = self._snapshot(session, context, snapshot_id)
            snapshot.update_from(copy.deepcopy(values))
            session.flush()
            return snapshot.to_dict()

    def snapshot_destroy(self, context, snapshot_id):
        with self._transaction(write=True) as session:
            session.delete(self._snapshot(session, context, snapshot_id))

    # Quotas --------------------------------------------------------------
    def quota_get_all(self, context, project_id):
        stmt = sa.select(models.Quota).where(
            models.Quota.project_id == project_id)
        with self._transaction() as session:
            return {q.resource: q.hard_limit for q in session.scalars(stmt)}

    def quota_get_all_of(self, context, project_ids):
        stmt = sa.select(models.Quota).where(
            models.Quota.project_id.in_(list(project_ids)))
        found = {project_id: {} for project_id in project_ids}
        with self._transaction() as session:
            for q in session.scalars(stmt):
                found[q.project_id][q.resource] = q.hard_limit
        return [found[project_id] for project_id in project_ids]

    @_engine.retry_on_deadlock
    def quota_set(self, context, project_id, resource, limit):
        with self._transaction(write=True) as session:
            _engine.insert_ignore(
                session, models.Quota,
                [{'project_id': project_id, 'resource': resource,
                  'hard_limit': limit}], ['project_id', 'resource'])
            session.execute(sa.update(models.Quota).where(
                models.Quota.project_id == project_id,
                models.Quota.resource == resource).values(hard_limit=limit))

    @_engine.retry_on_deadlock
    def quota_destroy_all(self, context, project_id):
        with self._transaction(write=True) as session:
            session.execute(sa.delete(models.Quota).where(
                models.Quota.project_id == project_id))

    def quota_usage_get_all(self, context, project_id):
        stmt = sa.select(models.QuotaUsage).where(
            models.QuotaUsage.project_id == project_id)
        with self._transaction() as session:
            return {u.resource: u.to_dict() for u in session.scalars(stmt)}

    @_engine.retry_on_deadlock
    def quota_reserve(self, context, project_id, deltas, limits, expire,
                      key=None, defaults_from=None, size=None):
        with self._transaction(write=True, orm=False) as conn:
            return _quota.reserve(conn, project_id, deltas, limits,
                                  expire, key=key,
                                  defaults_from=defaults_from, size=size)

    @_engine.retry_on_deadlock
    def reservation_commit(self, context, reservations):
        with self._transaction(write=True, orm=False) as conn:
            done = _quota.finish(conn, reservations, commit=True)
            return _quota.lost(conn, reservations, outstanding=done)

    @_engine.retry_on_deadlock
    def reservation_rollback(self, context, reservations):
        with self._transaction(write=True, orm=False) as conn:
            _quota.finish(conn, reservations, commit=False)

    @_engine.retry_on_deadlock
    def reservation_expire(self, context, now):
        with self._transaction(write=True, orm=False) as conn:
            expired = conn.scalars(sa.select(models.Reservation.id).where(
                models.Reservation.expire <= now)).all()
            return len(_quota.finish(conn, expired, commit=False))

    def reservations_committed(self, context, reservations):
        ids = list(dict.fromkeys(reservations or ()))
        if not ids:
            return []
        with self._transaction(orm=False) as conn:
            return _quota.committed(conn, ids)

    def reservation_get_all(self, context, project_id=None):
        stmt = sa.select(models.Reservation)
        if project_id is not None:
            stmt = stmt.where(models.Reservation.project_id == project_id)
        with self._transaction() as session:
            return [r.to_dict() for r in session.scalars(
                stmt.order_by(models.Reservation.seq))]
