"""Flow claims in SQL: which process runs which persisted flow.

:mod:`volflow.persistence` records every flow's progress with taskflow;
a claim row says which process is running (or resuming) a flow, until
when. Claiming is one write transaction - an ``INSERT`` that does nothing
on conflict, else a conditional ``UPDATE`` of an expired (or dead) claim -
so two processes can never both believe they hold the same flow, on
SQLite (one writer at a time) as on PostgreSQL and MySQL (the row is the
lock).
"""

import datetime

from oslo_db import exception as db_exc
from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy import orm

from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import models


class FlowClaim(models.Base):
    """One process's claim on one flow detail, until ``expire``."""

    __tablename__ = 'flow_claims'

    flow_uuid: orm.Mapped[str] = orm.mapped_column(sa.String(64),
                                                   primary_key=True)
    owner: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    expire: orm.Mapped[datetime.datetime] = orm.mapped_column(sa.DateTime)

    def to_dict(self):
        return {'flow_uuid': self.flow_uuid, 'owner': self.owner,
                'expire': self.expire}


# Statements built once, not per claim: building them was half of a
# claim's CPU time.
_CLAIMS = FlowClaim.__table__
#: The claim's insert, by dialect: inserts nothing if the flow is claimed.
CLAIM_INSERTS = _INSERTS = {
    'postgresql': postgresql.insert(_CLAIMS).on_conflict_do_nothing(
        index_elements=['flow_uuid']),
    'sqlite': sqlite.insert(_CLAIMS).on_conflict_do_nothing(
        index_elements=['flow_uuid']),
    # Values made by volflow (no text to truncate): IGNORE skips only the
    # duplicate here, and its row count says whether it inserted.
    'mysql': mysql.insert(_CLAIMS).prefix_with('IGNORE'),
}
#: Drops owner ``c_owner``'s claim of flow ``c_uuid``.
CLAIM_RELEASE = _RELEASE = sa.delete(_CLAIMS).where(
    _CLAIMS.c.flow_uuid == sa.bindparam('c_uuid'),
    _CLAIMS.c.owner == sa.bindparam('c_owner'))


def _insert_if_absent(session, values):
    """Insert the claim unless one exists; whether it was inserted."""
    insert = _INSERTS.get(session.get_bind().dialect.name)
    if insert is not None:
        return session.execute(insert, values).rowcount == 1
    try:
        with session.begin_nested():
            session.execute(sa.insert(_CLAIMS), values)
    except db_exc.DBDuplicateEntry:
        return False
    return True


class ClaimsMixin:
    """Flow claims of :class:`volflow.db.api.API` in SQL; commit purging.

    The purge forgets the remembered commits no flow needs any more.
    """

    @_engine.retry_on_deadlock
    def flow_claim(self, context, flow_uuid, owner, expire,
                   dead_owners=()):
        values = {'flow_uuid': flow_uuid, 'owner': owner, 'expire': expire}
        with self._transaction(write=True) as session:
            if _insert_if_absent(session, values):
                return True
            takeover = [FlowClaim.expire <= timeutils.utcnow()]
            if dead_owners:
                takeover.append(FlowClaim.owner.in_(list(dead_owners)))
            result = session.execute(sa.update(FlowClaim).where(
                FlowClaim.flow_uuid == flow_uuid, FlowClaim.owner != owner,
                sa.or_(*takeover)).values(owner=owner, expire=expire))
            return result.rowcount == 1

    def flow_claim_release(self, context, flow_uuid, owner):
        with self._transaction(write=True) as session:
            session.execute(_RELEASE, {'c_uuid': flow_uuid,
                                       'c_owner': owner})

    def flow_claims_renew(self, context, owner, expire):
        with self._transaction(write=True) as session:
            session.execute(sa.update(FlowClaim).where(
                FlowClaim.owner == owner).values(expire=expire))

    def flow_claim_get_all(self, context):
        with self._transaction() as session:
            return [c.to_dict() for c in session.scalars(
                sa.select(FlowClaim).order_by(FlowClaim.flow_uuid))]

    def reservation_purge_committed(self, context, before):
        committed = models.CommittedReservation
        with self._transaction(write=True) as session:
            return session.execute(sa.delete(committed).where(
                committed.committed_at < before)).rowcount
