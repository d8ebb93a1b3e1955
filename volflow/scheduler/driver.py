"""What a scheduler driver does: pick a backend and hand the volume to it.

Cinder's ``cinder/scheduler/driver.py``: the scheduler flow calls
:meth:`Scheduler.schedule_create_volume`, which places the volume on the
chosen backend - claiming its capacity and recording the host in one
transaction (:meth:`volflow.db.api.API.volume_claim_capacity`) - and
casts to that backend's volume manager.
"""

import abc

from oslo_config import cfg

CONF = cfg.CONF


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
