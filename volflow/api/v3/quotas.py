"""``/v3/{project_id}/os-quota-sets/{target}``: show, update, defaults.

Show gives the limits (``?usage=True``: ``limit``, ``in_use``,
``reserved``, ``allocated`` per resource), update (admin) sets limits
for ``volumes``, ``gigabytes``, ``snapshots`` and their per-type copies
(``volumes_<type>``...). An update is checked whole before anything is
set: a refused one changes nothing.
"""

from volflow.api import router
from volflow.api import schemas
from volflow.api.v3 import volumes
from volflow import exception
from volflow import quota

RESOURCES = ('volumes', 'gigabytes', 'snapshots')


class QuotaController:

    def __init__(self, volume_api, policy, conf):
        self.api = volume_api
        self.policy = policy
        self.conf = conf

    def _quota_set(self, ctx, target, usage):
        summary = self.api.quota.summary(ctx, target)
        quota_set = {'id': target}
        for name, values in summary.items():
            if usage:
                quota_set[name] = {'limit': values['limit'],
                                   'in_use': values['in_use'],
                                   'reserved': values['reserved'],
                                   'allocated': 0}
            else:
                quota_set[name] = values['limit']
        limit = self.conf.per_volume_size_limit
        quota_set['per_volume_gigabytes'] = (
            {'limit': limit, 'in_use': 0, 'reserved': 0, 'allocated': 0}
            if usage else limit)
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
        quota_set = {'id': id}
        for name in RESOURCES:
            quota_set[name] = self.api.quota.default_limit(name)
        quota_set['per_volume_gigabytes'] = self.conf.per_volume_size_limit
        return router.Response({'quota_set': quota_set})

    def _resource(self, ctx, key):
        kind, _sep, type_name = key.partition('_')
        if kind in RESOURCES and (not type_name or self._type_exists(
                ctx, type_name)):
            return key
        raise exception.InvalidInput(
            reason=f"Bad key(s) in quota set: '{key}' is none of "
                   f"{', '.join(RESOURCES)} nor one of them followed by "
                   f"_ and an existing volume type")

    def _type_exists(self, ctx, name):
        try:
            self.api.db.volume_type_get_by_name(ctx, name)
        except exception.VolumeTypeNotFound:
            return False
        return True

    def update(self, req, ctx, id, body):
        self.policy.authorize(ctx, 'volume_extension:quotas:update',
                              {'project_id': id})
        schemas.validate(schemas.QUOTA_UPDATE, body)
        limits = {}
        for key, value in body['quota_set'].items():
            limit = int(value)
            quota.check_limit(self._resource(ctx, key), limit)
            limits[key] = limit
        self.api.quota.check_usage(ctx, id, limits)
        for key, limit in limits.items():
            self.api.quota.update(ctx, id, key, limit)
        return router.Response(
            {'quota_set': self._quota_set(ctx, id, usage=False)})
