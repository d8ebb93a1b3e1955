"""The API side of creating a volume.

ExtractVolumeRequestTask -> QuotaReserveTask -> EntryCreateTask ->
QuotaCommitTask -> VolumeCastTask.

Why this order: quota is reserved *before* the volume row exists. A usage
row that does not exist yet is created from a live count of the project's
volumes; if the row were inserted first, that count would include it and
the reservation would count it a second time (Cinder bug 1587376, fixed the
same way in its manage-existing flow).

What a failure leaves behind, task by task (taskflow reverts every task
that ran, in reverse order, including the one that failed):

* ExtractVolumeRequestTask fails: nothing was done, nothing to undo.
* QuotaReserveTask fails (over quota): nothing was reserved.
* EntryCreateTask fails: the reservation is rolled back.
* QuotaCommitTask fails: the row is destroyed, the reservation rolled back.
* VolumeCastTask cannot hand the volume to the scheduler: the volume is set
  to ``error`` with the reason and, like every ``error`` volume, stays
  counted against quota until it is deleted. Nothing is reverted, so
  nothing is left in ``creating`` (Cinder releases the quota there and
  leaves the row in ``creating``).

What remains after the reverts is decided in one place,
:func:`volflow.flows.common.after_failure`: after this flow raised,
nothing. A recorded run ``volflow resume`` gives up on (it can no longer
revert) is undone there from what :func:`recorded_results` reads in its
record, by the tasks' names.

Committing is QuotaCommitTask's result, ``quota_committed``, where Cinder
sets a flag in the store (``optional_args['is_quota_committed']``) that
the reserve and entry reverts read. Those reverts need no flag here:
taskflow reverts the commit first, and its revert releases what it
counted (or raises, and then taskflow reverts nothing before it), so by
the time they run nothing is committed any more. A task result is also
recorded with the task, where a flag in a transient store is lost on
resume; and a task cannot read a later task's result anyway. A caller
that passes Cinder's ``optional_args`` dict in the store still sees the
flag set on commit and cleared by the commit's revert, as in Cinder; no
task reads it.

Resumed after a crash (:mod:`volflow.persistence`) a step may run twice.
All hangs on the volume's id in the store (``volume_uuid``, made up
front): the reservation and the compensating release are keyed on it (so
made once), the entry step finds its own row and takes over no other, a
second commit is a no-op (one finding its reservation expired fails the
flow, which reverts), and a cast sent again is recognised as a duplicate.
The commit's release is keyed on the volume too, and taskflow records
which tasks ran, so each revert undoes exactly its own work, once.
"""

from oslo_log import log as logging
from oslo_utils import uuidutils
import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow import states
from taskflow.types import failure as ft

from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow import engines
from volflow import exception
from volflow import flow_utils
from volflow.flows.api import _validation
from volflow.flows.api import _zones
from volflow.flows import common
from volflow import persistence
from volflow import quota

LOG = logging.getLogger(__name__)

ACTION = 'volume:create'


class ExtractVolumeRequestTask(flow_utils.VolflowTask):
    """Validates the request and resolves what it refers to.

    Sources are exclusive; the size may be inherited from a source and may
    not be smaller than it; the type comes from the request, else the
    source volume, else the snapshot, else the image's ``volume_type``
    property, else ``default_volume_type`` (a private type the project
    has no access to is not found); the zone must be one the backends
    offer (or fall back to the default when allowed); ``qos_specs`` are
    the specs of the QoS specs associated with the type (None if none).

    Reversion strategy: none - it reads and changes nothing.
    """

    default_provides = frozenset(['size', 'snapshot_id', 'source_volid',
                                  'volume_type', 'volume_type_id',
                                  'availability_zones', 'multiattach',
                                  'qos_specs'])

    def __init__(self, image_service, availability_zones, db_api, conf,
                 **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.image_service = image_service
        self.availability_zones = availability_zones
        self.db = db_api
        self.conf = conf

    def _volume_type(self, context, volume_type, snapshot, source_volume,
                     image):
        if isinstance(volume_type, dict):
            return volume_type
        if volume_type:
            try:
                return self.db.volume_type_get(context, volume_type)
            except exception.VolumeTypeNotFound:
                return self.db.volume_type_get_by_name(context, volume_type)
        for source in (source_volume, snapshot):
            if source and source.get('volume_type_id'):
                return self.db.volume_type_get(context,
                                               source['volume_type_id'])
        image_type = ((image or {}).get('properties') or {}).get(
            'volume_type')
        if image_type:
            return self.db.volume_type_get_by_name(context, image_type)
        default = self.conf.default_volume_type
        try:
            return self.db.volume_type_get_by_name(context, default)
        except exception.VolumeTypeNotFound:
            raise exception.VolumeTypeDefaultMisconfiguredError(
                volume_type=default) from None

    def _qos_specs(self, context, vtype):
        """The specs of the QoS specs associated with the type, or None."""
        if not vtype.get('qos_specs_id'):
            return None
        try:
            qos = self.db.qos_specs_get(context, vtype['qos_specs_id'])
        except exception.QoSSpecsNotFound:
            return None
        return dict(qos['specs']) or None

    def execute(self, context: volflow_context.RequestContext,
                size: int | str | None, snapshot: dict | None,
                image_id: str | None, source_volume: dict | None,
                availability_zone: str | None,
                volume_type: str | dict | None, metadata: dict | None,
                name: str | None = None,
                description: str | None = None) -> dict:
        _validation.check_text('name', name)
        _validation.check_text('description', description)
        _validation.check_exclusive_sources(snapshot, image_id,
                                            source_volume)
        _validation.check_source_status(snapshot, source_volume)
        _validation.check_metadata(metadata)
        size = _validation.extract_size(size, snapshot, source_volume)
        image = None
        if image_id:
            image = self.image_service.show(context, image_id)
            _validation.check_image(image, size)
        vtype = self._volume_type(context, volume_type, snapshot,
                                  source_volume, image)
        _validation.check_type_size(vtype, size)
        azs = _zones.availability_zones(
            self.db, self.conf, self.availability_zones, context,
            availability_zone, vtype, snapshot, source_volume)
        return {
            'size': size,
            'snapshot_id': snapshot['id'] if snapshot else None,
            'source_volid': source_volume['id'] if source_volume else None,
            'volume_type': vtype,
            'volume_type_id': vtype['id'],
            'availability_zones': azs,
            'multiattach': _validation.is_multiattach(vtype),
            'qos_specs': self._qos_specs(context, vtype),
        }


def _key(action, volume_id):
    """The idempotency key of a quota step for one volume (or None)."""
    return f'volume:{volume_id}:{action}' if volume_id else None


class QuotaReserveTask(flow_utils.VolflowTask):
    """Checks the per-volume limit and reserves the project's quota.

    Reversion strategy: rolls the reservation back; nothing when its own
    execute failed (nothing was reserved). A reservation the commit used
    is no longer outstanding by then - the commit's revert released its
    usage first - and rolling it back is a no-op.
    """

    default_provides = frozenset(['reservations'])

    def __init__(self, quota_engine, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.quota = quota_engine

    def execute(self, context: volflow_context.RequestContext, size: int,
                volume_type: dict, volume_uuid: str | None = None) -> dict:
        deltas = quota.type_resources(volume_type['name'], volumes=1,
                                      gigabytes=size)
        # The per-volume limit is checked in the reservation's transaction.
        return {'reservations': self.quota.reserve(
            context, context.project_id, deltas,
            key=_key('reserve', volume_uuid), size=size)}

    def revert(self, context: volflow_context.RequestContext,
               result: dict | ft.Failure, **kwargs) -> None:
        if isinstance(result, ft.Failure):
            return  # nothing was reserved
        self.quota.rollback(context, result['reservations'])


class EntryCreateTask(flow_utils.VolflowTask):
    """Inserts the volume row, status ``creating``.

    Run again, it takes over the row it made - the context's project's,
    still ``creating``, unplaced, with this request's attributes - and no
    other: a request naming another volume's id must not count it twice.

    Reversion strategy: destroys the row; nothing when its own execute
    failed (no row of its own was made), nor when the row is gone
    already.
    """

    _OWN_FIELDS = ('name', 'size', 'user_id', 'volume_type_id',
                   'snapshot_id', 'source_volid', 'image_id')

    default_provides = frozenset(['volume_id', 'volume',
                                  'volume_properties'])

    def __init__(self, db_api, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.db = db_api

    def execute(self, context: volflow_context.RequestContext,
                name: str | None, description: str | None,
                metadata: dict | None, size: int, snapshot_id: str | None,
                source_volid: str | None, image_id: str | None,
                volume_type_id: str, availability_zones: list[str],
                multiattach: bool, volume_uuid: str | None = None) -> dict:
        volume_id = volume_uuid or uuidutils.generate_uuid()
        values = {
            'id': volume_id,
            'name': name,
            'description': description,
            'size': size,
            'status': 'creating',
            'project_id': context.project_id,
            'user_id': context.user_id,
            'volume_type_id': volume_type_id,
            'availability_zone': (availability_zones[0]
                                  if len(availability_zones) == 1
                                  else None),
            'snapshot_id': snapshot_id,
            'source_volid': source_volid,
            'image_id': image_id,
            'metadata': dict(metadata or {}),
            'multiattach': multiattach,
        }
        try:
            volume = self.db.volume_create(context, values)
        except exception.InvalidVolume:
            # Resumed after a crash: the row may exist already (and be
            # ours), or the id be another volume's (refused).
            try:
                volume = self.db.volume_get(context, volume_id)
            except exception.VolumeNotFound:
                raise exception.InvalidVolume(
                    reason=f'volume {volume_id} already exists') from None
            self._check_own(volume, values)
        properties = {key: volume[key] for key in (
            'size', 'project_id', 'user_id', 'volume_type_id',
            'availability_zone', 'snapshot_id', 'source_volid', 'image_id',
            'multiattach', 'status')}
        return {'volume_id': volume['id'], 'volume': volume,
                'volume_properties': properties}

    def _check_own(self, volume, values):
        own = (volume['project_id'] == values['project_id'] and
               volume['status'] == 'creating' and not volume['host'] and
               all(volume[f] == values[f] for f in self._OWN_FIELDS))
        if not own:
            raise exception.InvalidVolume(
                reason=f"volume {volume['id']} already exists")

    def revert(self, context: volflow_context.RequestContext,
               result: dict | ft.Failure, **kwargs) -> None:
        if isinstance(result, ft.Failure):
            return  # no row was made
        try:
            self.db.volume_destroy(context, result['volume_id'])
        except exception.VolumeNotFound:
            pass  # already gone: reverts are idempotent


class QuotaCommitTask(flow_utils.VolflowTask):
    """Commits the reservations: the volume now counts against quota.

    A reservation found neither outstanding nor committed expired before
    a resumed flow got here: the flow fails (and reverts). Provides
    ``quota_committed`` (True).

    Reversion strategy: releases what the commit counted, keyed on the
    volume (so once, however often the revert runs); nothing when its own
    execute failed (the reserve task's revert rolls back).
    """

    default_provides = 'quota_committed'

    def __init__(self, quota_engine, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.quota = quota_engine

    def execute(self, context: volflow_context.RequestContext,
                reservations: list[str],
                optional_args: dict | None = None) -> bool:
        lost = self.quota.commit(context, reservations)
        if lost:
            raise exception.ReservationLost(reservations=', '.join(lost))
        if optional_args is not None:  # Cinder's flag, for who reads it
            optional_args['is_quota_committed'] = True
        return True

    def revert(self, context: volflow_context.RequestContext,
               result: bool | ft.Failure, volume_type: dict, size: int,
               volume_id: str, optional_args: dict | None = None,
               **kwargs) -> None:
        if isinstance(result, ft.Failure):
            return  # the commit itself failed: the reserve task rolls back
        self.quota.release(context, context.project_id, quota.type_resources(
            volume_type['name'], volumes=1, gigabytes=size),
            key=_key('release', volume_id))
        if optional_args is not None:
            optional_args['is_quota_committed'] = False


class VolumeCastTask(flow_utils.VolflowTask):
    """Hands the volume to the scheduler.

    A cast that fails leaves the volume ``error`` with the reason instead of
    reverting: it is counted against quota until it is deleted, as every
    ``error`` volume is, and no row is left in ``creating`` (only one still
    ``creating``: a resumed cast must not error a volume made since).

    Reversion strategy: none - a cast cannot be taken back, and a failed
    one is handled in execute. Its result is the volume as this flow
    leaves it - as handed to the scheduler, ``creating``, or ``error``
    when the cast failed - not as the receiving flows, which may run
    already, make it (``API.create`` reads it by the task's name).
    """

    def __init__(self, scheduler_rpcapi, volume_rpcapi, db_api, **kwargs):
        super().__init__(addons=[ACTION], **kwargs)
        self.scheduler_rpcapi = scheduler_rpcapi
        self.volume_rpcapi = volume_rpcapi
        self.db = db_api

    def execute(self, context: volflow_context.RequestContext,
                volume: dict, volume_id: str, volume_properties: dict,
                volume_type: dict, snapshot_id: str | None,
                source_volid: str | None, image_id: str | None,
                availability_zones: list[str]) -> dict | None:
        request_spec = {
            'volume_id': volume_id,
            'volume_properties': volume_properties,
            'volume_type': volume_type,
            'snapshot_id': snapshot_id,
            'source_volid': source_volid,
            'image_id': image_id,
            'availability_zones': availability_zones,
        }
        try:
            self.scheduler_rpcapi.create_volume(
                context, volume, snapshot_id=snapshot_id, image_id=image_id,
                request_spec=request_spec, filter_properties={})
        except Exception as exc:
            common.error_out(
                self.db, context, volume_id,
                f'Could not hand the volume to the scheduler: {exc}')
            try:  # errored, as this flow leaves it
                return self.db.volume_get(context, volume_id)
            except exception.VolumeNotFound:
                return None  # deleted already (a forced delete)
        # As handed over: the scheduler may be moving it on already.
        return volume


def recorded_results(flow_detail) -> dict:
    """What a recorded run of this flow did, by its tasks' names.

    ``{'reservations': the reservations QuotaReserveTask made, or None,
    'committed': whether QuotaCommitTask committed them, 'reserve_key':
    the key its reservations are made under}``, from the tasks recorded
    as done in ``flow_detail`` (a taskflow ``FlowDetail``): what undoing a
    run that can no longer revert needs
    (:func:`volflow.flows.common.after_failure`). A task's work may be
    done with its result not recorded yet (it waits for the next write):
    the key finds reservations the record does not name.
    """
    done = {atom.name: atom.results for atom in flow_detail
            if atom.state == states.SUCCESS}
    reserved = done.get(QuotaReserveTask.make_name([ACTION]))
    volume_id = (flow_detail.meta or {}).get(persistence.META, {}).get(
        'volume_id')
    return {'reservations': reserved['reservations'] if reserved else None,
            'committed': done.get(
                QuotaCommitTask.make_name([ACTION])) is not None,
            'reserve_key': _key('reserve', volume_id)}


def build_flow(db_api, image_service_api, availability_zones,
               scheduler_rpcapi=None, volume_rpcapi=None, conf=None):
    """The API flow itself, not loaded.

    What :func:`get_flow` loads, and what a process resuming the flow
    rebuilds (:func:`volflow.flows.factories.api_flow`).
    """
    conf = conf or volflow_conf.CONF
    quota_engine = quota.QuotaEngine(db_api, conf)
    flow = linear_flow.Flow('volume_create_api')
    flow.add(ExtractVolumeRequestTask(
        image_service_api, availability_zones, db_api, conf,
        rebind={'size': 'raw_size',
                'availability_zone': 'raw_availability_zone',
                'volume_type': 'raw_volume_type'}))
    flow.add(QuotaReserveTask(quota_engine),
             EntryCreateTask(db_api),
             QuotaCommitTask(quota_engine))
    if scheduler_rpcapi and volume_rpcapi:
        flow.add(VolumeCastTask(scheduler_rpcapi, volume_rpcapi, db_api))
    return flow


def get_flow(db_api, image_service_api, availability_zones, create_what,
             scheduler_rpcapi=None, volume_rpcapi=None, conf=None,
             persistence_backend=None):
    """Build the API flow and return its engine, loaded but not run.

    Its progress is recorded (:mod:`volflow.persistence`).

    :param create_what: the store: ``context``, ``raw_size``, ``name``,
        ``description``, ``snapshot``, ``image_id``, ``raw_volume_type``,
        ``metadata``, ``raw_availability_zone``, ``source_volume`` and
        optionally ``volume_uuid`` (else made here); Cinder's
        ``optional_args`` may be there (the commit sets its flag; no task
        reads it).
    :param persistence_backend: the taskflow persistence backend
        (default: :func:`volflow.persistence.get_backend` of ``db_api``).
    """
    conf = conf or volflow_conf.CONF
    flow = build_flow(db_api, image_service_api, availability_zones,
                      scheduler_rpcapi, volume_rpcapi, conf)
    store = dict(create_what)
    store['volume_uuid'] = (store.get('volume_uuid') or
                            uuidutils.generate_uuid())
    record = persistence.Record(
        'api', store['volume_uuid'], common.FACTORIES['api'],
        {'cast': bool(scheduler_rpcapi and volume_rpcapi)}, db_api,
        uuid=persistence.flow_uuid(store['volume_uuid'], 'api'),
        backend=persistence_backend)
    # Recorded and claimed first; loaded on that record, as taskflow
    # loads any flow; the claim then goes with the run (volflow.engines).
    recorded = engines.record(flow, store, record, conf)
    kind, options = engines.engine_options(conf)
    api_engine = taskflow.engines.load(
        flow, store=recorded.store, engine=kind, backend=recorded.backend,
        flow_detail=recorded.flow_detail, **options)
    return engines.track(api_engine, recorded)
