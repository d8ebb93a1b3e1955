"""Quotas as Cinder serves them: quota sets, quota classes, limits.

* ``/os-quota-sets/{target}``: show (``?usage=True``: ``limit``,
  ``in_use``, ``reserved``, ``allocated`` per resource), update (admin),
  delete (admin: the project's own limits are forgotten, the defaults
  apply again) and ``/defaults``.
* ``/os-quota-class-sets/{class}`` (admin): show and update; the
  ``default`` class's limits are every project's defaults.
* ``/limits``: the caller's absolute limits and usage.

A quota set holds Cinder's keys: ``volumes``, ``gigabytes``,
``snapshots``, ``backups``, ``backup_gigabytes``, ``groups``,
``per_volume_gigabytes`` and the per-type copies (``volumes_<type>``,
``gigabytes_<type>``, ``snapshots_<type>``) of every volume type, so one
read back as it was read is a valid update. Backups and groups are never
made: their limits are kept, their usage is 0. An update is checked
whole before anything is set: a refused one changes nothing.
"""

from volflow.api import router
from volflow.api import schemas
from volflow.api.v3 import volumes
from volflow import exception
from volflow import quota

#: Resources counted per volume type.
TYPED = ('volumes', 'gigabytes', 'snapshots')

#: ``/limits``: absolute limit name -> quota set key.
_MAX = {
    'maxTotalVolumes': 'volumes',
    'maxTotalSnapshots': 'snapshots',
    'maxTotalVolumeGigabytes': 'gigabytes',
    'maxTotalBackups': 'backups',
    'maxTotalBackupGigabytes': 'backup_gigabytes',
}
#: ``/limits``: usage name -> quota set key.
_USED = {
    'totalVolumesUsed': 'volumes',
    'totalSnapshotsUsed': 'snapshots',
    'totalGigabytesUsed': 'gigabytes',
    'totalBackupsUsed': 'backups',
    'totalBackupGigabytesUsed': 'backup_gigabytes',
}


def _typed_keys(type_names):
    return [f'{resource}_{name}' for name in type_names
            for resource in TYPED]


class _Quotas:
    """What the quota controllers share: the engine and key checks."""

    def __init__(self, volume_api, policy, conf):
        self.api = volume_api
        self.policy = policy
        self.conf = conf

    def _type_names(self, ctx):
        return [t['name'] for t in self.api.db.volume_type_get_all(ctx)]

    def _check_keys(self, ctx, limits, key_kind):
        """``{key: int}`` of ``limits``; every key valid, or 400."""
        typed = set(_typed_keys(self._type_names(ctx)))
        checked = {}
        for key, value in limits.items():
            if key not in quota.LIMITS and key not in typed:
                raise exception.InvalidInput(
                    reason=f"Bad key(s) in {key_kind}: '{key}' is none of "
                           f"{', '.join(quota.LIMITS)} nor one of "
                           f"{', '.join(TYPED)} followed by _ and an "
                           f"existing volume type")
            limit = int(value)
            quota.check_limit(key, limit)
            checked[key] = limit
        return checked


class QuotaController(_Quotas):
    """``/os-quota-sets/{target}``."""

    def _quota_set(self, ctx, target, usage):
        typed = _typed_keys(self._type_names(ctx))
        summary = self.api.quota.summary(ctx, target, every=True)
        defaults = self.api.quota.defaults(ctx)
        quota_set = {'id': target}
        for name in list(quota.LIMITS) + typed + sorted(summary):
            values = summary.get(name) or {
                'limit': defaults.get(name, -1), 'in_use': 0,
                'reserved': 0}
            if usage:
                quota_set[name] = dict(values, allocated=0)
            else:
                quota_set[name] = values['limit']
        return quota_set

    def show(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:quotas:show',
                              {'project_id': id})
        usage = volumes.is_true(req.GET.get('usage', ''))
        return router.Response(
            {'quota_set': self._quota_set(ctx, id, usage)})

    def defaults(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:quotas:defaults',
                              {'project_id': id})
        defaults = self.api.quota.defaults(ctx)
        quota_set = {'id': id}
        for name in list(quota.LIMITS) + _typed_keys(self._type_names(ctx)):
            quota_set[name] = defaults.get(name, -1)
        quota_set.update(defaults)
        return router.Response({'quota_set': quota_set})

    def update(self, req, ctx, id, body):
        self.policy.authorize(ctx, 'volume_extension:quotas:update',
                              {'project_id': id})
        schemas.validate(schemas.QUOTA_UPDATE, body)
        limits = self._check_keys(ctx, body['quota_set'], 'quota set')
        # Cinder's: only when asked (skip_validation false), no limit below
        # what the project uses and has reserved.
        if not volumes.is_true(body.get('skip_validation', True)):
            self.api.quota.check_usage(ctx, id, limits)
        for key, limit in limits.items():
            self.api.quota.update(ctx, id, key, limit)
        quota_set = self._quota_set(ctx, id, usage=False)
        del quota_set['id']
        return router.Response({'quota_set': quota_set})

    def delete(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:quotas:delete',
                              {'project_id': id})
        self.api.quota.reset(ctx, id)
        return router.Response(status=200)


class QuotaClassController(_Quotas):
    """``/os-quota-class-sets/{class_name}`` (admin)."""

    def _class_set(self, ctx, class_name):
        limits = self.api.quota.class_limits(ctx, class_name)
        class_set = {name: limits.get(name, -1) for name in
                     list(quota.LIMITS) + _typed_keys(self._type_names(ctx))}
        class_set.update(limits)
        return class_set

    def show(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:quota_classes')
        return router.Response(
            {'quota_class_set': dict(self._class_set(ctx, id), id=id)})

    def update(self, req, ctx, id, body):
        self.policy.authorize(ctx, 'volume_extension:quota_classes')
        schemas.validate(schemas.QUOTA_CLASS_UPDATE, body)
        limits = self._check_keys(ctx, body['quota_class_set'],
                                  'quota class set')
        for key, limit in limits.items():
            self.api.quota.class_update(ctx, id, key, limit)
        return router.Response(
            {'quota_class_set': self._class_set(ctx, id)})


class LimitsController(_Quotas):
    """``/limits``: the caller's absolute limits; no rate limits."""

    def index(self, req, ctx):
        self.policy.authorize(ctx, 'limits_extension:used_limits')
        summary = self.api.quota.summary(ctx, ctx.project_id, every=True)
        absolute = {name: summary[key]['limit']
                    for name, key in _MAX.items()}
        absolute.update({name: summary[key]['in_use']
                         for name, key in _USED.items()})
        return router.Response({'limits': {'rate': [],
                                           'absolute': absolute}})
