"""``os-hosts`` and ``capabilities/{host}`` (admin).

The hosts are the services a deployment of volflow runs: the scheduler
(``cinder-scheduler``, on this machine's host name) and one volume
service per configured backend (``cinder-volume``, ``HOST@BACKEND`` as
in Cinder). Showing a
volume host sums, per project, the volumes placed on its backend and
their snapshots. A backend's capabilities are what its driver reports.
"""

import socket

from volflow.api import router
from volflow import context as volflow_context
from volflow import exception
from volflow.volume import backends

#: Cinder's service names, as os-hosts shows them.
SCHEDULER = 'cinder-scheduler'
VOLUME = 'cinder-volume'


def _host(service_host, backend):
    return f"{service_host}@{backend['name']}"


def _property(title, description):
    return {'title': title, 'description': description, 'type': 'boolean'}


class HostController:

    def __init__(self, volume_api, policy, conf):
        self.db = volume_api.db
        self.policy = policy
        self.conf = conf
        self.service_host = socket.gethostname()

    def _hosts(self):
        """``[(host name, service, zone, backend or None)]``."""
        hosts = [(self.service_host, SCHEDULER,
                  self.conf.storage_availability_zone, None)]
        for backend in backends.get_backends(self.conf):
            hosts.append((_host(self.service_host, backend), VOLUME,
                          backend['availability_zone'], backend))
        return hosts

    def index(self, req, ctx):
        self.policy.authorize(ctx, 'volume_extension:hosts')
        zone = req.GET.get('zone')
        return router.Response({'hosts': [
            {'host_name': name, 'service': service, 'zone': az,
             'service-status': 'available', 'service-state': 'enabled',
             'last-update': None}
            for name, service, az, _backend in self._hosts()
            if zone is None or az == zone]})

    def show(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:hosts')
        backend = next((b for name, service, _az, b in self._hosts()
                        if name == id and service == VOLUME), None)
        if backend is None:
            raise exception.NotFound(f'Host {id} could not be found.')
        admin = volflow_context.get_admin_context()
        volumes = [v for v in self.db.volume_get_all(admin)
                   if backends.backend_of_host(v['host']) == backend['name']]
        snapshots = self.db.snapshot_get_all(admin)
        projects = {}
        for volume in volumes:
            usage = projects.setdefault(volume['project_id'], [0, 0, 0, 0])
            usage[0] += 1
            usage[1] += volume['size'] or 0
            for snapshot in snapshots:
                if snapshot['volume_id'] == volume['id']:
                    usage[2] += 1
                    usage[3] += snapshot['volume_size'] or 0
        rows = [('(total)', [sum(u[i] for u in projects.values())
                             for i in range(4)])]
        rows += sorted(projects.items())
        return router.Response({'host': [
            {'resource': {'host': id, 'project': project,
                          'volume_count': str(usage[0]),
                          'total_volume_gb': str(usage[1]),
                          'snapshot_count': str(usage[2]),
                          'total_snapshot_gb': str(usage[3])}}
            for project, usage in rows]})


class CapabilityController:

    def __init__(self, volume_api, policy, conf):
        self.policy = policy
        self.conf = conf

    def show(self, req, ctx, id):
        self.policy.authorize(ctx, 'volume_extension:capabilities')
        name = backends.backend_of_host(id)
        try:
            backend = backends.get_backend(name, self.conf)
        except exception.BackendNotFound:
            raise exception.NotFound(
                f'Host {id} could not be found.') from None
        stats = backends.driver_stats(backend)
        properties = {}
        if stats.get('thin_provisioning_support'):
            properties['thin_provisioning'] = _property(
                'Thin Provisioning', 'Sets thin provisioning.')
        return router.Response({
            'namespace': f'OS::Storage::Capabilities::{id}',
            'vendor_name': stats['vendor_name'],
            'volume_backend_name': stats['volume_backend_name'],
            'pool_name': None,
            'driver_version': stats['driver_version'],
            'storage_protocol': stats['storage_protocol'],
            'display_name': None,
            'description': None,
            'visibility': None,
            'replication_targets': [],
            'properties': properties,
        })
