"""``os-availability-zone`` and ``scheduler-stats/get_pools`` (admin)."""

from volflow.api import router
from volflow.api.v3 import volumes
from volflow import context as volflow_context
from volflow.volume import backends


class ZoneController:

    def __init__(self, volume_api, policy, conf):
        self.policy = policy
        self.conf = conf

    def index(self, req, ctx):
        self.policy.authorize(ctx, 'volume_extension:availability_zone_list')
        return router.Response({'availabilityZoneInfo': [
            {'zoneName': zone, 'zoneState': {'available': True}}
            for zone in sorted(backends.availability_zones(self.conf))]})


class PoolController:

    def __init__(self, volume_api, policy, conf):
        self.db = volume_api.db
        self.policy = policy
        self.conf = conf

    def index(self, req, ctx):
        self.policy.authorize(
            ctx, 'scheduler_extension:scheduler_stats:get_pools')
        detail = volumes.is_true(req.GET.get('detail', ''))
        allocated = backends.allocated_by_backend(
            self.db, volflow_context.get_admin_context())
        pools = []
        for backend in backends.get_backends(self.conf):
            pool = {'name': backends.pool_name(backend)}
            if detail:
                used = allocated.get(backend['name'], 0)
                stats = backends.driver_stats(backend)
                pool['capabilities'] = {
                    'volume_backend_name': backend['volume_backend_name'],
                    'availability_zone': backend['availability_zone'],
                    'total_capacity_gb': backend['total_capacity_gb'],
                    'free_capacity_gb': round(
                        backends.free_capacity_gb(backend, used), 2),
                    'allocated_capacity_gb': used,
                    'storage_protocol': stats['storage_protocol'],
                    'vendor_name': stats['vendor_name'],
                    'driver_version': stats['driver_version'],
                }
            pools.append(pool)
        return router.Response({'pools': pools})
