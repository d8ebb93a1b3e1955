"""What a volume driver does for the volume manager.

The method names are Cinder's (``cinder/volume/driver.py``), so that a
Cinder developer knows what each one is for. Volumes, snapshots and
images travel as the plain dicts of :mod:`volflow.db.api`.

Every method may be called again after a crash or a duplicate message
(the manager's flows are resumed at least once): creating what exists
replaces it, deleting what is gone succeeds.
"""

import abc

from volflow import exception

GiB = 1024 ** 3


class VolumeDriver(metaclass=abc.ABCMeta):
    """One storage backend.

    :param backend: the backend's configuration, as
        :func:`volflow.volume.backends.get_backends` returns it (``name``,
        ``volume_backend_name``, ``availability_zone``, capacity and the
        driver-specific options).
    """

    #: Shown by get_volume_stats, like Cinder's ``VERSION``.
    VERSION = '1.0.0'
    #: ``storage_protocol`` of the stats.
    PROTOCOL = 'local'

    def __init__(self, backend):
        self.backend = dict(backend)
        self.backend_name = backend['name']
        self._initialized = False

    # Life cycle ----------------------------------------------------------
    def do_setup(self):
        """Prepare the backend once per process, before any other call."""

    @property
    def initialized(self):
        """Whether do_setup succeeded (the manager checks it first)."""
        return self._initialized

    def set_initialized(self):
        self._initialized = True

    # Volumes -------------------------------------------------------------
    @abc.abstractmethod
    def create_volume(self, volume):
        """Create an empty volume of ``volume['size']`` GiB.

        :returns: ``None`` or a dict of volume fields to save.
        """

    @abc.abstractmethod
    def create_volume_from_snapshot(self, volume, snapshot):
        """Create ``volume`` holding the data of ``snapshot``."""

    @abc.abstractmethod
    def create_cloned_volume(self, volume, src_volume):
        """Create ``volume`` holding the data of ``src_volume``."""

    @abc.abstractmethod
    def copy_image_to_volume(self, context, volume, image_service,
                             image_id):
        """Create ``volume`` holding the bytes of an image.

        :param image_service: has ``show(context, image_id)`` and
            ``open(context, image_id)`` (a readable binary file).
        """

    @abc.abstractmethod
    def delete_volume(self, volume):
        """Delete a volume; a volume that does not exist is deleted."""

    def extend_volume(self, volume, new_size):
        """Grow ``volume`` to ``new_size`` GiB, keeping its data.

        All or nothing: when it raises, the volume is as it was. A driver
        that cannot grow volumes keeps this refusal.
        """
        raise exception.VolumeDriverException(
            reason=(f"backend '{self.backend_name}' cannot extend volume "
                    f"{volume['id']}"))

    # Snapshots -----------------------------------------------------------
    @abc.abstractmethod
    def create_snapshot(self, snapshot, volume):
        """Copy ``volume``'s data as ``snapshot``."""

    @abc.abstractmethod
    def delete_snapshot(self, snapshot):
        """Delete a snapshot; one that does not exist is deleted."""

    # Stats ---------------------------------------------------------------
    def get_volume_stats(self, refresh=False):
        """Capacity and capabilities, with Cinder's keys.

        The scheduler places volumes by the configured capacity and what
        the database says is allocated; these stats are what the driver
        itself sees.
        """
        return {
            'volume_backend_name': self.backend['volume_backend_name'],
            'vendor_name': 'volflow',
            'driver_version': self.VERSION,
            'storage_protocol': self.PROTOCOL,
            'availability_zone': self.backend['availability_zone'],
            'total_capacity_gb': self.backend['total_capacity_gb'],
            'free_capacity_gb': self.backend['total_capacity_gb'],
            'reserved_percentage': self.backend['reserved_percentage'],
            'thin_provisioning_support':
                self.backend['thin_provisioning_support'],
            'max_over_subscription_ratio':
                self.backend['max_over_subscription_ratio'],
        }
