"""The scheduler service: runs the scheduler flow for each request."""

import functools

from oslo_config import cfg
from oslo_log import log as logging

from volflow import engines
from volflow.flows import common
from volflow.flows.scheduler import create_volume

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class SchedulerManager:
    """Cinder's SchedulerManager, for creating volumes.

    Its flows run serially, like Cinder's: each already runs on a thread
    of its own (the in-process rpc's executor, or an rpc server's), and
    a linear flow gains nothing from the parallel engine.

    :param driver: a :class:`volflow.scheduler.driver.Scheduler`.
    :param notifier: publishes ``scheduler.create_volume`` errors
        (default: the configured oslo.messaging notifier).
    """

    def __init__(self, db_api, driver, notifier=None, conf=None):
        self.db = db_api
        self.driver = driver
        self.notifier = notifier
        self.conf = conf or CONF

    def create_volume(self, context, volume, snapshot_id=None,
                      image_id=None, request_spec=None,
                      filter_properties=None, backup_id=None):
        """Run the scheduler flow for one volume.

        The flow errors the volume out itself when scheduling fails; if
        the flow fails before it could (its request could not be read),
        the volume is errored here, so that none stays ``creating``.
        """
        self.prepare_create_volume(
            context, volume, snapshot_id=snapshot_id, image_id=image_id,
            request_spec=request_spec,
            filter_properties=filter_properties)()

    def prepare_create_volume(self, context, volume, snapshot_id=None,
                              image_id=None, request_spec=None,
                              filter_properties=None):
        """Load (and record) the scheduler flow; return what runs it.

        The in-process rpc loads the flow in the sender's thread and runs
        it later on the executor: once the cast returned, the request is
        recorded and a crash cannot lose it (``volflow resume`` runs it).
        """
        engine = create_volume.get_flow(
            context, self.db, self.driver, request_spec=request_spec,
            filter_properties=filter_properties, volume=volume,
            snapshot_id=snapshot_id, image_id=image_id,
            notifier=self.notifier, conf=self.conf, engine='serial')
        return functools.partial(self._run, engine, context, volume)

    def _run(self, engine, context, volume):
        try:
            engines.run_engine(engine, logger=LOG)
        except Exception as exc:
            common.after_failure(self.db, 'scheduler', volume['id'], exc)
            raise
