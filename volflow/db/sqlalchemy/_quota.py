"""Quota reservations in SQL, inside the caller's write transaction.

Each function takes the transaction's Core connection (``conn``): the
statements are Core, built once (below).

The caller's transaction makes each function atomic: on SQLite it holds
the database's write lock from its first statement (``BEGIN IMMEDIATE``);
on PostgreSQL and MariaDB these functions lock the usage rows they decide
on (``SELECT ... FOR UPDATE``, always in sorted order, so two
transactions can't each hold what the other waits for), and take the
reservations they finish by deleting them (``DELETE ... RETURNING``: a
concurrent finish of the same ones waits, then finds them gone).
"""

import functools

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy import orm

from volflow.db import quota_sync
from volflow.db import rules
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import models

_USAGE_KEYS = ['project_id', 'resource']


def reserve(conn, project_id, deltas, limits, expire, key=None,
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
        conn, owners, resources + ([PER_VOLUME] if size is not None
                                   else []), limits, keyed)
    if size is not None:
        quota_sync.check_size(size, limits.get(PER_VOLUME, -1))
    if made:
        return keyed
    locked = {'project': project_id, 'resources': resources}
    rows = _usages(conn, locked)
    missing = [r for r in resources if r not in rows]
    if missing:
        counts = live_counts(conn, project_id, missing)
        _engine.insert_ignore(
            conn, models.QuotaUsage,
            [{'project_id': project_id, 'resource': r,
              'in_use': counts[r], 'reserved': 0} for r in missing],
            _USAGE_KEYS)
        rows = _usages(conn, locked)
    quota_sync.check_over(deltas, limits, {r: rows[r] for r in deltas})
    _set_usages(conn, project_id, {
        resource: {'reserved': rows[resource]['reserved'] + delta}
        for resource, delta in deltas.items() if delta > 0})
    reservations = [{'id': (uuidutils.generate_uuid() if key is None
                            else rules.reservation_id(key, resource)),
                     'project_id': project_id, 'resource': resource,
                     'delta': delta, 'expire': expire}
                    for resource, delta in deltas.items()]
    conn.execute(_RESERVATION_INSERT, reservations)
    return [r['id'] for r in reservations]


#: The limit on one volume's size: checked, never reserved.
PER_VOLUME = 'per_volume_gigabytes'


def _before_reserving(conn, owners, resources, limits, keyed):
    """``(limits, made)``: the limits, whether ``keyed`` ones exist.

    ``made``: whether a reservation of ``keyed`` is outstanding or
    committed. One statement: the quota rows of ``owners`` (the last
    one's win over the first's, which win over ``limits``) and the ids of
    ``keyed`` found in either reservation table.
    """
    params = {'owners': owners, 'resources': resources}
    if keyed:
        params['keyed'] = keyed
    rows = conn.execute(_BEFORE_RESERVING[bool(keyed)], params).all()
    limits = dict(limits)
    for owner in owners:  # the project's last: they win
        limits.update({row.resource: row.hard_limit for row in rows
                       if row.kind == 0 and row.project_id == owner})
    return limits, any(row.kind == 1 for row in rows)


def _set_usages(conn, project_id, values):
    """Set ``{resource: {column: value}}`` of the project's usage rows.

    One UPDATE (a ``CASE`` per column) where the driver would send one
    per row: psycopg2's and PyMySQL's ``executemany`` of an UPDATE is a
    round trip per row.
    """
    if not values:
        return
    columns = tuple(sorted({column for row in values.values()
                            for column in row}))
    params = {'project': project_id}
    for n, (resource, row) in enumerate(sorted(values.items())):
        params[f'r{n}'] = resource
        params.update((f'{column}{n}', row[column]) for column in columns)
    conn.execute(_usages_update(columns, len(values)), params)


# Core statements, not the ORM: a unit of work per reservation made or
# finished was most of a quota step's cost. And built once, at import (or
# once per shape): building a statement and its cache key cost 100-300 µs
# each, about what running it costs on SQLite. Values are bound
# parameters; a list is an expanding one (``IN``).
_USAGE = models.QuotaUsage.__table__
_RESERVATION = models.Reservation.__table__
_COMMITTED = models.CommittedReservation.__table__
_QUOTA = models.Quota.__table__


def _expanding(name):
    return sa.bindparam(name, expanding=True)


def _before_reserving_statements():
    limits = sa.select(
        sa.literal_column('0').label('kind'), _QUOTA.c.project_id,
        _QUOTA.c.resource, _QUOTA.c.hard_limit).where(
            _QUOTA.c.project_id.in_(_expanding('owners')),
            _QUOTA.c.resource.in_(_expanding('resources')))
    keyed = sa.union_all(limits, sa.select(
        sa.literal_column('1'), _RESERVATION.c.id, _RESERVATION.c.id,
        _RESERVATION.c.delta).where(
            _RESERVATION.c.id.in_(_expanding('keyed'))), sa.select(
        sa.literal_column('1'), _COMMITTED.c.id, _COMMITTED.c.id,
        sa.literal_column('0')).where(
            _COMMITTED.c.id.in_(_expanding('keyed'))))
    return {False: limits, True: keyed}


#: ``{keyed: statement}`` of :func:`_before_reserving`.
_BEFORE_RESERVING = _before_reserving_statements()
#: The project's usage rows of some resources, locked (``project``,
#: ``resources``).
_USAGES_LOCKED = sa.select(
    _USAGE.c.resource, _USAGE.c.in_use, _USAGE.c.reserved).where(
        _USAGE.c.project_id == sa.bindparam('project'),
        _USAGE.c.resource.in_(_expanding('resources'))).order_by(
            _USAGE.c.resource).with_for_update()
_RESERVATION_INSERT = sa.insert(_RESERVATION)
_COMMITTED_INSERT = sa.insert(_COMMITTED)
#: Reservations by id (``ids``), deleted: the rows it returns are the
#: ones this transaction finishes.
_RESERVATIONS_TAKEN = sa.delete(_RESERVATION).where(
    _RESERVATION.c.id.in_(_expanding('ids'))).returning(
        _RESERVATION.c.id, _RESERVATION.c.project_id,
        _RESERVATION.c.resource, _RESERVATION.c.delta)
#: Usage rows by ``(project, resource)`` (``keys``), locked.
_USAGES_OF_KEYS = sa.select(
    _USAGE.c.project_id, _USAGE.c.resource, _USAGE.c.in_use,
    _USAGE.c.reserved).where(
        sa.tuple_(_USAGE.c.project_id, _USAGE.c.resource).in_(
            _expanding('keys'))).order_by(
                _USAGE.c.project_id, _USAGE.c.resource).with_for_update()
_COMMITTED_OF = sa.select(_COMMITTED.c.id).where(
    _COMMITTED.c.id.in_(_expanding('ids')))
_KNOWN_OF = sa.union_all(sa.select(_RESERVATION.c.id).where(
    _RESERVATION.c.id.in_(_expanding('ids'))), _COMMITTED_OF)


@functools.lru_cache(maxsize=64)
def _usages_update(columns, count):
    """The UPDATE of :func:`_set_usages` for ``count`` resources.

    Parameters: ``project``, ``r0``.. (the resources), ``<column>0``..
    (their values).
    """
    resources = [sa.bindparam(f'r{n}', type_=_USAGE.c.resource.type)
                 for n in range(count)]
    return sa.update(_USAGE).where(
        _USAGE.c.project_id == sa.bindparam('project'),
        _USAGE.c.resource.in_(resources)).values({
            column: sa.case({resource: sa.bindparam(
                f'{column}{n}', type_=_USAGE.c[column].type)
                for n, resource in enumerate(resources)},
                value=_USAGE.c.resource)
            for column in columns})


def _usages(conn, params):
    return {row.resource: {'in_use': row.in_use, 'reserved': row.reserved}
            for row in conn.execute(_USAGES_LOCKED, params)}


def live_counts(conn, project_id, resources):
    """Count ``resources`` from the project's records, as the fake does.

    The records are read as entities, by a session in ``conn``'s
    transaction (once per project and resource: the usage rows are
    inserted then).
    """
    with orm.Session(bind=conn) as session:
        volumes = [v.to_dict() for v in session.scalars(
            sa.select(models.Volume).where(
                models.Volume.project_id == project_id))]
        snapshots = [s.to_dict() for s in session.scalars(
            sa.select(models.Snapshot).where(
                models.Snapshot.project_id == project_id))]
    type_names = dict(conn.execute(sa.select(
        models.VolumeType.id, models.VolumeType.name)).all())
    return {r: quota_sync.count(r, volumes, snapshots, type_names)
            for r in resources}


def lost(conn, reservations, outstanding=None):
    """The ids neither outstanding nor recorded as committed.

    One query over both tables; ``outstanding``, the ids known to be
    outstanding already, narrows it to the others (often none: then no
    query at all).
    """
    ids = [rid for rid in dict.fromkeys(reservations or ())
           if outstanding is None or rid not in outstanding]
    if not ids:
        return []
    stmt = _COMMITTED_OF if outstanding is not None else _KNOWN_OF
    known = set(conn.scalars(stmt, {'ids': ids}))
    return [rid for rid in ids if rid not in known]


def committed(conn, ids):
    """The ones of ``ids`` recorded as committed, in their order."""
    known = set(conn.scalars(_COMMITTED_OF, {'ids': ids}))
    return [rid for rid in ids if rid in known]


def finish(conn, reservations, commit):
    """Commit or roll back ``reservations``; return the ids that were.

    Ids already finished (or unknown) are skipped, which makes commit and
    rollback idempotent. A commit never takes ``in_use`` below zero, and
    is recorded (:class:`~volflow.db.sqlalchemy.models.
    CommittedReservation`).
    """
    ids = list(dict.fromkeys(reservations or ()))
    if not ids:
        return set()
    # Deleted first, their rows returned: the read, the lock and the
    # delete in one statement (SQLite 3.35, PostgreSQL, MariaDB 10.0.5).
    found = {r.id: r for r in conn.execute(_RESERVATIONS_TAKEN,
                                           {'ids': ids})}
    if not found:
        return set()
    keys = sorted({(r.project_id, r.resource) for r in found.values()})
    usages = {(u.project_id, u.resource): {'in_use': u.in_use,
                                           'reserved': u.reserved}
              for u in conn.execute(_USAGES_OF_KEYS, {'keys': keys})}
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
        _set_usages(conn, project, {
            resource: row for (owner, resource), row in usages.items()
            if owner == project})
    if committed:
        conn.execute(_COMMITTED_INSERT, committed)
    return set(found)
