"""What a scheduler driver does: pick a backend and hand the volume to it.

Cinder's ``cinder/scheduler/driver.py``: the scheduler flow calls
:meth:`Scheduler.schedule_create_volume`, which records the choice on the
volume (:func:`volume_update_db`) and casts to the chosen backend's volume
manager.
"""

import abc

from oslo_config import cfg

CONF = cfg.CONF


def volume_update_db(db_api, context, volume_id, host, availability_zone):
    """Place a volume still ``creating`` on ``host``; return it.

    A compare-and-swap on the status: a volume deleted or finished in the
    meantime raises ``InvalidVolume`` (or ``VolumeNotFound``) instead of
    being placed.
    """
    return db_api.volume_update(
        context, volume_id,
        {'host': host, 'availability_zone': availability_zone},
        expected={'status': 'creating'})


class Scheduler(metaclass=abc.ABCMeta):
    """Places volumes on backends.

    :param db_api: the database api.
    :param volume_rpcapi: casts ``create_volume`` to the chosen backend.
    """

    def __init__(self, db_api, volume_rpcapi, conf=None):
        self.db = db_api
        self.volume_rpcapi = volume_rpcapi
        self.conf = conf or CONF

    @abc.abstractmethod
    def schedule_create_volume(self, context, request_spec,
                               filter_properties):
        """Choose a backend, place the volume there and cast to it.

        :raises NoValidBackend: when no backend can take the volume.
        :returns: the name of the chosen backend.
        """
