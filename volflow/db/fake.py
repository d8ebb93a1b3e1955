"""In-memory database for tests and embedding.

One lock guards everything, which makes every method atomic (in particular
:meth:`FakeAPI.quota_reserve`: two threads can never both take the last
unit). Records are copied on the way in and out, so callers can never
change stored state behind the lock's back.
"""

import copy
import threading

from oslo_utils import timeutils
from oslo_utils import uuidutils

from volflow.db import _fake_types
from volflow.db import api
from volflow.db import quota_sync
from volflow.db import rules
from volflow import exception


_locked = _fake_types.locked


def _visible(context, record):
    return context.is_admin or record.get('project_id') == context.project_id


class FakeAPI(_fake_types.TypesMixin, api.API):
    """The whole database in a few dicts."""

    def __init__(self):
        self._lock = threading.RLock()
        self._volumes = {}
        self._snapshots = {}
        self._images = {}
        self._init_types()
        self._quotas = {}
        self._usages = {}
        self._reservations = {}
        self._committed = {}  # reservation id -> when it was committed
        self._claims = {}  # flow uuid -> claim
        self._services = {}  # id -> service

    # Volumes -------------------------------------------------------------
    def _with_type(self, volume):
        vtype = self._types.get(volume.get('volume_type_id'))
        return dict(volume, volume_type=vtype['name'] if vtype else None)

    @staticmethod
    def _insert(kind, table, record):
        """Add ``record`` to ``table`` (a dict by id); the record."""
        if record['id'] in table:
            raise rules.already_exists(kind, record['id'])
        table[record['id']] = record
        return record

    def _volume(self, context, volume_id):
        volume = self._volumes.get(volume_id)
        if volume is None or not _visible(context, volume):
            raise exception.VolumeNotFound(volume_id=volume_id)
        return volume

    @api.volume_write
    @_locked
    def volume_create(self, context, values):
        volume = rules.new_volume(values, timeutils.utcnow())
        return self._with_type(self._insert('volume', self._volumes, volume))

    @_locked
    def volume_get(self, context, volume_id):
        return self._with_type(self._volume(context, volume_id))

    @_locked
    def volume_get_all(self, context, filters=None):
        filters = filters or {}
        volumes = [self._with_type(v) for v in self._volumes.values()
                   if _visible(context, v)]
        return [v for v in volumes
                if all(v.get(k) == f for k, f in filters.items())]

    @api.volume_write
    @_locked
    def volume_update(self, context, volume_id, values, expected=None):
        volume = self._volume(context, volume_id)
        rules.check_expected('volume', volume_id, volume, expected)
        volume.update(copy.deepcopy(values))
        volume.pop('volume_type', None)
        volume['updated_at'] = timeutils.utcnow()
        return self._with_type(volume)

    @api.volume_write
    @_locked
    def volume_destroy(self, context, volume_id):
        self._volume(context, volume_id)
        del self._volumes[volume_id]

    @_locked
    def volume_allocated_by_host(self, context):
        allocated = {}
        for volume in self._volumes.values():
            if volume['host']:
                allocated[volume['host']] = (
                    allocated.get(volume['host'], 0) + volume['size'])
        return allocated

    @api.volume_write
    @_locked
    def volume_claim_capacity(self, context, volume_id, backend,
                              capacity_gb, values=None):
        volume = self._volume(context, volume_id)
        rules.check_expected('volume', volume_id, volume,
                             {'status': 'creating'})
        if rules.backend_of_host(volume['host']) != backend:
            allocated = sum(
                other['size'] for other in self._volumes.values()
                if other['id'] != volume_id and
                rules.backend_of_host(other['host']) == backend)
            rules.claim_fits(volume, backend, capacity_gb, allocated)
            volume.update(copy.deepcopy(values or {}), host=backend)
            volume['updated_at'] = timeutils.utcnow()
        return self._with_type(volume)

    # Snapshots -----------------------------------------------------------
    def _snapshot(self, context, snapshot_id):
        snapshot = self._snapshots.get(snapshot_id)
        if snapshot is None or not _visible(context, snapshot):
            raise exception.SnapshotNotFound(snapshot_id=snapshot_id)
        return snapshot

    @_locked
    def snapshot_create(self, context, values):
        return self._insert('snapshot', self._snapshots, rules.new_record(
            'snapshot', api.SNAPSHOT_FIELDS, values, status='creating',
            created_at=timeutils.utcnow()))

    @_locked
    def snapshot_get(self, context, snapshot_id):
        return self._snapshot(context, snapshot_id)

    @_locked
    def snapshot_get_all(self, context, volume_id=None):
        return [s for s in self._snapshots.values()
                if _visible(context, s) and
                (volume_id is None or s['volume_id'] == volume_id)]

    @_locked
    def snapshot_update(self, context, snapshot_id, values):
        snapshot = self._snapshot(context, snapshot_id)
        snapshot.update(copy.deepcopy(values))
        return snapshot

    @_locked
    def snapshot_destroy(self, context, snapshot_id):
        self._snapshot(context, snapshot_id)
        del self._snapshots[snapshot_id]

    # Images --------------------------------------------------------------
    @_locked
    def image_create(self, context, values):
        return self._insert('image', self._images, rules.new_record(
            'image', api.IMAGE_FIELDS, values, status='active', min_disk=0,
            is_public=False, properties={}, location=None,
            created_at=timeutils.utcnow()))

    @_locked
    def image_get(self, context, image_id):
        return self._image(context, image_id)

    @_locked
    def image_get_all(self, context):
        return [i for i in self._images.values()
                if i['is_public'] or _visible(context, i)]

    def _image(self, context, image_id):
        image = self._images.get(image_id)
        if image is None or not (image['is_public'] or
                                 _visible(context, image)):
            raise exception.ImageNotFound(image_id=image_id)
        return image

    @_locked
    def image_update(self, context, image_id, values):
        image = self._image(context, image_id)
        image.update(copy.deepcopy(values))
        return image

    @_locked
    def image_destroy(self, context, image_id):
        self._image(context, image_id)
        del self._images[image_id]

    # Quotas --------------------------------------------------------------
    @_locked
    def quota_get_all(self, context, project_id):
        return {res: limit for (proj, res), limit in self._quotas.items()
                if proj == project_id}

    @_locked
    def quota_set(self, context, project_id, resource, limit):
        self._quotas[(project_id, resource)] = limit

    @_locked
    def quota_destroy_all(self, context, project_id):
        for key in [key for key in self._quotas if key[0] == project_id]:
            del self._quotas[key]

    @_locked
    def quota_usage_get_all(self, context, project_id):
        return {res: dict(usage) for (proj, res), usage
                in self._usages.items() if proj == project_id}

    def _count(self, project_id, resource):
        volumes = [v for v in self._volumes.values()
                   if v['project_id'] == project_id]
        snapshots = [s for s in self._snapshots.values()
                     if s['project_id'] == project_id]
        type_names = {t['id']: t['name'] for t in self._types.values()}
        return quota_sync.count(resource, volumes, snapshots, type_names)

    @_locked
    def quota_reserve(self, context, project_id, deltas, limits, expire,
                      key=None, defaults_from=None, size=None):
        limits = dict(limits)
        for owner in (defaults_from, project_id):
            limits.update({res: limit for (proj, res), limit
                           in self._quotas.items() if proj == owner})
        if size is not None:
            quota_sync.check_size(size, limits.get('per_volume_gigabytes',
                                                   -1))
        if key is not None:
            keyed = [rules.reservation_id(key, res) for res in deltas]
            if any(rid in self._reservations or rid in self._committed
                   for rid in keyed):
                return keyed  # made before: idempotent
        usages = {
            res: self._usages.get((project_id, res)) or {
                'in_use': self._count(project_id, res), 'reserved': 0}
            for res in deltas}
        quota_sync.check_over(deltas, limits, usages)
        for res, usage in usages.items():
            self._usages[(project_id, res)] = usage
        ids = []
        for resource, delta in deltas.items():
            if delta > 0:
                usages[resource]['reserved'] += delta
            rid = (uuidutils.generate_uuid() if key is None
                   else rules.reservation_id(key, resource))
            self._reservations[rid] = {
                'id': rid, 'project_id': project_id, 'resource': resource,
                'delta': delta, 'expire': expire}
            ids.append(rid)
        return ids

    def _finish(self, reservations, commit):
        """Finish the outstanding ones; return the others never committed."""
        lost = []
        for rid in reservations or ():
            res = self._reservations.pop(rid, None)
            if res is None:  # already finished: idempotent
                if rid not in self._committed:
                    lost.append(rid)
                continue
            usage = self._usages[(res['project_id'], res['resource'])]
            if res['delta'] > 0:
                usage['reserved'] = max(0, usage['reserved'] - res['delta'])
            if commit:
                usage['in_use'] = max(0, usage['in_use'] + res['delta'])
                self._committed[rid] = timeutils.utcnow()
        return lost

    @_locked
    def reservation_commit(self, context, reservations):
        return self._finish(reservations, commit=True)

    @_locked
    def reservation_rollback(self, context, reservations):
        self._finish(reservations, commit=False)

    @_locked
    def reservation_expire(self, context, now):
        expired = [rid for rid, res in self._reservations.items()
                   if res['expire'] <= now]
        self._finish(expired, commit=False)
        return len(expired)

    @_locked
    def reservation_get_all(self, context, project_id=None):
        return [r for r in self._reservations.values()
                if project_id is None or r['project_id'] == project_id]

    @_locked
    def reservations_committed(self, context, reservations):
        return [rid for rid in dict.fromkeys(reservations or ())
                if rid in self._committed]

    @_locked
    def reservation_purge_committed(self, context, before):
        old = [rid for rid, when in self._committed.items() if when < before]
        for rid in old:
            del self._committed[rid]
        return len(old)

    # Flow claims ---------------------------------------------------------
    @_locked
    def flow_claim(self, context, flow_uuid, owner, expire,
                   dead_owners=()):
        claim = self._claims.get(flow_uuid)
        if claim is not None and (
                claim['owner'] == owner or
                (claim['expire'] > timeutils.utcnow() and
                 claim['owner'] not in dead_owners)):
            return False
        self._claims[flow_uuid] = {'flow_uuid': flow_uuid, 'owner': owner,
                                   'expire': expire}
        return True

    @_locked
    def flow_claim_release(self, context, flow_uuid, owner):
        claim = self._claims.get(flow_uuid)
        if claim is not None and claim['owner'] == owner:
            del self._claims[flow_uuid]

    @_locked
    def flow_claims_renew(self, context, owner, expire):
        for claim in self._claims.values():
            if claim['owner'] == owner:
                claim['expire'] = expire

    @_locked
    def flow_claim_get_all(self, context):
        return list(self._claims.values())

    # Services ------------------------------------------------------------
    @_locked
    def service_create(self, context, values):
        service = rules.new_service(values, timeutils.utcnow())
        if any(s['host'] == service['host'] and
               s['binary'] == service['binary']
               for s in self._services.values()):
            raise exception.ServiceExists(host=service['host'],
                                          binary=service['binary'])
        service['id'] = max(self._services, default=0) + 1
        self._services[service['id']] = service
        return service

    @_locked
    def service_get_by_host_and_binary(self, context, host, binary):
        for service in self._services.values():
            if service['host'] == host and service['binary'] == binary:
                return service
        raise exception.ServiceNotFound(service=f'{binary} on host {host}')

    @_locked
    def service_get_all(self, context, filters=None):
        return [s for _id, s in sorted(self._services.items())
                if rules.service_matches(s, filters)]

    @_locked
    def service_update(self, context, service_id, values):
        service = self._services.get(service_id)
        if service is None:
            raise exception.ServiceNotFound(service=service_id)
        service.update(copy.deepcopy(
            {k: v for k, v in values.items() if k != 'id'}))
        return service
