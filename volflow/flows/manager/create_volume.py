"""The volume manager side of creating a volume.

ExtractVolumeRefTask -> OnFailureRescheduleTask -> ExtractVolumeSpecTask
-> NotifyVolumeActionTask -> CreateVolumeFromSpecTask ->
CreateVolumeOnFinishTask.

The scheduler placed the volume on this backend (its ``host``) and cast
here. The flow makes the volume on the backend and sets it ``available``.

What a failure leaves behind (taskflow reverts every task that ran, the
failed one included, in reverse order):

* CreateVolumeFromSpecTask's revert deletes the backend volume, whole or
  partial (deleting is idempotent for every driver).
* OnFailureRescheduleTask's revert then either reschedules - clears the
  volume's ``host`` (so the backend's allocated capacity no longer counts
  it), records the failure in ``filter_properties['retry']`` and casts to
  the scheduler, which skips the backends already tried and gives up after
  ``scheduler_max_attempts`` - or sets the volume ``error`` with the reason
  and no ``host``.
* It never reschedules a failure another backend cannot fix: the volume,
  snapshot, type or image is gone, or the request is invalid (an image too
  big or unreadable, a source in the wrong status) - Cinder's list.
* A volume that is no longer ``creating`` on this backend (an admin is
  deleting it) is left alone.

Quota is never touched here: an ``error`` volume stays counted until it is
deleted.

Every execute and revert may run again on resume: they read the volume's
state and change it with compare-and-swap updates. The file driver writes
a volume under a temporary name and renames it into place, so making it
again replaces it; deleting is idempotent. A reschedule run again finds
the volume's host already cleared (by its first run) and sends the same
request again, which the scheduler side recognises as one it has.
"""

import copy

from oslo_log import log as logging
import taskflow.engines
from taskflow import exceptions as taskflow_exceptions
from taskflow.patterns import linear_flow
from taskflow.types import failure as ft

from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow import engines
from volflow import exception
from volflow import flow_utils
from volflow.flows import common
from volflow.flows.manager import _sources
from volflow.flows.scheduler import create_volume as scheduler_flow
from volflow import message as volflow_message
from volflow import notifier as volflow_notifier
from volflow import persistence
from volflow.volume import backends

LOG = logging.getLogger(__name__)

ACTION = 'volume:create'

#: Failures another backend would not fix (Cinder's no-reschedule list).
NO_RESCHEDULE = (exception.VolumeNotFound, exception.SnapshotNotFound,
                 exception.VolumeTypeNotFound, exception.ImageNotFound,
                 exception.Invalid)


def _failure_text(failure):
    if failure.exception is not None:
        return common.one_line(failure.exception)
    return failure.exception_str


class ExtractVolumeRefTask(flow_utils.VolflowTask):
    """Provides the volume as the database has it now.

    Refuses a volume that is not ``creating`` on this backend: a stale or
    repeated request must not create (over) a volume that is already
    available, being deleted or placed elsewhere.

    Reversion strategy: none - it changes nothing; a refusal reverts the
    flow before OnFailureRescheduleTask ran, so the volume is left alone.
    """

    default_provides = 'refreshed'

    def __init__(self, db_api, backend, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.db = db_api
        self.backend = backend

    def execute(self, context: volflow_context.RequestContext,
                volume: dict) -> dict:
        volume = self.db.volume_get(context, volume['id'])
        host = volume['host'] and backends.backend_of_host(volume['host'])
        if volume['status'] != 'creating' or host != self.backend:
            raise exception.InvalidVolume(
                reason=(f"volume {volume['id']} is '{volume['status']}' on "
                        f"backend '{host}'; backend '{self.backend}' has "
                        f"nothing to create"))
        return volume


class OnFailureRescheduleTask(flow_utils.VolflowTask):
    """Does nothing; its revert reschedules or errors the volume out.

    Reversion strategy: the revert is the task's point. Unless the
    failure is one another backend cannot fix, or rescheduling is not
    allowed, it clears the volume's ``host`` and casts the request back
    to the scheduler; otherwise it sets the volume ``error`` with the
    reason and no ``host``. A volume no longer ``creating`` here is left
    alone. Its revert result says whether it rescheduled
    (:func:`rescheduled` reads it by the task's name).
    """

    def __init__(self, reschedule_context, db_api, scheduler_rpcapi,
                 backend, do_reschedule, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.reschedule_context = reschedule_context
        self.db = db_api
        self.scheduler_rpcapi = scheduler_rpcapi
        self.backend = backend
        self.do_reschedule = do_reschedule

    def execute(self, **kwargs) -> None:
        pass

    def _release(self, context, volume_id):
        """Clear the volume's host; whether it was still ours to clear.

        A compare-and-swap: a volume no longer ``creating`` here (being
        deleted, or already placed elsewhere by the reschedule a revert
        that ran before sent) is neither rescheduled a second time nor
        errored out. A volume whose host is already cleared is still
        ours: this revert ran before and was interrupted (a crash) after
        clearing it; the reschedule it then sends again is recognised as
        a duplicate if the first one went out.
        """
        try:
            self.db.volume_update(
                context, volume_id, {'host': None},
                expected={'status': 'creating',
                          'host': (self.backend, None)})
        except (exception.VolumeNotFound, exception.InvalidVolume) as exc:
            LOG.info('Volume %(id)s not rescheduled: %(why)s',
                     {'id': volume_id, 'why': exc})
            return False
        return True

    def _reschedule(self, context, volume, request_spec, filter_properties,
                    reason):
        filter_properties = copy.deepcopy(filter_properties)
        filter_properties['retry']['exc'] = reason
        LOG.warning('Volume %(id)s: %(reason)s; rescheduling.',
                    {'id': volume['id'], 'reason': reason})
        self.scheduler_rpcapi.create_volume(
            self.reschedule_context, dict(volume, host=None),
            snapshot_id=request_spec.get('snapshot_id'),
            image_id=request_spec.get('image_id'),
            request_spec=request_spec, filter_properties=filter_properties)

    def revert(self, context: volflow_context.RequestContext,
               result: None | ft.Failure,
               flow_failures: dict[str, ft.Failure], volume: dict,
               request_spec: dict, filter_properties: dict,
               **kwargs) -> bool:
        """Reschedule, or error the volume out; whether it rescheduled."""
        failure = next(iter(flow_failures.values()))
        reason = common.backend_failed(self.backend, _failure_text(failure))
        if self.do_reschedule and not failure.check(*NO_RESCHEDULE):
            if not self._release(context, volume['id']):
                return False
            try:
                self._reschedule(context, volume, request_spec,
                                 filter_properties, reason)
                return True
            except Exception as exc:
                LOG.exception('Volume %s could not be rescheduled.',
                              volume['id'])
                reason = f'{reason}; rescheduling failed: {exc}'
        if common.error_out(self.db, context, volume['id'], reason,
                            host=None):
            common.tell_user(self.db, context, volume,
                             volflow_message.CREATE_VOLUME_FROM_BACKEND,
                             volflow_message.DRIVER_FAILED_CREATE)
        return False


class ExtractVolumeSpecTask(flow_utils.VolflowTask):
    """Provides ``volume_spec``: raw, snap, source_vol or image.

    Reversion strategy: none - it changes nothing.
    """

    default_provides = 'volume_spec'

    def __init__(self, db_api, image_service, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.db = db_api
        self.image_service = image_service

    def execute(self, context: volflow_context.RequestContext,
                volume: dict, request_spec: dict) -> dict:
        return _sources.extract_spec(self.db, self.image_service, context,
                                     volume)


class NotifyVolumeActionTask(flow_utils.VolflowTask):
    """Sends ``volume.<event_suffix>``; a failure to notify is only logged.

    A notification is information for others: losing one must not fail a
    volume creation.

    Reversion strategy: none - a notification sent cannot be taken back.
    """

    def __init__(self, db_api, event_suffix, notifier, **kwargs):
        super().__init__(addons=[ACTION, event_suffix], **kwargs)
        self.db = db_api
        self.event_suffix = event_suffix
        self.publisher = notifier

    def _notify(self, context, volume):
        try:
            self.publisher.info(context, f'volume.{self.event_suffix}',
                                volflow_notifier.volume_usage(volume))
        except Exception:
            LOG.exception('Failed notifying volume.%(event)s for volume '
                          '%(id)s', {'event': self.event_suffix,
                                     'id': volume['id']})

    def execute(self, context: volflow_context.RequestContext,
                volume: dict) -> None:
        self._notify(context, volume)


class CreateVolumeFromSpecTask(flow_utils.VolflowTask):
    """Makes the volume on the backend, from its source if it has one.

    Reversion strategy: deletes the backend volume - also when its own
    execute failed, since the driver may have written part of it;
    deleting what does not exist succeeds.
    """

    def __init__(self, db_api, driver, image_service, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.db = db_api
        self.driver = driver
        self.image_service = image_service

    def execute(self, context: volflow_context.RequestContext,
                volume: dict, volume_spec: dict) -> None:
        if not self.driver.initialized:
            raise exception.VolumeDriverException(
                reason=(f"the driver of backend '{self.driver.backend_name}'"
                        f" is not initialized"))
        creator = _sources.CREATORS.get(volume_spec['type'])
        if creator is None:
            raise exception.VolumeTypeNotFound(
                volume_type=volume_spec['type'])
        LOG.debug('Creating volume %(id)s (%(type)s) on backend '
                  '%(backend)s.', {'id': volume['id'],
                                   'type': volume_spec['type'],
                                   'backend': self.driver.backend_name})
        model_update = creator(self.db, self.driver, self.image_service,
                               context, volume, volume_spec)
        if model_update:
            self.db.volume_update(context, volume['id'], model_update)

    def revert(self, context: volflow_context.RequestContext, volume: dict,
               result: None | ft.Failure, **kwargs) -> None:
        """Delete the backend volume: whole, or what a failure left of it.

        On its own failure too (``result`` is a Failure): the driver may
        have written part of the volume before failing. Deleting what does
        not exist succeeds.
        """
        try:
            self.driver.delete_volume(volume)
        except Exception:
            LOG.exception('Volume %(id)s: could not delete it from backend '
                          '%(backend)s after a failed creation.',
                          {'id': volume['id'],
                           'backend': self.driver.backend_name})


class CreateVolumeOnFinishTask(NotifyVolumeActionTask):
    """Sets the volume ``available`` and sends ``volume.create.end``.

    Reversion strategy: none - it is the flow's last task; if setting
    ``available`` fails, the earlier tasks' reverts delete the backend
    volume and reschedule or error it out.
    """

    def __init__(self, db_api, event_suffix, notifier, backend, **kwargs):
        super().__init__(db_api, event_suffix, notifier, **kwargs)
        self.backend = backend

    def execute(self, context: volflow_context.RequestContext,
                volume: dict, volume_spec: dict) -> None:
        volume = self.db.volume_update(
            context, volume['id'], {'status': 'available', 'reason': None},
            expected={'status': ('creating', 'available'),
                      'host': self.backend})
        LOG.info('Volume %(id)s (%(type)s): created on backend %(backend)s.',
                 {'id': volume['id'], 'type': volume_spec['type'],
                  'backend': self.backend})
        self._notify(context, volume)


def rescheduled(engine) -> bool:
    """Whether a failed run of this flow handed its volume back.

    The revert result of OnFailureRescheduleTask, read by the task's name
    as Cinder's volume manager reads it; the volume row cannot tell, since
    another backend - or this one again - may already have taken the
    volume on. False for an engine of another flow.
    """
    try:
        return engine.storage.get_revert_result(
            OnFailureRescheduleTask.make_name([ACTION])) is True
    except taskflow_exceptions.NotFound:
        return False


def build_flow(db_api, driver, scheduler_rpcapi, backend, do_reschedule,
               reschedule_context, image_service, notifier):
    """The manager flow itself, not loaded (see :func:`get_flow`).

    Also what a process resuming the flow rebuilds
    (:func:`volflow.flows.factories.manager_flow`).
    """
    refreshed = {'volume': 'refreshed'}
    flow = linear_flow.Flow('volume_create_manager')
    flow.add(ExtractVolumeRefTask(db_api, backend),
             OnFailureRescheduleTask(reschedule_context, db_api,
                                     scheduler_rpcapi, backend,
                                     do_reschedule),
             ExtractVolumeSpecTask(db_api, image_service, rebind=refreshed),
             NotifyVolumeActionTask(db_api, 'create.start', notifier,
                                    rebind=refreshed),
             CreateVolumeFromSpecTask(db_api, driver, image_service,
                                      rebind=refreshed),
             CreateVolumeOnFinishTask(db_api, 'create.end', notifier,
                                      backend, rebind=refreshed))
    return flow


def get_flow(context, db_api, driver, scheduler_rpcapi, backend, volume,
             allow_reschedule, reschedule_context, request_spec,
             filter_properties, image_service=None, notifier=None,
             conf=None, engine=None, persistence_backend=None):
    """Build the manager flow and return its engine, loaded but not run.

    Its progress is recorded (:mod:`volflow.persistence`) under a flow
    uuid made of the volume, the scheduling attempt and this backend: a
    request sent twice loads the first one's record, and runs once.

    :param context: an admin context, for the database.
    :param backend: the name of this manager's backend.
    :param reschedule_context: the user's context, for the scheduler.
    :param notifier: an oslo.messaging notifier (default: the configured
        one, publisher ``volume.<backend>``).
    :param engine: taskflow engine type (default: ``[taskflow] engine``).
    :param persistence_backend: the taskflow persistence backend
        (default: :func:`volflow.persistence.get_backend` of ``db_api``).
    """
    conf = conf or volflow_conf.CONF
    if notifier is None:
        notifier = volflow_notifier.get_notifier(f'volume.{backend}', conf)
    filter_properties = filter_properties or {}
    do_reschedule = bool(allow_reschedule and request_spec and
                         filter_properties.get('retry'))
    store = {
        'context': context,
        'filter_properties': filter_properties,
        'request_spec': request_spec,
        'volume': volume,
    }
    flow = build_flow(db_api, driver, scheduler_rpcapi, backend,
                      do_reschedule, reschedule_context, image_service,
                      notifier)
    step = f'manager/{scheduler_flow.attempt(filter_properties)}/{backend}'
    record = persistence.Record(
        'manager', volume['id'], common.FACTORIES['manager'],
        {'backend': backend, 'do_reschedule': do_reschedule,
         'reschedule_context': (reschedule_context and
                                persistence.context_dict(
                                    reschedule_context))},
        db_api, uuid=persistence.flow_uuid(volume['id'], step),
        backend=persistence_backend)
    # Recorded and claimed first; loaded on that record, as taskflow
    # loads any flow; the claim then goes with the run (volflow.engines).
    recorded = engines.record(flow, store, record, conf)
    kind, options = engines.engine_options(conf, engine)
    manager_engine = taskflow.engines.load(
        flow, store=recorded.store, engine=kind, backend=recorded.backend,
        flow_detail=recorded.flow_detail, **options)
    return engines.track(manager_engine, recorded)
