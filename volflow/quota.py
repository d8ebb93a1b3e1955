"""Quotas: limits, reservations, commits and rollbacks on top of the db.

The flow is Cinder's: reserve before creating anything, commit once the
record exists, roll back when a later step fails. A reservation that is
never committed nor rolled back (its process died) expires after
``reservation_expire`` seconds and is rolled back by
:meth:`QuotaEngine.expire`.
"""

import datetime

from oslo_utils import timeutils

from volflow import conf as volflow_conf
from volflow import exception

CONF = volflow_conf.CONF

#: Resources with a configured default; per-type ones default to unlimited.
_DEFAULT_LIMIT_OPTS = {
    'volumes': 'quota_volumes',
    'gigabytes': 'quota_gigabytes',
    'snapshots': 'quota_snapshots',
}

#: The other limits of Cinder's quota set, kept and shown but never
#: reserved: volflow makes no backups nor groups, and
#: ``per_volume_gigabytes`` bounds the size of one volume.
_OTHER_LIMIT_OPTS = {
    'backups': 'quota_backups',
    'backup_gigabytes': 'quota_backup_gigabytes',
    'groups': 'quota_groups',
    'per_volume_gigabytes': 'per_volume_size_limit',
}
OTHER_LIMITS = tuple(_OTHER_LIMIT_OPTS)

#: Every limit with a configured default, in a quota set's order.
LIMITS = tuple(_DEFAULT_LIMIT_OPTS) + OTHER_LIMITS

#: The quota class whose limits are every project's defaults.
DEFAULT_CLASS = 'default'

#: A quota class's limits are kept as a project's are, under this name.
_CLASS_KEY = 'quota-class:{}'


def type_resources(volume_type_name, **deltas):
    """Add the per-type copies (``volumes_<type>``...) of ``deltas``."""
    out = dict(deltas)
    if volume_type_name:
        for resource, delta in deltas.items():
            out[f'{resource}_{volume_type_name}'] = delta
    return out


class QuotaEngine:
    """Quota operations for one database API."""

    def __init__(self, db_api, conf=None):
        self.db = db_api
        self.conf = conf or CONF

    def default_limit(self, resource):
        """The configured default of ``resource`` (-1 when it has none)."""
        opt = (_DEFAULT_LIMIT_OPTS.get(resource)
               or _OTHER_LIMIT_OPTS.get(resource))
        return getattr(self.conf, opt) if opt else -1

    def defaults(self, context):
        """``{resource: limit}`` every project starts with.

        The configured defaults, overridden by the limits set on the
        ``default`` quota class.
        """
        return self.class_limits(context, DEFAULT_CLASS)

    def class_limits(self, context, class_name):
        """The limits of quota class ``class_name``.

        The ``default`` class's over the configured defaults; another
        class's own limits over those.
        """
        limits = {name: self.default_limit(name) for name in LIMITS}
        limits.update(self.db.quota_get_all(
            context, _CLASS_KEY.format(DEFAULT_CLASS)))
        if class_name != DEFAULT_CLASS:
            limits.update(self.db.quota_get_all(
                context, _CLASS_KEY.format(class_name)))
        return limits

    def class_update(self, context, class_name, resource, limit):
        check_limit(resource, limit)
        self.db.quota_set(context, _CLASS_KEY.format(class_name),
                          resource, limit)

    def limits(self, context, project_id, resources=(), every=False):
        """Return ``{resource: limit}``: explicit limits over defaults.

        The counted resources and their per-type copies; with ``every``
        also the limits of :data:`OTHER_LIMITS`.
        """
        # The default class's limits and the project's: one read.
        classes, explicit = self.db.quota_get_all_of(
            context, [_CLASS_KEY.format(DEFAULT_CLASS), project_id])
        defaults = {name: self.default_limit(name) for name in LIMITS}
        defaults.update(classes)
        names = set(_DEFAULT_LIMIT_OPTS) | set(resources) | set(explicit)
        names.update(name for name in defaults
                     if name not in _OTHER_LIMIT_OPTS)
        if every:
            names.update(OTHER_LIMITS)
        else:
            names.difference_update(OTHER_LIMITS)
        return {name: explicit.get(name, defaults.get(name, -1))
                for name in names}

    def summary(self, context, project_id, every=False):
        """``{resource: {'limit', 'in_use', 'reserved'}}`` for quota-show.

        With ``every`` also the limits of :data:`OTHER_LIMITS`, nothing
        used nor reserved.
        """
        usages = self.db.quota_usage_get_all(context, project_id)
        limits = self.limits(context, project_id, usages, every=every)
        return {name: {'limit': limit,
                       'in_use': usages.get(name, {}).get('in_use', 0),
                       'reserved': usages.get(name, {}).get('reserved', 0)}
                for name, limit in sorted(limits.items())}

    def update(self, context, project_id, resource, limit):
        check_limit(resource, limit)
        self.db.quota_set(context, project_id, resource, limit)

    def check_usage(self, context, project_id, limits):
        """Refuse a limit below what the project uses and has reserved.

        As Cinder refuses it: a limit of -1 (unlimited) is always allowed.
        ``limits`` is ``{resource: limit}``; all are checked before any is
        set, so a refusal changes nothing.
        """
        usages = self.db.quota_usage_get_all(context, project_id)
        for resource, limit in sorted(limits.items()):
            usage = usages.get(resource, {})
            minimum = usage.get('in_use', 0) + usage.get('reserved', 0)
            if limit != -1 and limit < minimum:
                raise exception.InvalidInput(
                    reason=(f"Quota limit '{limit}' for {resource} must be "
                            f"-1 (unlimited) or at least {minimum}, what "
                            f"the project already uses and has reserved"))

    def reset(self, context, project_id):
        """Forget the project's own limits: the defaults apply again."""
        self.db.quota_destroy_all(context, project_id)

    def check_volume_size(self, size, context=None, project_id=None):
        """Enforce the project's ``per_volume_gigabytes``.

        Without a context, the configured ``per_volume_size_limit``.
        """
        if context is None:
            limit = self.conf.per_volume_size_limit
        else:
            limit = self.limits(context, project_id, every=True)[
                'per_volume_gigabytes']
        if limit >= 0 and size > limit:
            raise exception.VolumeSizeExceedsLimit(size=size, limit=limit)

    def reserve(self, context, project_id, deltas, key=None, size=None):
        """Reserve ``deltas`` for the project; return the reservation ids.

        Raises the specific :class:`~volflow.exception.OverQuota` subclass
        Cinder raises for the first resource over its limit. With ``key``
        the reservation is made at most once while it is outstanding or
        committed (see :meth:`volflow.db.api.API.quota_reserve`): a flow
        step run again after a crash gets the same reservation back.
        With ``size``, a new volume of that size is checked against the
        project's ``per_volume_gigabytes`` first, as
        :meth:`check_volume_size` does, in the same transaction.
        """
        expire = timeutils.utcnow() + datetime.timedelta(
            seconds=self.conf.reservation_expire)
        # The configured defaults only: the database applies the default
        # class's limits and the project's own in the same transaction as
        # the reservation.
        limits = {res: self.default_limit(res) for res in deltas}
        options = {} if key is None else {'key': key}
        if size is not None:
            limits['per_volume_gigabytes'] = self.default_limit(
                'per_volume_gigabytes')
            options['size'] = size
        try:
            return self.db.quota_reserve(
                context, project_id, deltas, limits, expire,
                defaults_from=_CLASS_KEY.format(DEFAULT_CLASS), **options)
        except exception.OverQuota as exc:
            raise over_quota_error(exc, deltas) from None

    def commit(self, context, reservations):
        """Commit; committing again is a no-op.

        :returns: the ids that were neither outstanding nor committed:
            they expired (or were rolled back) before the commit, which
            happens to a flow resumed too late after a crash.
        """
        return self.db.reservation_commit(context, reservations)

    def rollback(self, context, reservations):
        self.db.reservation_rollback(context, reservations)

    def release(self, context, project_id, deltas, key=None):
        """Give back committed usage: a negative reservation, committed.

        With ``key`` it happens at most once: a release run again after a
        crash finds its reservation outstanding (and commits it) or
        committed (and does nothing).
        """
        negative = {res: -delta for res, delta in deltas.items()}
        keyed = {} if key is None else {'key': key}
        reservations = self.db.quota_reserve(
            context, project_id, negative, {},
            timeutils.utcnow() + datetime.timedelta(
                seconds=self.conf.reservation_expire), **keyed)
        self.db.reservation_commit(context, reservations)

    def expire(self, context):
        """Roll back reservations past their expiry; return how many."""
        return self.db.reservation_expire(context, timeutils.utcnow())


#: Largest quota limit: the SQL column is a 32-bit integer (Cinder's).
MAX_LIMIT = 2 ** 31 - 1


def check_limit(resource, limit):
    """Refuse a limit below -1 (unlimited) or above :data:`MAX_LIMIT`."""
    if not -1 <= limit <= MAX_LIMIT:
        raise exception.InvalidInput(
            reason=(f"Quota limit '{limit}' for {resource} must be -1 "
                    f"(unlimited) or between 0 and {MAX_LIMIT}"))


def over_quota_error(exc, deltas):
    """Map a raw ``OverQuota`` to the error Cinder reports for it."""
    overs = exc.kwargs.get('over_list', [])
    usages = exc.kwargs.get('usages', {})
    quotas = exc.kwargs.get('quotas', {})

    def consumed(name):
        return usages[name]['in_use'] + usages[name]['reserved']

    for name in overs:
        if name.startswith('gigabytes'):
            return exception.VolumeSizeExceedsAvailableQuota(
                name=name, requested=deltas[name], quota=quotas[name],
                consumed=consumed(name))
    for name in overs:
        if name.startswith('volumes'):
            return exception.VolumeLimitExceeded(allowed=quotas[name],
                                                 name=name)
        if name.startswith('snapshots'):
            return exception.SnapshotLimitExceeded(allowed=quotas[name],
                                                   name=name)
    return exc


def finish_delete(db_api, quota_engine, context, volume):
    """Give back a deleted volume's quota and remove its row."""
    quota_engine.release(context, volume['project_id'], type_resources(
        volume['volume_type'], volumes=1, gigabytes=volume['size']))
    db_api.volume_destroy(context, volume['id'])


def snapshot_deltas(snapshot, volume_type_name, conf):
    """What a snapshot counts against its project's quota."""
    deltas = {'snapshots': 1}
    if not conf.no_snapshot_gb_quota:
        deltas['gigabytes'] = snapshot['volume_size']
    return type_resources(volume_type_name, **deltas)


def finish_snapshot_delete(db_api, quota_engine, context, snapshot, conf):
    """Give back a deleted snapshot's quota and remove its row."""
    admin = context.elevated()
    type_name = None
    if snapshot.get('volume_type_id'):
        try:
            type_name = db_api.volume_type_get(
                admin, snapshot['volume_type_id'])['name']
        except exception.VolumeTypeNotFound:
            type_name = None
    # The row goes first: of two deletes of one snapshot, only the one
    # that removed it gives the quota back.
    db_api.snapshot_destroy(admin, snapshot['id'])
    quota_engine.release(admin, snapshot['project_id'],
                         snapshot_deltas(snapshot, type_name, conf))
