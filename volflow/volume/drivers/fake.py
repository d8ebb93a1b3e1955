"""A driver that keeps its volumes in memory, for tests and demos.

It can be made slow (``fake_latency`` seconds per call) and unreliable
(``fake_failure_rate``, the fraction of volume creations that fail) from
configuration, and fail on demand from a test through :attr:`fail_create`,
to exercise the manager's rescheduling, or :attr:`fail_extend`.
"""

import random
import threading
import time

from volflow import exception
from volflow.volume.drivers import base


class FakeDriver(base.VolumeDriver):
    """Volumes and snapshots as dict entries.

    :param rng: a ``random.Random`` for ``fake_failure_rate`` (tests seed
        one to make failures reproducible).
    """

    PROTOCOL = 'fake'

    def __init__(self, backend, rng=None):
        super().__init__(backend)
        self.latency = backend.get('fake_latency', 0.0)
        self.failure_rate = backend.get('fake_failure_rate', 0.0)
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        #: volume id -> {'size', 'source'}; ``source`` says how it was made.
        self.volumes = {}
        #: snapshot id -> {'volume_id', 'size'}.
        self.snapshots = {}
        #: ``True``: every volume creation fails; an int N: the next N do.
        self.fail_create = False
        #: ``True``: every extend fails (the volume keeps its size).
        self.fail_extend = False

    def _call(self):
        if self.latency:
            time.sleep(self.latency)

    def _check_create(self, volume):
        """Fail a creation when a test or ``fake_failure_rate`` says so."""
        self._call()
        with self._lock:
            forced = self.fail_create
            if forced is not True and forced:
                self.fail_create = forced - 1
            injected = self._rng.random() < self.failure_rate
        if forced or injected:
            raise exception.VolumeBackendAPIException(
                data=(f"fake backend '{self.backend_name}' failed to create "
                      f"volume {volume['id']} (injected failure)"))

    def _add(self, volume, source):
        with self._lock:
            self.volumes[volume['id']] = {'size': volume['size'],
                                          'source': source}

    def create_volume(self, volume):
        self._check_create(volume)
        self._add(volume, 'raw')

    def create_volume_from_snapshot(self, volume, snapshot):
        self._check_create(volume)
        if snapshot['id'] not in self.snapshots:
            raise exception.SnapshotNotFound(snapshot_id=snapshot['id'])
        self._add(volume, f"snapshot:{snapshot['id']}")

    def create_cloned_volume(self, volume, src_volume):
        self._check_create(volume)
        if src_volume['id'] not in self.volumes:
            raise exception.VolumeNotFound(volume_id=src_volume['id'])
        self._add(volume, f"volume:{src_volume['id']}")

    def copy_image_to_volume(self, context, volume, image_service,
                             image_id):
        self._check_create(volume)
        image_service.show(context, image_id)
        self._add(volume, f'image:{image_id}')

    def delete_volume(self, volume):
        self._call()
        with self._lock:
            self.volumes.pop(volume['id'], None)

    def extend_volume(self, volume, new_size):
        self._call()
        if self.fail_extend:
            raise exception.VolumeBackendAPIException(
                data=(f"fake backend '{self.backend_name}' failed to extend "
                      f"volume {volume['id']} (injected failure)"))
        with self._lock:
            if volume['id'] not in self.volumes:
                raise exception.VolumeNotFound(volume_id=volume['id'])
            self.volumes[volume['id']]['size'] = new_size

    def create_snapshot(self, snapshot, volume):
        self._call()
        if volume['id'] not in self.volumes:
            raise exception.VolumeNotFound(volume_id=volume['id'])
        with self._lock:
            self.snapshots[snapshot['id']] = {'volume_id': volume['id'],
                                              'size': volume['size']}

    def delete_snapshot(self, snapshot):
        self._call()
        with self._lock:
            self.snapshots.pop(snapshot['id'], None)

    def get_volume_stats(self, refresh=False):
        stats = super().get_volume_stats(refresh)
        with self._lock:
            provisioned = sum(v['size'] for v in self.volumes.values())
        stats.update(provisioned_capacity_gb=provisioned,
                     free_capacity_gb=stats['total_capacity_gb'] -
                     provisioned)
        return stats
