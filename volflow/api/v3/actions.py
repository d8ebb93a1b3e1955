"""``POST .../volumes/{id}/action`` and ``.../snapshots/{id}/action``.

The body names one action, as in Cinder: ``{"os-extend": {"new_size":
N}}``. Volumes: ``os-extend``, ``os-reset_status`` and ``os-force_delete``
(admins), ``os-set_bootable`` (200), ``os-update_readonly_flag``,
``os-retype`` (within the volume's backend), ``os-reserve``,
``os-unreserve``, and the image metadata's ``os-set_image_metadata``,
``os-unset_image_metadata``, ``os-show_image_metadata`` (200).
Snapshots: ``os-reset_status`` and ``os-force_delete`` (admins),
``os-update_snapshot_status``. Each answers 202 with no body,
as Cinder does, unless said otherwise.
"""

from volflow.api import router
from volflow.api.v3 import _change_schemas


class VolumeActionController:

    def __init__(self, volume_api, policy, conf):
        self.api = volume_api
        self.policy = policy
        self.conf = conf

    def action(self, req, ctx, id, body):
        # The volume first: an action on a volume that does not exist is
        # 404, whatever the action (as Cinder answers os-detach).
        volume = self.api.get(ctx, id)
        name, value = _change_schemas.action_of(
            body, _change_schemas.VOLUME_ACTIONS)
        rule, handler = self._ACTIONS[name]
        self.policy.authorize(ctx, rule,
                              {'project_id': volume['project_id']})
        return handler(self, ctx, id, value)

    def _extend(self, ctx, id, value):
        self.api.extend(ctx, id, int(value['new_size']))
        return router.Response(status=202)

    def _reset_status(self, ctx, id, value):
        self.api.reset_status(ctx, id, status=value.get('status'),
                              attach_status=value.get('attach_status'),
                              migration_status=value.get('migration_status'))
        return router.Response(status=202)

    def _set_bootable(self, ctx, id, value):
        self.api.set_bootable(ctx, id, value['bootable'])
        return router.Response(status=200)

    def _readonly(self, ctx, id, value):
        self.api.update_readonly_flag(ctx, id, value['readonly'])
        return router.Response(status=202)

    def _retype(self, ctx, id, value):
        self.api.retype(ctx, id, value['new_type'],
                        value.get('migration_policy'))
        return router.Response(status=202)

    def _force_delete(self, ctx, id, value):
        self.api.delete(ctx, id, force=True)
        return router.Response(status=202)

    def _set_image_metadata(self, ctx, id, value):
        metadata = self.api.update_volume_image_metadata(
            ctx, id, value['metadata'])
        return router.Response({'metadata': metadata})

    def _unset_image_metadata(self, ctx, id, value):
        self.api.delete_volume_image_metadata(ctx, id, value['key'])
        return router.Response(status=200)

    def _show_image_metadata(self, ctx, id, value):
        return router.Response(
            {'metadata': self.api.get_volume_image_metadata(ctx, id)})

    def _reserve(self, ctx, id, value):
        self.api.reserve(ctx, id)
        return router.Response(status=202)

    def _unreserve(self, ctx, id, value):
        self.api.unreserve(ctx, id)
        return router.Response(status=202)

    _ACTIONS = {
        'os-extend': ('volume:extend', _extend),
        'os-reset_status': (
            'volume_extension:volume_admin_actions:reset_status',
            _reset_status),
        'os-set_bootable': ('volume_extension:volume_actions:set_bootable',
                            _set_bootable),
        'os-update_readonly_flag': ('volume:update_readonly_flag',
                                    _readonly),
        'os-retype': ('volume:retype', _retype),
        'os-force_delete': (
            'volume_extension:volume_admin_actions:force_delete',
            _force_delete),
        'os-set_image_metadata': (
            'volume_extension:volume_image_metadata:set',
            _set_image_metadata),
        'os-unset_image_metadata': (
            'volume_extension:volume_image_metadata:remove',
            _unset_image_metadata),
        'os-show_image_metadata': (
            'volume_extension:volume_image_metadata:show',
            _show_image_metadata),
        'os-reserve': ('volume_extension:volume_actions:reserve', _reserve),
        'os-unreserve': ('volume_extension:volume_actions:unreserve',
                         _unreserve),
    }


class SnapshotActionController:

    def __init__(self, volume_api, policy, conf):
        self.api = volume_api
        self.policy = policy
        self.conf = conf

    def action(self, req, ctx, id, body):
        snapshot = self.api.get_snapshot(ctx, id)
        name, value = _change_schemas.action_of(
            body, _change_schemas.SNAPSHOT_ACTIONS)
        rule, handler = self._ACTIONS[name]
        self.policy.authorize(ctx, rule,
                              {'project_id': snapshot['project_id']})
        handler(self, ctx, id, value)
        return router.Response(status=202)

    def _reset_status(self, ctx, id, value):
        self.api.reset_snapshot_status(ctx, id, value['status'])

    def _update_status(self, ctx, id, value):
        self.api.update_snapshot_status(ctx, id, value['status'],
                                        value.get('progress'))

    def _force_delete(self, ctx, id, value):
        self.api.delete_snapshot(ctx, id, force=True)

    _ACTIONS = {
        'os-reset_status': (
            'volume_extension:snapshot_admin_actions:reset_status',
            _reset_status),
        'os-update_snapshot_status': (
            'snapshot_extension:snapshot_actions:update_snapshot_status',
            _update_status),
        'os-force_delete': (
            'volume_extension:snapshot_admin_actions:force_delete',
            _force_delete),
    }
