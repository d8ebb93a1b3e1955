"""The filter scheduler: filter the backends, weigh the rest, take the best.

Cinder's ``FilterScheduler`` for one kind of request, creating a volume.
Backends come from configuration (:func:`volflow.volume.backends.
get_backends`); what is allocated on each from the database
(``volume_allocated_by_host``), so the choice never depends on a capacity
report going stale.

Placement is race-free across processes: the backends are filtered and
weighed on the allocations read from the database, and then the best one
is *claimed* (:meth:`volflow.db.api.API.volume_claim_capacity`), which
checks the capacity again and writes the volume's ``host`` in one
transaction holding the backend's lock. A claim that fails - another
scheduler or conductor took the space meanwhile - moves on to the next
best backend; when every one fails, ``NoValidBackend`` says why. Any
number of schedulers and conductors can place volumes at once and no
backend is ever allocated more than it holds.

Liveness: in a multi-process deployment (``[DEFAULT] transport_url`` or
``[taskflow] jobboard_enabled`` set) a backend is considered only while
one of its volume services or conductors has reported within
``service_down_time`` and is enabled (:mod:`volflow.scheduler.
servicegroup`); a volume already placed keeps its backend. In one process
every backend is served by that process: nothing is checked.

Rescheduling: ``filter_properties['retry']`` counts the attempts
(``num_attempts``) and lists the backends tried (``backends``); the retry
filter skips those, and an attempt past ``scheduler_max_attempts`` fails
with ``NoValidBackend``. With ``scheduler_max_attempts = 1`` no ``retry``
is kept, which tells the volume manager not to reschedule.
"""

from oslo_log import log as logging

from volflow import exception
from volflow.scheduler import driver
from volflow.scheduler import filters
from volflow.scheduler import servicegroup
from volflow import transport
from volflow.volume import backends

LOG = logging.getLogger(__name__)


class FilterScheduler(driver.Scheduler):
    """Places a volume on the backend with the most free capacity.

    :param get_backends: returns the backend dicts (default: from
        configuration); tests and embedding services pass their own.
    :param check_services: place volumes only on backends with a live
        service (default: when the configuration runs the flows in
        several processes, over a broker or a jobboard).
    """

    def __init__(self, db_api, volume_rpcapi, conf=None, get_backends=None,
                 check_services=None):
        super().__init__(db_api, volume_rpcapi, conf)
        self._get_backends = get_backends or backends.get_backends
        if check_services is None:
            check_services = (
                transport.transport_url(self.conf) is not None or
                self.conf.taskflow.jobboard_enabled)
        self.check_services = check_services

    def schedule_create_volume(self, context, request_spec,
                               filter_properties):
        volume_id = request_spec['volume_id']
        admin = context.elevated()
        self._populate_retry(filter_properties, volume_id)
        resource_backend = (request_spec.get('resource_backend') or
                            self._resource_backend(admin, request_spec))
        request = filters.Request.from_spec(request_spec, filter_properties,
                                            resource_backend)
        chosen, volume = self._place(admin, volume_id, request,
                                     filter_properties)
        retry = filter_properties.get('retry')
        if retry is not None:
            retry['backends'].append(chosen.name)
        LOG.debug('Volume %(id)s placed on backend %(backend)s.',
                  {'id': volume_id, 'backend': chosen.name})
        self.volume_rpcapi.create_volume(context, volume, request_spec,
                                         filter_properties,
                                         allow_reschedule=True)
        return chosen.name

    def _populate_retry(self, filter_properties, volume_id):
        """Count this attempt; refuse one past ``scheduler_max_attempts``."""
        max_attempts = self.conf.scheduler_max_attempts
        if max_attempts == 1:
            return  # rescheduling disabled: no retry bookkeeping
        retry = filter_properties.setdefault(
            'retry', {'num_attempts': 0, 'backends': []})
        retry['num_attempts'] += 1
        if retry['num_attempts'] > max_attempts:
            raise exception.NoValidBackend(reason=_with_last_failure(
                f'Exceeded max scheduling attempts {max_attempts} for '
                f'volume {volume_id}', retry))

    def _resource_backend(self, context, request_spec):
        """The backend of the snapshot's volume or of the source volume.

        Their data is only there (Cinder's ``snapshot_same_host`` and its
        clones' ``resource_backend``).
        """
        source_id = request_spec.get('source_volid')
        if request_spec.get('snapshot_id'):
            snapshot = self.db.snapshot_get(context,
                                            request_spec['snapshot_id'])
            source_id = snapshot['volume_id']
        if not source_id:
            return None
        host = self.db.volume_get(context, source_id)['host']
        return backends.backend_of_host(host) if host else None

    def _place(self, context, volume_id, request, filter_properties):
        """Claim the best backend that still has room; ``(state, volume)``.

        A volume found placed already (an attempt cut short by a crash and
        run again: a reschedule clears the host first) keeps its
        placement, so the cast sent again goes where the first went and is
        recognised there; claiming it again claims nothing more.
        """
        allocated = backends.allocated_by_backend(self.db, context)
        volume = self.db.volume_get(context, volume_id)
        own = backends.backend_of_host(volume['host'])
        if own:
            allocated[own] = allocated.get(own, 0) - volume['size']
        configured = {b['name']: b for b in self._get_backends(self.conf)}
        states = [filters.BackendState(b, allocated.get(name, 0))
                  for name, b in configured.items()]
        candidates = [state for state in states if state.name == own]
        if self.check_services and not candidates:
            down = servicegroup.backends_down(self.db, context, self.conf,
                                              configured)
            for state in states:
                state.service_down = down.get(state.name)
        passed, rejected = filters.filter_backends(states, request)
        if not candidates:
            candidates = filters.weigh(passed)
        for state in candidates:
            try:
                volume = self.db.volume_claim_capacity(
                    context, volume_id, state.name,
                    backends.capacity_gb(configured[state.name]),
                    {'availability_zone': state.availability_zone})
            except exception.CapacityClaimFailed as exc:
                LOG.debug('Volume %(id)s: %(why)s Trying the next backend.',
                          {'id': volume_id, 'why': exc})
                rejected[state.name] = (
                    f'{exc.kwargs["free"]}G free once claimed by others, '
                    f'{request.size}G requested')
                continue
            return state, volume
        raise exception.NoValidBackend(reason=_with_last_failure(
            _no_backend_reason(volume_id, request, rejected),
            filter_properties.get('retry')))


def _no_backend_reason(volume_id, request, rejected):
    if not rejected:
        return f'No backend is configured for volume {volume_id}'
    why = '; '.join(f"'{name}': {reason}"
                    for name, reason in rejected.items())
    return (f'No backend can take volume {volume_id} ({request.size}G): '
            f'{why}')


def _with_last_failure(reason, retry):
    if retry and retry.get('exc'):
        return f"{reason}. Last failure: {retry['exc']}"
    return reason
