"""The volume API: what a service or the command line calls.

:meth:`API.create` builds the API flow's store from Cinder's arguments,
runs the flow (:func:`volflow.engines.run_engine`) and returns the volume
as the flow leaves it (``creating``, or ``error`` when it could not be
handed to the scheduler); :meth:`API.wait` waits for it to settle.
:meth:`API.delete`, :meth:`API.extend` and the snapshot methods call the
volume rpcapi, as Cinder's API does. The changes to existing volumes and
snapshots live in :mod:`volflow.volume._changes` and
:mod:`volflow.volume._snapshots`.
"""

import time

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils
from taskflow import exceptions as taskflow_exceptions

from volflow import db
from volflow import engines
from volflow import exception
from volflow.flows.api import _validation
from volflow.flows.api import create_volume
from volflow import quota
from volflow.volume import _changes
from volflow.volume import _snapshots
from volflow.volume import backends
from volflow import wiring

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

#: Statuses a volume may be deleted from without ``force`` (Cinder's).
DELETABLE = ('available', 'error', 'error_restoring', 'error_extending',
             'error_managing')


class API(_changes.VolumeChanges, _snapshots.SnapshotChanges):
    """Create, read, change, wait for and delete volumes and snapshots.

    Every collaborator may be injected; ``None`` takes the configured
    default (the database of ``[database] connection``, the file-backed
    image service, the rpc apis of the configured transport - or the
    jobboard pair in front of them: :func:`volflow.wiring.get_rpcapis`).
    """

    def __init__(self, db_api=None, image_service=None,
                 scheduler_rpcapi=None, volume_rpcapi=None, conf=None):
        self.conf = conf or CONF
        # The backends' configuration is checked once, at start: a
        # mistake there is refused before any request is taken.
        backends.get_backends(self.conf)
        self.db = db_api or db.get_api(conf=self.conf)
        self.image_service = image_service or wiring.image_service(
            self.db, self.conf)
        if scheduler_rpcapi is None and volume_rpcapi is None:
            scheduler_rpcapi, volume_rpcapi = wiring.get_rpcapis(
                self.db, self.image_service, self.conf)
        self.scheduler_rpcapi = scheduler_rpcapi
        self.volume_rpcapi = volume_rpcapi
        self.quota = quota.QuotaEngine(self.db, self.conf)

    # Volumes -------------------------------------------------------------
    def create(self, context, size, name, description, snapshot=None,
               image_id=None, volume_type=None, metadata=None,
               availability_zone=None, source_volume=None):
        """Run the API flow; return the new volume (``creating``)."""
        if isinstance(snapshot, str):
            snapshot = self.get_snapshot(context, snapshot)
        if isinstance(source_volume, str):
            source_volume = self.get(context, source_volume)
        create_what = {
            'context': context,
            'volume_uuid': uuidutils.generate_uuid(),
            'raw_size': size,
            'name': name,
            'description': description,
            'snapshot': snapshot,
            'image_id': image_id,
            'raw_volume_type': volume_type,
            'metadata': metadata,
            'raw_availability_zone': availability_zone,
            'source_volume': source_volume,
        }
        engine = create_volume.get_flow(
            self.db, self.image_service,
            backends.availability_zones(self.conf), create_what,
            scheduler_rpcapi=self.scheduler_rpcapi,
            volume_rpcapi=self.volume_rpcapi, conf=self.conf)
        if not engines.run_engine(engine, logger=LOG):
            raise exception.InvalidVolume(
                reason=f"volume {create_what['volume_uuid']} is being "
                       f"created already")
        return _volume_as_left(engine)

    def get(self, context, volume_id):
        return self.db.volume_get(context, volume_id)

    def get_all(self, context, filters=None):
        return self.db.volume_get_all(context, filters)

    def wait(self, context, volume_id, timeout):
        """Return the volume once it has left ``creating``.

        Raises :class:`~volflow.exception.Timeout` after ``timeout``
        seconds.
        """
        deadline = time.monotonic() + timeout
        delay = 0.005
        # A database of volflow's wakes this thread when a volume changes
        # in this process (the in-process rpc's flows); others are polled.
        changes = isinstance(self.db, db.API)
        while True:
            mark = self.db.volume_changes() if changes else None
            volume = self.db.volume_get(context, volume_id)
            if volume['status'] != 'creating':
                return volume
            left = deadline - time.monotonic()
            if left <= 0:
                raise exception.Timeout(volume_id=volume_id,
                                        status=volume['status'],
                                        timeout=timeout)
            if not changes:
                time.sleep(min(delay, left))
            elif self.db.volume_wait_change(mark, min(delay, left)):
                continue
            delay = min(delay * 2, 0.2)

    def delete(self, context, volume_id, force=False, cascade=False):
        """Delete a volume and give its quota back.

        Allowed from ``available`` and the ``error`` statuses; with
        ``force`` an admin may delete from any status. A volume with
        snapshots is refused, unless ``cascade``: its snapshots (each
        ``available`` or ``error``, checked before any is touched) are
        deleted first.
        """
        volume = self.db.volume_get(context, volume_id)
        if force and not context.is_admin:
            raise exception.InvalidInput(
                reason='Only an admin may force the deletion of a volume')
        snapshots = self.db.snapshot_get_all(context.elevated(), volume_id)
        if snapshots and not cascade:
            raise exception.InvalidVolume(
                reason=(f"Volume {volume_id} still has snapshots; delete "
                        f"them first, or delete with cascade"))
        busy = [s['id'] for s in snapshots
                if s['status'] not in _snapshots.DELETABLE]
        if busy:
            raise exception.InvalidVolume(
                reason=(f"Volume {volume_id} has snapshots that are not "
                        f"available or error: {', '.join(busy)}"))
        expected = None if force else {'status': DELETABLE}
        if not force and volume['status'] not in DELETABLE:
            raise exception.InvalidVolume(
                reason=(f"Volume {volume_id} status must be one of "
                        f"{', '.join(DELETABLE)}, not '{volume['status']}'"))
        for snapshot in snapshots:
            self.delete_snapshot(context.elevated(), snapshot['id'])
        volume = self.db.volume_update(context, volume_id,
                                       {'status': 'deleting'},
                                       expected=expected)
        if volume['host'] and self.volume_rpcapi is not None:
            self.volume_rpcapi.delete_volume(context, volume)
        else:
            quota.finish_delete(self.db, self.quota, context, volume)

    def summary(self, context, volumes):
        """Cinder's volume summary of ``volumes``: count, size, metadata."""
        metadata = {}
        for volume in volumes:
            for key, value in (volume.get('metadata') or {}).items():
                values = metadata.setdefault(key, [])
                if value not in values:
                    values.append(value)
        return {'total_count': len(volumes),
                'total_size': sum(v['size'] or 0 for v in volumes),
                'metadata': metadata}

    # Snapshots -----------------------------------------------------------
    def create_snapshot(self, context, volume_id, name=None,
                        description=None, metadata=None):
        """Snapshot an ``available`` volume; return the snapshot."""
        metadata = _validation.check_metadata(metadata)
        volume = self.db.volume_get(context, volume_id)
        if volume['status'] != 'available':
            raise exception.InvalidVolume(
                reason=(f"Volume {volume_id} status must be 'available' to "
                        f"snapshot it, not '{volume['status']}'"))
        deltas = quota.snapshot_deltas({'volume_size': volume['size']},
                                       volume['volume_type'], self.conf)
        reservations = self.quota.reserve(context, volume['project_id'],
                                          deltas)
        try:
            snapshot = self.db.snapshot_create(context, {
                'volume_id': volume_id, 'volume_size': volume['size'],
                'name': name, 'description': description,
                'status': 'creating', 'project_id': volume['project_id'],
                'user_id': context.user_id, 'metadata': metadata,
                'volume_type_id': volume['volume_type_id']})
            try:
                if volume['host'] and self.volume_rpcapi is not None:
                    self.volume_rpcapi.create_snapshot(context, volume,
                                                       snapshot)
                snapshot = self.db.snapshot_update(
                    context, snapshot['id'], {'status': 'available'})
            except Exception:
                self.db.snapshot_destroy(context, snapshot['id'])
                raise
        except Exception:
            self.quota.rollback(context, reservations)
            raise
        self.quota.commit(context, reservations)
        return snapshot

    def get_snapshot(self, context, snapshot_id):
        return self.db.snapshot_get(context, snapshot_id)

    def get_all_snapshots(self, context):
        return self.db.snapshot_get_all(context)


def _volume_as_left(engine):
    """The volume as a run of the API flow left it.

    ``creating``, or ``error`` when the cast failed: VolumeCastTask's
    result, by the task's name - not the database's row, which the
    scheduler flow (running already) may have moved on. A flow without
    the cast, or a volume deleted before a failed cast read it: the
    volume as EntryCreateTask made it.
    """
    try:
        left = engine.storage.get_execute_result(
            create_volume.VolumeCastTask.make_name([create_volume.ACTION]))
    except taskflow_exceptions.NotFound:
        left = None
    return left if left is not None else engine.storage.fetch('volume')
