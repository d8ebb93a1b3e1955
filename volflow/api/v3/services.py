"""``os-services`` (admin): the services, whether each is up, and
enabling or disabling one.

Cinder's body: ``{"services": [{"binary", "host", "zone", "status",
"state", "updated_at", "disabled_reason"}]}``, filtered by the ``binary``
and ``host`` query parameters; what :mod:`volflow.scheduler.servicegroup`
reads from the ``services`` table, as ``volflow service-list`` shows it.

``PUT os-services/{action}`` with ``{"host", "binary"}``: ``enable``,
``disable`` and ``disable-log-reason`` (with ``disabled_reason``) change
the record of that host and binary, which the scheduler honours: no
volume goes to a backend whose volume services are all disabled.
``freeze`` and ``thaw`` (``{"host"}``) answer 200 for a host with a volume
service and 400 for any other, as Cinder's; volflow has no replication,
so there is nothing to freeze and no frozen state is kept.
"""

from oslo_log import log as logging

from volflow.api import router
from volflow.api import schemas
from volflow import context as volflow_context
from volflow import exception
from volflow.scheduler import servicegroup

LOG = logging.getLogger(__name__)

_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 255}

#: ``enable`` and ``disable``: ``binary`` (or Cinder's older ``service``).
ENABLE_DISABLE = {
    'type': 'object',
    'properties': {'host': _NAME, 'binary': _NAME, 'service': _NAME},
    'required': ['host'],
    'anyOf': [{'required': ['binary']}, {'required': ['service']}],
}

DISABLE_LOG_REASON = {
    'type': 'object',
    'properties': {'host': _NAME, 'binary': _NAME, 'service': _NAME,
                   'disabled_reason': _NAME},
    'required': ['host', 'disabled_reason'],
    'anyOf': [{'required': ['binary']}, {'required': ['service']}],
}

FREEZE_THAW = {
    'type': 'object',
    'properties': {'host': _NAME},
    'required': ['host'],
}


class ServiceController:

    def __init__(self, volume_api, policy, conf):
        self.db = volume_api.db
        self.policy = policy
        self.conf = conf

    def index(self, req, ctx):
        self.policy.authorize(ctx, 'volume_extension:services:index')
        filters = {key: req.GET[key] for key in ('binary', 'host')
                   if req.GET.get(key)}
        return router.Response({'services': servicegroup.service_views(
            self.db, self.conf, filters)})

    def update(self, req, ctx, id, body):
        """``PUT os-services/{id}``: ``id`` is the action."""
        self.policy.authorize(ctx, 'volume_extension:services:update')
        action = id
        if action in ('freeze', 'thaw'):
            return self._freeze_thaw(action, body)
        if action == 'enable':
            schemas.validate(ENABLE_DISABLE, body)
            values = {'disabled': False, 'disabled_reason': None}
        elif action == 'disable':
            schemas.validate(ENABLE_DISABLE, body)
            values = {'disabled': True}
        elif action == 'disable-log-reason':
            schemas.validate(DISABLE_LOG_REASON, body)
            values = {'disabled': True,
                      'disabled_reason': body['disabled_reason']}
        else:
            raise exception.NotFound(f"Unknown action '{action}': "
                                     f"enable, disable, disable-log-reason,"
                                     f" freeze or thaw")
        host = body['host']
        binary = body.get('binary') or body['service']
        admin = volflow_context.get_admin_context()
        try:
            service = self.db.service_get_by_host_and_binary(
                admin, host, binary)
        except exception.ServiceNotFound:
            raise exception.NotFound(
                f"Service {binary} on host {host} could not be "
                f"found.") from None
        self.db.service_update(admin, service['id'], values)
        LOG.info('Service %(binary)s on host %(host)s %(action)sd.',
                 {'binary': binary, 'host': host,
                  'action': 'enable' if action == 'enable' else 'disable'})
        result = {'host': host, 'service': binary, 'binary': binary,
                  'disabled': values['disabled'],
                  'status': 'disabled' if values['disabled'] else 'enabled'}
        if 'disabled_reason' in values:
            result['disabled_reason'] = values['disabled_reason']
        return router.Response(result)

    def _freeze_thaw(self, action, body):
        schemas.validate(FREEZE_THAW, body)
        host = body['host']
        if not servicegroup.service_views(
                self.db, self.conf,
                {'host': host, 'binary': servicegroup.VOLUME}):
            raise exception.InvalidInput(
                reason=f"no volume service found with host '{host}'")
        return router.Response(status=200)
