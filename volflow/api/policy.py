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
    _rule('volume_extension:quotas:show', ADMIN_OR_OWNER,
          "Show a project's quotas.", 'GET', _QUOTAS),
    _rule('volume_extension:quotas:update', ADMIN_API,
          "Update a project's quotas.", 'PUT', _QUOTAS),
    _rule('volume_extension:quotas:defaults', ADMIN_OR_OWNER,
          'Show the default quotas.', 'GET', _QUOTAS + '/defaults'),
    _rule('volume_extension:availability_zone_list', ADMIN_OR_OWNER,
          'List availability zones.', 'GET', '/os-availability-zone'),
    _rule('scheduler_extension:scheduler_stats:get_pools', ADMIN_API,
          'List the backend pools.', 'GET', '/scheduler-stats/get_pools'),
    _rule('volume_extension:services:index', ADMIN_API,
          'List the services and whether each is up.', 'GET',
          '/os-services'),
]


def list_rules():
    """Every rule, for oslo.policy's generators."""
    return _BASE + _RULES


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
