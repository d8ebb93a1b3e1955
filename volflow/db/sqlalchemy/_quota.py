"""Quota reservations in SQL, inside the caller's write transaction.

The caller's transaction makes each function atomic: on SQLite it holds
the database's write lock from its first statement (``BEGIN IMMEDIATE``);
on PostgreSQL these functions lock the usage and reservation rows they
decide on (``SELECT ... FOR UPDATE``, always in sorted order, so two
transactions can't each hold what the other waits for).
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from volflow.db import quota_sync
from volflow.db import rules
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import models

_USAGE_KEYS = ['project_id', 'resource']


def reserve(session, project_id, deltas, limits, expire, key=None,
            defaults_from=None, size=None):
    """Check limits and reserve ``deltas``; return reservation ids.

    ``limits`` are defaults, overridden by the quota rows of
    ``defaults_from`` (a quota class), overridden by the project's own.
    With ``size``, a volume of that size is checked against
    ``per_volume_gigabytes`` first (``VolumeSizeExceedsLimit``).

    With ``key``, a reservation made before under it (outstanding or
    committed) is returned as it is. The limits and that check are one
    read (:func:`_before_reserving`).

    Missing usage rows are inserted from a live count first, then every
    usage row of the request is locked and checked. ``OverQuota`` rolls
    the whole transaction back, inserted rows included.
    """
    keyed = ([] if key is None else
             [rules.reservation_id(key, res) for res in deltas])
    owners = [project_id] if defaults_from is None else [
        defaults_from, project_id]
    resources = sorted(deltas)
    limits, made = _before_reserving(
        session, owners, resources + ([PER_VOLUME] if size is not None
                                      else []), limits, keyed)
    if size is not None:
        quota_sync.check_size(size, limits.get(PER_VOLUME, -1))
    if made:
        return keyed
    usage = models.QuotaUsage.__table__
    locked = sa.select(usage.c.resource, usage.c.in_use,
                       usage.c.reserved).where(
        usage.c.project_id == project_id, usage.c.resource.in_(resources)
    ).order_by(usage.c.resource).with_for_update()
    rows = _usages(session, locked)
    missing = [r for r in resources if r not in rows]
    if missing:
        counts = live_counts(session, project_id, missing)
        _engine.insert_ignore(
            session, models.QuotaUsage,
            [{'project_id': project_id, 'resource': r,
              'in_use': counts[r], 'reserved': 0} for r in missing],
            _USAGE_KEYS)
        rows = _usages(session, locked)
    quota_sync.check_over(deltas, limits, {r: rows[r] for r in deltas})
    _set_usages(session, project_id, {
        resource: {'reserved': rows[resource]['reserved'] + delta}
        for resource, delta in deltas.items() if delta > 0})
    reservations = [{'id': (uuidutils.generate_uuid() if key is None
                            else rules.reservation_id(key, resource)),
                     'project_id': project_id, 'resource': resource,
                     'delta': delta, 'expire': expire}
                    for resource, delta in deltas.items()]
    session.execute(sa.insert(models.Reservation.__table__), reservations)
    return [r['id'] for r in reservations]


#: The limit on one volume's size: checked, never reserved.
PER_VOLUME = 'per_volume_gigabytes'


def _before_reserving(session, owners, resources, limits, keyed):
    """``(limits, made)``: the limits, whether ``keyed`` ones exist.

    ``made``: whether a reservation of ``keyed`` is outstanding or
    committed. One statement: the quota rows of ``owners`` (the last
    one's win over the first's, which win over ``limits``) and the ids of
    ``keyed`` found in either reservation table.
    """
    quota = models.Quota.__table__
    stmt = sa.select(sa.literal_column('0').label('kind'), quota.c.project_id,
                     quota.c.resource, quota.c.hard_limit).where(
        quota.c.project_id.in_(owners), quota.c.resource.in_(resources))
    if keyed:
        table = models.Reservation.__table__
        committed = models.CommittedReservation.__table__
        stmt = sa.union_all(stmt, sa.select(
            sa.literal_column('1'), table.c.id, table.c.id,
            table.c.delta).where(table.c.id.in_(keyed)), sa.select(
            sa.literal_column('1'), committed.c.id, committed.c.id,
            sa.literal_column('0')).where(committed.c.id.in_(keyed)))
    rows = session.execute(stmt).all()
    limits = dict(limits)
    for owner in owners:  # the project's last: they win
        limits.update({row.resource: row.hard_limit for row in rows
                       if row.kind == 0 and row.project_id == owner})
    return limits, any(row.kind == 1 for row in rows)


def _set_usages(session, project_id, values):
    """Set ``{resource: {column: value}}`` of the project's usage rows.

    One UPDATE (a ``CASE`` per column) where the driver would send one
    per row: psycopg2's and PyMySQL's ``executemany`` of an UPDATE is a
    round trip per row.
    """
    if not values:
        return
    usage = _USAGE
    columns = sorted({column for row in values.values() for column in row})
    session.execute(sa.update(usage).where(
        usage.c.project_id == project_id,
        usage.c.resource.in_(sorted(values))).values({
            column: sa.case({resource: row[column]
                             for resource, row in sorted(values.items())},
                            value=usage.c.resource)
            for column in columns}))


# Core statements, not the ORM: a unit of work per reservation made or
# finished was most of a quota step's cost.
_USAGE = models.QuotaUsage.__table__


def _usages(session, select):
    return {row.resource: {'in_use': row.in_use, 'reserved': row.reserved}
            for row in session.execute(select)}


def live_counts(session, project_id, resources):
    """Count ``resources`` from the project's records, as the fake does."""
    volumes = [v.to_dict() for v in session.scalars(
        sa.select(models.Volume).where(
            models.Volume.project_id == project_id))]
    snapshots = [s.to_dict() for s in session.scalars(
        sa.select(models.Snapshot).where(
            models.Snapshot.project_id == project_id))]
    type_names = dict(session.execute(sa.select(
        models.VolumeType.id, models.VolumeType.name)).all())
    return {r: quota_sync.count(r, volumes, snapshots, type_names)
            for r in resources}


def lost(session, reservations, outstanding=None):
    """The ids neither outstanding nor recorded as committed.

    One query over both tables; ``outstanding``, the ids known to be
    outstanding already, narrows it to the others (often none: then no
    query at all).
    """
    ids = [rid for rid in dict.fromkeys(reservations or ())
           if outstanding is None or rid not in outstanding]
    if not ids:
        return []
    committed = sa.select(models.CommittedReservation.id).where(
        models.CommittedReservation.id.in_(ids))
    stmt = committed if outstanding is not None else sa.union_all(
        sa.select(models.Reservation.id).where(
            models.Reservation.id.in_(ids)), committed)
    known = set(session.scalars(stmt))
    return [rid for rid in ids if rid not in known]


def finish(session, reservations, commit):
    """Commit or roll back ``reservations``; return the ids that were.

    Ids already finished (or unknown) are skipped, which makes commit and
    rollback idempotent. A commit never takes ``in_use`` below zero, and
    is recorded (:class:`~volflow.db.sqlalchemy.models.
    CommittedReservation`).
    """
    ids = list(dict.fromkeys(reservations or ()))
    if not ids:
        return set()
    table = models.Reservation.__table__
    found = {r.id: r for r in session.execute(
        sa.select(table.c.id, table.c.project_id, table.c.resource,
                  table.c.delta).where(table.c.id.in_(ids)).order_by(
                      table.c.id).with_for_update())}
    if not found:
        return set()
    usage = _USAGE
    keys = sorted({(r.project_id, r.resource) for r in found.values()})
    usages = {(u.project_id, u.resource): {'in_use': u.in_use,
                                           'reserved': u.reserved}
              for u in session.execute(sa.select(
                  usage.c.project_id, usage.c.resource, usage.c.in_use,
                  usage.c.reserved).where(
                      sa.tuple_(usage.c.project_id, usage.c.resource).in_(
                          keys)).order_by(usage.c.project_id,
                                          usage.c.resource).with_for_update())}
    now = timeutils.utcnow()
    committed = []
    for rid in ids:
        res = found.get(rid)
        if res is None:
            continue  # already finished
        row = usages[(res.project_id, res.resource)]
        if res.delta > 0:
            row['reserved'] = max(0, row['reserved'] - res.delta)
        if commit:
            row['in_use'] = max(0, row['in_use'] + res.delta)
            committed.append({'id': rid, 'committed_at': now})
    for project in sorted({project for project, _resource in usages}):
        _set_usages(session, project, {
            resource: row for (owner, resource), row in usages.items()
            if owner == project})
    if committed:
        session.execute(sa.insert(models.CommittedReservation.__table__),
                        committed)
    session.execute(sa.delete(table).where(table.c.id.in_(list(found))))
    return set(found)
