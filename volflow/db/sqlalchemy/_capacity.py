"""Capacity claims in SQL: a volume placed only where it fits.

The allocation of a backend is the sum of the sizes of the volumes whose
``host`` names it. :meth:`CapacityMixin.volume_claim_capacity` reads that
sum and writes the volume's ``host`` in one transaction holding the
backend's lock:

* on PostgreSQL, the backend's row of ``backend_locks`` (inserted the
  first time with ``ON CONFLICT DO NOTHING``, then ``SELECT ... FOR
  UPDATE``): two claims on one backend run one after the other, claims on
  different backends at once;
* on SQLite, the transaction starts with ``BEGIN IMMEDIATE``: one writer
  at a time, in every process on the file.

Only a claim adds to an allocation; clearing a volume's ``host`` or
deleting it only takes away, so those need no backend lock. The table is
new: an older database gets it from the schema creation on first use (it
holds no data, only the rows to lock).
"""

from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm

from volflow.db import api
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import models


class BackendLock(models.Base):
    """One row per backend, locked while a volume is placed on it."""

    __tablename__ = 'backend_locks'

    name: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                              primary_key=True)


def _lock_backend(session, backend):
    _engine.insert_ignore(session, BackendLock, [{'name': backend}],
                          ['name'])
    session.execute(sa.select(BackendLock.name).where(
        BackendLock.name == backend).with_for_update())


def _allocated(session, backend, volume_id):
    """The gigabytes of the volumes on ``backend`` but ``volume_id``."""
    stmt = sa.select(models.Volume.host,
                     sa.func.sum(models.Volume.size)).where(
        models.Volume.host.is_not(None), models.Volume.host != '',
        models.Volume.id != volume_id).group_by(models.Volume.host)
    return sum(int(total or 0) for host, total in session.execute(stmt)
               if api.backend_of_host(host) == backend)


class CapacityMixin:
    """The capacity claim of :class:`volflow.db.api.API` in SQL."""

    @_engine.retry_on_deadlock
    def volume_claim_capacity(self, context, volume_id, backend,
                              capacity_gb, values=None):
        with self._transaction(write=True) as session:
            _lock_backend(session, backend)
            volume = self._lock_volume(session, context, volume_id)
            record = volume.to_dict()
            api.check_expected('volume', volume_id, record,
                               {'status': 'creating'})
            if api.backend_of_host(record['host']) != backend:
                api.claim_fits(record, backend, capacity_gb,
                               _allocated(session, backend, volume_id))
                volume.update_from(dict(values or {}, host=backend))
                volume.updated_at = timeutils.utcnow()
                session.flush()
            return self._volume_record(session, volume)
