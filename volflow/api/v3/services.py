"""``os-services`` (admin): the services and whether each is up.

Cinder's body: ``{"services": [{"binary", "host", "zone", "status",
"state", "updated_at", "disabled_reason"}]}``, filtered by the ``binary``
and ``host`` query parameters; what :mod:`volflow.scheduler.servicegroup`
reads from the ``services`` table, as ``volflow service-list`` shows it.
"""

from volflow.api import router
from volflow.scheduler import servicegroup


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
