"""The invariants every state must keep, as reusable assertions.

:func:`assert_invariants` checks, over every project it can find, that
quota usage equals what the project's records add up to, that no
reservation is outstanding and that no volume is stuck in ``creating``.
:func:`state` captures what a refused request must leave untouched.
:func:`assert_capacity` checks that no backend holds more than its
capacity.

Both use only the public methods of :class:`volflow.db.api.API`, so they
hold any implementation to the same contract: the in-memory fake, the SQL
one, or an embedding service's own. The usage is recounted here, on
purpose not through :mod:`volflow.db.quota_sync`, so that a counting bug
there cannot hide itself.
"""

from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow.volume import backends

#: Resource kinds whose usage is a count or a sum over records.
_KINDS = ('volumes', 'gigabytes', 'snapshots')


def _admin():
    return volflow_context.get_admin_context()


def _type_names(db_api, ctx):
    return {t['id']: t['name'] for t in db_api.volume_type_get_all(ctx)}


def _type_of(record, type_names):
    return (type_names.get(record.get('volume_type_id')) or
            record.get('volume_type'))


def expected_usage(resource, volumes, snapshots, type_names,
                   no_snapshot_gb_quota=False):
    """What ``resource``'s ``in_use`` must be for these records.

    Returns None for a resource that is not a count or a sum over records
    (nothing to compare).
    """
    kind, _sep, type_name = resource.partition('_')
    if kind not in _KINDS:
        return None
    if type_name:
        volumes = [v for v in volumes
                   if _type_of(v, type_names) == type_name]
        snapshots = [s for s in snapshots
                     if _type_of(s, type_names) == type_name]
    if kind == 'volumes':
        return len(volumes)
    if kind == 'snapshots':
        return len(snapshots)
    total = sum(v['size'] or 0 for v in volumes)
    if not no_snapshot_gb_quota:
        total += sum(s['volume_size'] or 0 for s in snapshots)
    return total


def _project_ids(db_api, ctx, volumes, snapshots, project_ids):
    found = set(project_ids or ())
    found.update(v['project_id'] for v in volumes)
    found.update(s['project_id'] for s in snapshots)
    found.update(r['project_id'] for r in db_api.reservation_get_all(ctx))
    found.update(i['project_id'] for i in db_api.image_get_all(ctx))
    found.discard(None)
    return sorted(found)


def assert_invariants(db_api, project_ids=(), no_snapshot_gb_quota=None):
    """Assert the invariants over all projects of ``db_api``.

    The db interface cannot list the projects that only have usage rows
    (for example one whose every create was refused), so every project
    owning a volume, snapshot, image or reservation is checked, plus the
    ``project_ids`` given: pass the projects a test acted for.

    :param no_snapshot_gb_quota: whether snapshot sizes stay out of the
        ``gigabytes`` usage; defaults to the configured option.
    """
    if no_snapshot_gb_quota is None:
        no_snapshot_gb_quota = volflow_conf.CONF.no_snapshot_gb_quota
    ctx = _admin()
    volumes = db_api.volume_get_all(ctx)
    snapshots = db_api.snapshot_get_all(ctx)
    type_names = _type_names(db_api, ctx)
    problems = []

    reservations = db_api.reservation_get_all(ctx)
    if reservations:
        problems.append(f'outstanding reservations: {reservations!r}')
    for volume in volumes:
        if volume['status'] == 'creating':
            problems.append(f"volume {volume['id']} of project "
                            f"{volume['project_id']} is still creating")

    for project_id in _project_ids(db_api, ctx, volumes, snapshots,
                                   project_ids):
        own_volumes = [v for v in volumes if v['project_id'] == project_id]
        own_snapshots = [s for s in snapshots
                         if s['project_id'] == project_id]
        usages = db_api.quota_usage_get_all(ctx, project_id)
        for resource, usage in sorted(usages.items()):
            if usage['reserved'] != 0:
                problems.append(f'{project_id}/{resource}: reserved is '
                                f"{usage['reserved']}, not 0")
            want = expected_usage(resource, own_volumes, own_snapshots,
                                  type_names, no_snapshot_gb_quota)
            if want is not None and usage['in_use'] != want:
                problems.append(f'{project_id}/{resource}: in_use is '
                                f"{usage['in_use']}, the project's records "
                                f'add up to {want}')
    assert not problems, 'Invariants broken:\n  ' + '\n  '.join(
        problems)


def state(db_api, project_ids=()):
    """A comparable picture of everything a refused request must not touch.

    Volumes (id, status, size), snapshots, outstanding reservations and,
    per project, the non-zero usages; a usage row that is created at zero
    changes nothing a user can see and is left out.
    """
    ctx = _admin()
    volumes = db_api.volume_get_all(ctx)
    snapshots = db_api.snapshot_get_all(ctx)
    usages = {}
    for project_id in _project_ids(db_api, ctx, volumes, snapshots,
                                   project_ids):
        usages[project_id] = {
            resource: (usage['in_use'], usage['reserved'])
            for resource, usage in db_api.quota_usage_get_all(
                ctx, project_id).items()
            if usage['in_use'] or usage['reserved']}
    return {
        'volumes': sorted((v['id'], v['status'], v['size'])
                          for v in volumes),
        'snapshots': sorted((s['id'], s['status']) for s in snapshots),
        'reservations': sorted(r['id'] for r in
                               db_api.reservation_get_all(ctx)),
        'usages': usages,
    }


def assert_capacity(db_api, capacities):
    """No backend holds more than its capacity; sums match the volumes.

    :param capacities: ``{backend name: schedulable gigabytes}``.

    What the database reports allocated on each backend is at most its
    capacity and equals the sizes of the volumes placed there; a volume
    ``error`` because no backend had room holds no place anywhere.
    """
    ctx = _admin()
    volumes = db_api.volume_get_all(ctx)
    allocated = backends.allocated_by_backend(db_api, ctx)
    problems = []
    for name, capacity in sorted(capacities.items()):
        placed = sum(v['size'] for v in volumes if v['host'] and
                     backends.backend_of_host(v['host']) == name)
        if allocated.get(name, 0) > capacity:
            problems.append(f'backend {name}: {allocated[name]}G allocated, '
                            f'capacity {capacity}G')
        if allocated.get(name, 0) != placed:
            problems.append(f'backend {name}: {allocated.get(name, 0)}G '
                            f'allocated, its volumes add up to {placed}G')
    for volume in volumes:
        if (volume['status'] == 'error' and volume['host'] and
                'No valid backend' in (volume.get('reason') or '')):
            problems.append(f"volume {volume['id']} is error (no valid "
                            f"backend) but holds a place on "
                            f"{volume['host']}")
    assert not problems, 'capacity broken:\n  ' + '\n  '.join(problems)
