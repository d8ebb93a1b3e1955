"""Quota arithmetic shared by the database implementations.

Both implementations count a project's usage the same way (when a usage
row is first created) and decide what is over quota the same way, so the
rules live here once.
"""

from volflow import conf as volflow_conf
from volflow import exception

CONF = volflow_conf.CONF


def count(resource, volumes, snapshots, type_names):
    """Live usage of ``resource`` over one project's records.

    :param volumes: the project's volume dicts.
    :param snapshots: the project's snapshot dicts.
    :param type_names: ``{volume_type_id: name}``.
    """
    kind, _sep, type_name = resource.partition('_')

    def of_type(record):
        return (not type_name or
                type_names.get(record.get('volume_type_id')) == type_name)

    volumes = [v for v in volumes if of_type(v)]
    snapshots = [s for s in snapshots if of_type(s)]
    if kind == 'volumes':
        return len(volumes)
    if kind == 'snapshots':
        return len(snapshots)
    if kind == 'gigabytes':
        total = sum(v['size'] or 0 for v in volumes)
        if not CONF.no_snapshot_gb_quota:
            total += sum(s['volume_size'] or 0 for s in snapshots)
        return total
    return 0


def check_over(deltas, limits, usages):
    """Raise ``OverQuota`` if any delta would take usage past its limit.

    :param deltas: ``{resource: delta}``.
    :param limits: ``{resource: limit}``; a negative or missing limit is
        unlimited.
    :param usages: ``{resource: {'in_use': n, 'reserved': n}}``.
    """
    overs = sorted(
        resource for resource, delta in deltas.items()
        if limits.get(resource, -1) >= 0 and delta >= 0 and
        limits[resource] < (delta + usages[resource]['in_use'] +
                            usages[resource]['reserved']))
    if overs:
        raise exception.OverQuota(
            overs=', '.join(overs), quotas=dict(limits),
            usages={res: dict(usage) for res, usage in usages.items()},
            over_list=overs)


def check_size(size, limit):
    """Raise ``VolumeSizeExceedsLimit`` if ``size`` is over ``limit``.

    ``limit`` is the project's ``per_volume_gigabytes``; negative is
    unlimited.
    """
    if limit >= 0 and size > limit:
        raise exception.VolumeSizeExceedsLimit(size=size, limit=limit)
