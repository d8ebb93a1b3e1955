"""Capacity claims in SQL: a volume placed only where it fits.

The allocation of a backend is the sum of the sizes of the volumes whose
``host`` names it. :meth:`CapacityMixin.volume_claim_capacity` reads that
sum and writes the volume's ``host`` in one transaction holding the
backend's lock:

* on PostgreSQL and MySQL, the backend's row of ``backend_locks``
  (inserted the first time with ``ON CONFLICT DO NOTHING``, or ``ON
  DUPLICATE KEY UPDATE`` as a no-op, then ``SELECT ... FOR UPDATE``): two
  claims on one backend run one after the other, claims on different
  backends at once;
* on SQLite, the transaction starts with ``BEGIN IMMEDIATE``: one writer
  at a time, in every process on the file.

Only a claim adds to an allocation; clearing a volume's ``host`` or
deleting it only takes away, so those need no backend lock.

**The sums are kept, not counted.** Summing the volumes at every claim
and every scheduling reads the whole volumes table: 38 ms each with
100,000 volumes on SQLite. On SQLite, PostgreSQL and MySQL, triggers on
``volumes`` keep ``host_allocations`` (gigabytes per ``host`` string) in
step with every insert, delete and change of ``host`` or ``size``, in
the transaction that makes it - whoever writes, volflow or not - so a
claim reads a few rows. The first migration (``0001_initial``) installs
the triggers and fills the table from the volumes.
"""

from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm

from volflow.db import api
from volflow.db import rules
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import models


class BackendLock(models.Base):
    """One row per backend, locked while a volume is placed on it."""

    __tablename__ = 'backend_locks'

    name: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                              primary_key=True)


class HostAllocation(models.Base):
    """Gigabytes of the volumes whose ``host`` is this string."""

    __tablename__ = 'host_allocations'

    host: orm.Mapped[str] = orm.mapped_column(sa.String(255),
                                              primary_key=True)
    allocated_gb: orm.Mapped[int] = orm.mapped_column(sa.BigInteger,
                                                      default=0)


_KEPT = ('sqlite', 'postgresql', 'mysql')


def allocated_by_host(session):
    """``{host: gigabytes}`` of every host some volume is placed on."""
    if session.get_bind().dialect.name in _KEPT:
        stmt = sa.select(HostAllocation.host,
                         HostAllocation.allocated_gb).where(
            HostAllocation.allocated_gb != 0)
    else:
        stmt = sa.select(models.Volume.host,
                         sa.func.sum(models.Volume.size)).where(
            models.Volume.host.is_not(None),
            models.Volume.host != '').group_by(models.Volume.host)
    return {host: int(total or 0) for host, total in session.execute(stmt)}


def _lock_backend(session, backend):
    _engine.insert_ignore(session, BackendLock, [{'name': backend}],
                          ['name'])
    session.execute(sa.select(BackendLock.name).where(
        BackendLock.name == backend).with_for_update())


def _allocated(session, backend):
    """The gigabytes of the volumes on ``backend``.

    The volume being claimed is not among them: it is claimed only when
    its ``host`` names no host of ``backend``.
    """
    return sum(total for host, total in allocated_by_host(session).items()
               if rules.backend_of_host(host) == backend)


class CapacityMixin:
    """The capacity claim of :class:`volflow.db.api.API` in SQL."""

    @api.volume_write
    @_engine.retry_on_deadlock
    def volume_claim_capacity(self, context, volume_id, backend,
                              capacity_gb, values=None):
        with self._transaction(write=True) as session:
            _lock_backend(session, backend)
            volume = self._lock_volume(session, context, volume_id)
            record = volume.to_dict()
            rules.check_expected('volume', volume_id, record,
                                 {'status': 'creating'})
            if rules.backend_of_host(record['host']) != backend:
                rules.claim_fits(record, backend, capacity_gb,
                                 _allocated(session, backend))
                volume.update_from(dict(values or {}, host=backend))
                volume.updated_at = timeutils.utcnow()
                session.flush()
            return self._volume_record(session, volume)
