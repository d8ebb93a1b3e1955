"""The scheduler side of creating a volume.

ExtractSchedulerSpecTask -> ScheduleCreateVolumeTask.

The scheduler driver picks a backend, writes it into the volume's
``host`` and casts to that backend's volume manager. When it cannot:

* the volume is set to ``error`` with the reason (which backend was
  refused and why, or that the attempts are exhausted) and no ``host`` -
  a capacity claim made before the failure (the cast to the manager
  failed) is released - and stays counted against quota until it is
  deleted, like every ``error`` volume;
* a ``scheduler.create_volume`` notification is sent at ERROR, and a
  user message (``VOLUME_VOLUME_001_003`` when no backend fits) is
  recorded for the volume's project;
* ``NoValidBackend`` ends the flow normally (the request was handled: the
  answer is "nowhere"); any other error is re-raised after the same
  handling, for the service to log.

Nothing here needs reverting: the only state written is the volume's
placement, as the very last step.

Resumed after a crash, scheduling runs again: a volume the interrupted
run already placed stays where it is (the scheduler driver keeps an
existing placement) and the cast to its manager is sent again, which the
manager side recognises as the one it has (the flow's store holds the
attempt number from before the crash, so the new cast carries the same).
"""

from oslo_log import log as logging
import taskflow.engines
from taskflow.patterns import linear_flow

from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow import engines
from volflow import exception
from volflow import flow_utils
from volflow.flows import common
from volflow import message as volflow_message
from volflow import notifier as volflow_notifier
from volflow import persistence

LOG = logging.getLogger(__name__)

ACTION = 'volume:create'


class ExtractSchedulerSpecTask(flow_utils.VolflowTask):
    """Provides the request spec, building one if the caller sent none.

    A request without a spec (an older or foreign caller) gets one built
    from the volume row, the way Cinder builds its legacy dict.

    Reversion strategy: none - it changes nothing.
    """

    default_provides = frozenset(['request_spec'])

    def __init__(self, db_api, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.db = db_api

    def _populate_request_spec(self, context, volume, snapshot_id,
                               image_id):
        volume = self.db.volume_get(context, volume['id'])
        vtype = None
        if volume['volume_type_id']:
            vtype = self.db.volume_type_get(context,
                                            volume['volume_type_id'])
        properties = {key: volume[key] for key in (
            'size', 'project_id', 'user_id', 'volume_type_id',
            'availability_zone', 'snapshot_id', 'source_volid', 'image_id',
            'status')}
        return {
            'volume_id': volume['id'],
            'volume_properties': properties,
            'volume_type': vtype,
            'snapshot_id': snapshot_id or volume['snapshot_id'],
            'source_volid': volume['source_volid'],
            'image_id': image_id or volume['image_id'],
            'availability_zones': ([volume['availability_zone']]
                                   if volume['availability_zone'] else []),
        }

    def execute(self, context: volflow_context.RequestContext,
                request_spec: dict | None, volume: dict,
                snapshot_id: str | None, image_id: str | None) -> dict:
        if request_spec is None:
            request_spec = self._populate_request_spec(
                context.elevated(), volume, snapshot_id, image_id)
        return {'request_spec': dict(request_spec)}


class ScheduleCreateVolumeTask(flow_utils.VolflowTask):
    """Asks the scheduler driver to place the volume and cast to it.

    Reversion strategy: none - it is the flow's last task, and a failure
    to place the volume or to cast is handled in execute: the volume is
    set ``error`` with no ``host`` (releasing a capacity claim made).
    """

    def __init__(self, db_api, driver_api, notifier=None, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.db = db_api
        self.driver_api = driver_api
        self.publisher = notifier  # an Atom's own ``notifier`` is taken

    def _notify_failure(self, context, request_spec, volume_id, reason):
        payload = {
            'request_spec': request_spec,
            'volume_properties': request_spec.get('volume_properties', {}),
            'volume_id': volume_id,
            'state': 'error',
            'method': 'create_volume',
            'reason': reason,
        }
        try:
            self.publisher.error(context, 'scheduler.create_volume', payload)
        except Exception:
            LOG.exception('Failed notifying on scheduler.create_volume for '
                          'volume %s', volume_id)

    def execute(self, context: volflow_context.RequestContext,
                request_spec: dict, filter_properties: dict,
                volume: dict) -> None:
        try:
            self.driver_api.schedule_create_volume(
                context, request_spec, filter_properties)
        except Exception as exc:
            reason = common.one_line(exc)
            LOG.error('Failed to run task %(name)s: %(cause)s',
                      {'name': self.name, 'cause': reason})
            self._notify_failure(context, request_spec, volume['id'],
                                 reason)
            # No host: a claim the failure came after (the cast to the
            # manager failed) is released with the error.
            if common.error_out(self.db, context.elevated(), volume['id'],
                                reason, host=None):
                common.tell_user(
                    self.db, context, volume,
                    volflow_message.SCHEDULE_ALLOCATE_VOLUME,
                    volflow_message.NO_BACKEND_AVAILABLE if isinstance(
                        exc, exception.NoValidBackend)
                    else volflow_message.UNKNOWN_ERROR)
            if not isinstance(exc, exception.NoValidBackend):
                raise


def build_flow(db_api, driver_api, notifier):
    """The scheduler flow itself, not loaded (see :func:`get_flow`).

    Also what a process resuming the flow rebuilds
    (:func:`volflow.flows.factories.scheduler_flow`).
    """
    flow = linear_flow.Flow('volume_create_scheduler')
    flow.add(ExtractSchedulerSpecTask(
        db_api, rebind={'request_spec': 'raw_request_spec'}))
    flow.add(ScheduleCreateVolumeTask(db_api, driver_api, notifier))
    return flow


def attempt(filter_properties):
    """The scheduling attempt a request is for (0: the first)."""
    retry = (filter_properties or {}).get('retry') or {}
    return retry.get('num_attempts', 0)


def get_flow(context, db_api, driver_api, request_spec=None,
             filter_properties=None, volume=None, snapshot_id=None,
             image_id=None, notifier=None, conf=None, engine=None,
             persistence_backend=None):
    """Build the scheduler flow and return its engine, loaded but not run.

    Its progress is recorded (:mod:`volflow.persistence`) under a flow
    uuid made of the volume and the attempt: a request sent twice loads
    the first one's record, and runs once.

    :param driver_api: the scheduler driver
        (:class:`volflow.scheduler.filter_scheduler.FilterScheduler`).
    :param notifier: an oslo.messaging notifier (default: the configured
        one, publisher ``scheduler``).
    :param engine: taskflow engine type (default: ``[taskflow] engine``).
    :param persistence_backend: the taskflow persistence backend
        (default: :func:`volflow.persistence.get_backend` of ``db_api``).
    """
    conf = conf or volflow_conf.CONF
    if notifier is None:
        notifier = volflow_notifier.get_notifier('scheduler', conf)
    store = {
        'context': context,
        'raw_request_spec': request_spec,
        'filter_properties': filter_properties or {},
        'volume': volume,
        'snapshot_id': snapshot_id,
        'image_id': image_id,
    }
    volume_id = (volume or {}).get('id')
    record = None if not volume_id else persistence.Record(
        'scheduler', volume_id, common.FACTORIES['scheduler'],
        {}, db_api, backend=persistence_backend, uuid=persistence.flow_uuid(
            volume_id, f'scheduler/{attempt(filter_properties)}'))
    flow = build_flow(db_api, driver_api, notifier)
    # Recorded and claimed first; loaded on that record, as taskflow
    # loads any flow; the claim then goes with the run (volflow.engines).
    recorded = engines.record(flow, store, record, conf)
    kind, options = engines.engine_options(conf, engine)
    scheduler_engine = taskflow.engines.load(
        flow, store=recorded.store, engine=kind, backend=recorded.backend,
        flow_detail=recorded.flow_detail, **options)
    return engines.track(scheduler_engine, recorded)
