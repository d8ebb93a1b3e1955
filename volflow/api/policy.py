"""Policy, through oslo.policy, with Cinder's rule names and defaults.

Volumes, snapshots and quotas are admin-or-owner; managing volume types,
updating quotas, listing pools and seeing a volume's host are admin only.
``oslopolicy-sample-generator --namespace volflow`` writes every rule
(entry point ``oslo.policy.policies``: :func:`list_rules`); an operator
overrides them in ``[oslo_policy] policy_file``.
"""

from oslo_policy import policy

from volflow.api import faults

ADMIN_OR_OWNER = 'rule:admin_or_owner'
ADMIN_API = 'rule:admin_api'

_BASE = [
    policy.RuleDefault('context_is_admin', 'role:admin or is_admin:True',
                       description='Decides what an admin is.'),
    policy.RuleDefault('admin_or_owner',
                       'rule:context_is_admin or '
                       'project_id:%(project_id)s',
                       description='An admin, or a member of the project '
                                   'owning the resource.'),
    policy.RuleDefault('admin_api', 'rule:context_is_admin',
                       description='Admins only.'),
]


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name, check, description, [{'method': method, 'path': path}])


_VOLUMES = '/volumes'
_SNAPSHOTS = '/snapshots'
_TYPES = '/types'
_QUOTAS = '/os-quota-sets/{project_id}'
_QOS = '/qos-specs'

_RULES = [
    _rule('volume:create', ADMIN_OR_OWNER, 'Create a volume.', 'POST',
          _VOLUMES),
    _rule('volume:get', ADMIN_OR_OWNER, 'Show a volume.', 'GET',
          _VOLUMES + '/{volume_id}'),
    _rule('volume:get_all', ADMIN_OR_OWNER, 'List volumes.', 'GET',
          _VOLUMES),
    _rule('volume:delete', ADMIN_OR_OWNER, 'Delete a volume.', 'DELETE',
          _VOLUMES + '/{volume_id}'),
    _rule('volume:force_delete', ADMIN_API,
          'Delete a volume whatever its status.', 'DELETE',
          _VOLUMES + '/{volume_id}?force=true'),
    _rule('volume_extension:volume_host_attribute', ADMIN_API,
          'See os-vol-host-attr:host in volume views.', 'GET',
          _VOLUMES + '/{volume_id}'),
    _rule('volume_extension:volume_tenant_attribute', ADMIN_OR_OWNER,
          'See os-vol-tenant-attr:tenant_id in volume views.', 'GET',
          _VOLUMES + '/{volume_id}'),
    _rule('volume:create_snapshot', ADMIN_OR_OWNER, 'Create a snapshot.',
          'POST', _SNAPSHOTS),
    _rule('volume:get_snapshot', ADMIN_OR_OWNER, 'Show a snapshot.',
          'GET', _SNAPSHOTS + '/{snapshot_id}'),
    _rule('volume:get_all_snapshots', ADMIN_OR_OWNER, 'List snapshots.',
          'GET', _SNAPSHOTS),
    _rule('volume_extension:type_get', ADMIN_OR_OWNER,
          'Show a volume type.', 'GET', _TYPES + '/{type_id}'),
    _rule('volume_extension:type_get_all', ADMIN_OR_OWNER,
          'List volume types.', 'GET', _TYPES),
    _rule('volume_extension:types_manage', ADMIN_API,
          'Create a volume type.', 'POST', _TYPES),
    _rule('volume_extension:type_update', ADMIN_API,
          'Update a volume type.', 'PUT', _TYPES + '/{type_id}'),
    _rule('volume_extension:type_delete', ADMIN_API,
          'Delete a volume type.', 'DELETE', _TYPES + '/{type_id}'),
    _rule('volume_extension:access_types_extra_specs', ADMIN_API,
          'See every extra spec of a volume type (others see the '
          'user-visible ones).', 'GET', _TYPES + '/{type_id}'),
    _rule('volume_extension:access_types_qos_specs_id', ADMIN_API,
          'See the qos_specs_id of a volume type.', 'GET',
          _TYPES + '/{type_id}'),
    _rule('volume_extension:types_extra_specs:index', ADMIN_OR_OWNER,
          "List a volume type's extra specs.", 'GET',
          _TYPES + '/{type_id}/extra_specs'),
    _rule('volume_extension:types_extra_specs:show', ADMIN_OR_OWNER,
          "Show one of a volume type's extra specs.", 'GET',
          _TYPES + '/{type_id}/extra_specs/{key}'),
    _rule('volume_extension:types_extra_specs:create', ADMIN_API,
          "Add or replace a volume type's extra specs.", 'POST',
          _TYPES + '/{type_id}/extra_specs'),
    _rule('volume_extension:types_extra_specs:update', ADMIN_API,
          "Replace one of a volume type's extra specs.", 'PUT',
          _TYPES + '/{type_id}/extra_specs/{key}'),
    _rule('volume_extension:types_extra_specs:delete', ADMIN_API,
          "Delete one of a volume type's extra specs.", 'DELETE',
          _TYPES + '/{type_id}/extra_specs/{key}'),
    _rule('volume_extension:volume_type_access:get_all_for_type', ADMIN_API,
          'List the projects that have access to a private volume type.',
          'GET', _TYPES + '/{type_id}/os-volume-type-access'),
    _rule('volume_extension:volume_type_access:addProjectAccess', ADMIN_API,
          'Give a project access to a private volume type.', 'POST',
          _TYPES + '/{type_id}/action (addProjectAccess)'),
    _rule('volume_extension:volume_type_access:removeProjectAccess',
          ADMIN_API, 'Take away the access of a project to a private '
                     'volume type.', 'POST',
          _TYPES + '/{type_id}/action (removeProjectAccess)'),
    _rule('volume_extension:volume_type_encryption:get', ADMIN_API,
          "Show a volume type's encryption.", 'GET',
          _TYPES + '/{type_id}/encryption'),
    _rule('volume_extension:volume_type_encryption:create', ADMIN_API,
          "Create a volume type's encryption.", 'POST',
          _TYPES + '/{type_id}/encryption'),
    _rule('volume_extension:volume_type_encryption:update', ADMIN_API,
          "Update a volume type's encryption.", 'PUT',
          _TYPES + '/{type_id}/encryption/{encryption_id}'),
    _rule('volume_extension:volume_type_encryption:delete', ADMIN_API,
          "Delete a volume type's encryption.", 'DELETE',
          _TYPES + '/{type_id}/encryption/{encryption_id}'),
    _rule('volume_extension:qos_specs_manage:get_all', ADMIN_API,
          'List QoS specs.', 'GET', _QOS),
    _rule('volume_extension:qos_specs_manage:get', ADMIN_API,
          'Show QoS specs and their associations.', 'GET',
          _QOS + '/{qos_id}'),
    _rule('volume_extension:qos_specs_manage:create', ADMIN_API,
          'Create QoS specs.', 'POST', _QOS),
    _rule('volume_extension:qos_specs_manage:update', ADMIN_API,
          'Set or unset QoS spec keys, associate or disassociate types.',
          'PUT', _QOS + '/{qos_id}'),
    _rule('volume_extension:qos_specs_manage:delete', ADMIN_API,
          'Delete QoS specs.', 'DELETE', _QOS + '/{qos_id}'),
    _rule('message:get_all', ADMIN_OR_OWNER, 'List user messages.', 'GET',
          '/messages'),
    _rule('message:get', ADMIN_OR_OWNER, 'Show a user message.', 'GET',
          '/messages/{message_id}'),
    _rule('message:delete', ADMIN_OR_OWNER, 'Delete a user message.',
          'DELETE', '/messages/{message_id}'),
    _rule('volume_extension:hosts', ADMIN_API, 'List or show volume hosts.',
          'GET', '/os-hosts'),
    _rule('volume_extension:capabilities', ADMIN_API,
          "Show a backend's capabilities.", 'GET', '/capabilities/{host}'),
    _rule('volume_extension:quotas:show', ADMIN_OR_OWNER,
          "Show a project's quotas.", 'GET', _QUOTAS),
    _rule('volume_extension:quotas:update', ADMIN_API,
          "Update a project's quotas.", 'PUT', _QUOTAS),
    _rule('volume_extension:quotas:defaults', ADMIN_OR_OWNER,
          'Show the default quotas.', 'GET', _QUOTAS + '/defaults'),
    _rule('volume_extension:quotas:delete', ADMIN_API,
          "Reset a project's quotas to the defaults.", 'DELETE', _QUOTAS),
    _rule('volume_extension:quota_classes', ADMIN_API,
          'Show or update a quota class.', 'GET',
          '/os-quota-class-sets/{class_name}'),
    _rule('limits_extension:used_limits', ADMIN_OR_OWNER,
          "Show the project's absolute limits and usage.", 'GET',
          '/limits'),
    _rule('volume_extension:availability_zone_list', ADMIN_OR_OWNER,
          'List availability zones.', 'GET', '/os-availability-zone'),
    _rule('scheduler_extension:scheduler_stats:get_pools', ADMIN_API,
          'List the backend pools.', 'GET', '/scheduler-stats/get_pools'),
    _rule('volume_extension:services:index', ADMIN_API,
          'List the services and whether each is up.', 'GET',
          '/os-services'),
    _rule('volume_extension:services:update', ADMIN_API,
          'Enable, disable, freeze or thaw a service.', 'PUT',
          '/os-services/{action}'),
]


_ACTION = _VOLUMES + '/{volume_id}/action'
_VOLUME_METADATA = _VOLUMES + '/{volume_id}/metadata'
_SNAPSHOT_ACTION = _SNAPSHOTS + '/{snapshot_id}/action'
_SNAPSHOT_METADATA = _SNAPSHOTS + '/{snapshot_id}/metadata'

#: Changes to existing volumes and snapshots (Cinder's names).
_CHANGE_RULES = [
    _rule('volume:update', ADMIN_OR_OWNER,
          'Change a volume (name, description, metadata).', 'PUT',
          _VOLUMES + '/{volume_id}'),
    _rule('volume:get_volume_summary', ADMIN_OR_OWNER,
          'Count and add up the volumes.', 'GET', _VOLUMES + '/summary'),
    _rule('volume:get_volume_metadata', ADMIN_OR_OWNER,
          "Show a volume's metadata.", 'GET', _VOLUME_METADATA),
    _rule('volume:create_volume_metadata', ADMIN_OR_OWNER,
          "Add to a volume's metadata.", 'POST', _VOLUME_METADATA),
    _rule('volume:update_volume_metadata', ADMIN_OR_OWNER,
          "Replace a volume's metadata or one key of it.", 'PUT',
          _VOLUME_METADATA),
    _rule('volume:delete_volume_metadata', ADMIN_OR_OWNER,
          "Delete a key of a volume's metadata.", 'DELETE',
          _VOLUME_METADATA + '/{key}'),
    _rule('volume:extend', ADMIN_OR_OWNER, 'Extend a volume (os-extend).',
          'POST', _ACTION),
    _rule('volume:retype', ADMIN_OR_OWNER,
          'Change the type of a volume (os-retype).', 'POST', _ACTION),
    _rule('volume:update_readonly_flag', ADMIN_OR_OWNER,
          "Set a volume's read-only flag (os-update_readonly_flag).",
          'POST', _ACTION),
    _rule('volume_extension:volume_actions:set_bootable', ADMIN_OR_OWNER,
          "Set a volume's bootable flag (os-set_bootable).", 'POST',
          _ACTION),
    _rule('volume_extension:volume_image_metadata:set', ADMIN_OR_OWNER,
          "Set image properties of a volume (os-set_image_metadata).",
          'POST', _ACTION),
    _rule('volume_extension:volume_image_metadata:remove', ADMIN_OR_OWNER,
          "Remove an image property of a volume "
          "(os-unset_image_metadata).", 'POST', _ACTION),
    _rule('volume_extension:volume_image_metadata:show', ADMIN_OR_OWNER,
          "Show the image properties of a volume "
          "(os-show_image_metadata).", 'POST', _ACTION),
    _rule('volume_extension:volume_actions:reserve', ADMIN_OR_OWNER,
          'Reserve a volume for an attachment (os-reserve).', 'POST',
          _ACTION),
    _rule('volume_extension:volume_actions:unreserve', ADMIN_OR_OWNER,
          'Cancel a reservation (os-unreserve).', 'POST', _ACTION),
    _rule('volume_extension:volume_admin_actions:reset_status', ADMIN_API,
          "Reset a volume's statuses (os-reset_status).", 'POST', _ACTION),
    _rule('volume_extension:volume_admin_actions:force_delete', ADMIN_API,
          'Delete a volume whatever its status (os-force_delete).', 'POST',
          _ACTION),
    _rule('volume:update_snapshot', ADMIN_OR_OWNER,
          'Change a snapshot (name, description).', 'PUT',
          _SNAPSHOTS + '/{snapshot_id}'),
    _rule('volume:delete_snapshot', ADMIN_OR_OWNER, 'Delete a snapshot.',
          'DELETE', _SNAPSHOTS + '/{snapshot_id}'),
    _rule('volume:get_snapshot_metadata', ADMIN_OR_OWNER,
          "Show a snapshot's metadata.", 'GET', _SNAPSHOT_METADATA),
    _rule('volume:update_snapshot_metadata', ADMIN_OR_OWNER,
          "Add to, replace or change a snapshot's metadata.", 'PUT',
          _SNAPSHOT_METADATA),
    _rule('volume:delete_snapshot_metadata', ADMIN_OR_OWNER,
          "Delete a key of a snapshot's metadata.", 'DELETE',
          _SNAPSHOT_METADATA + '/{key}'),
    _rule('volume_extension:snapshot_admin_actions:reset_status', ADMIN_API,
          "Reset a snapshot's status (os-reset_status).", 'POST',
          _SNAPSHOT_ACTION),
    _rule('volume_extension:snapshot_admin_actions:force_delete', ADMIN_API,
          'Delete a snapshot whatever its status (os-force_delete).',
          'POST', _SNAPSHOT_ACTION),
    _rule('snapshot_extension:snapshot_actions:update_snapshot_status',
          ADMIN_OR_OWNER,
          "Report a snapshot's progress (os-update_snapshot_status).",
          'POST', _SNAPSHOT_ACTION),
]


def list_rules():
    """Every rule, for oslo.policy's generators."""
    return _BASE + _RULES + _CHANGE_RULES


def credentials(context):
    """What the rules check: oslo.context's values plus ``is_admin``."""
    values = context.to_policy_values()
    creds = {key: values[key] for key in ('user_id', 'project_id', 'roles',
                                          'domain_id', 'system_scope')
             if key in values}
    creds['is_admin'] = bool(context.is_admin)
    return creds


class Policy:
    """One enforcer per application: nothing shared between apps."""

    def __init__(self, conf):
        self.enforcer = policy.Enforcer(conf)
        self.enforcer.register_defaults(list_rules())

    def check(self, context, action, target=None):
        """True if allowed; never raises."""
        target = target if target is not None else {
            'project_id': context.project_id}
        return self.enforcer.authorize(action, target,
                                       credentials(context))

    def authorize(self, context, action, target=None):
        """Raise 403 with Cinder's message unless ``action`` is allowed."""
        if not self.check(context, action, target):
            raise faults.HTTPError(
                403, f"Policy doesn't allow {action} to be performed.")
