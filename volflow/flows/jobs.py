"""The work of a create as a jobboard job: a logbook of steps.

With ``[taskflow] jobboard_enabled`` the API's cast to the scheduler posts
one job per volume (:mod:`volflow.rpc.jobboard`), and conductors
(:mod:`volflow.conductor`) run it. The job's logbook holds its *steps*,
one flow detail each, run in order:

* step 0, the scheduler flow (the API's cast);
* step 1, the manager flow of the backend the scheduler chose (its cast
  to the volume manager, made inside the conductor, becomes the next step
  of the same job instead of a message);
* a manager flow that reschedules adds a scheduler step again, and so on.

A conductor that serves only some backends (``volflow conductor --backend
NAME``) hands a manager step for another backend off: the step is
recorded in the logbook as *handed off* and posted as a job of its own
whose details name the backend (the job of a step key is posted once),
for a conductor of that backend to claim; the first job then ends.

Why steps and not one flow: the manager flow's tasks are bound to their
backend (its driver, its name in compare-and-swap updates), which only
the scheduler flow decides, and a taskflow flow is fixed once compiled.

Each step's flow detail is recorded as every volflow flow run is
(:func:`volflow.persistence.new_detail`): taskflow's factory details,
naming a function of :mod:`volflow.flows.factories`, and the store and
request context as JSON, so that any conductor on any host rebuilds and
resumes it after a crash (:func:`volflow.recovery.resume_flow`, the
function ``volflow resume`` runs a flow on with). A step's entry adds its
number, its key and whether it was handed off; by them ``volflow resume``
tells a job's steps from its own runs and leaves them alone: they belong
to the jobboard, whose conductors claim their jobs on Redis and run each
step under the step's flow claim, as resume runs a flow.
"""

from oslo_utils import uuidutils
from taskflow import states

from volflow.flows import common
from volflow.flows.scheduler import create_volume as scheduler_flows
from volflow import persistence
from volflow.volume import backends

META = persistence.META
#: Flow states after which a step never runs again.
FINISHED = (states.SUCCESS, states.REVERTED, states.FAILURE)
_SCHEDULER = 'scheduler'
_MANAGER = 'manager'


class Step:
    """One step of a job: which flow, how to rebuild it, its store.

    :param key: what the step stands for - the volume, the kind, the
        scheduling attempt (and the backend) - as :func:`volflow.
        persistence.flow_uuid` takes it: a job posted for a key already
        posted is a duplicate (a cast sent again by a resumed flow).
    """

    def __init__(self, kind, volume_id, context, factory_kwargs, store,
                 key):
        self.kind = kind
        self.volume_id = volume_id
        self.context = context
        self.factory_kwargs = factory_kwargs
        self.store = store
        self.key = key

    @property
    def backend(self):
        """The backend a manager step creates on; None for scheduling."""
        return self.factory_kwargs.get('backend')

    @property
    def factory(self):
        return common.FACTORIES[self.kind]

    @property
    def book_uuid(self):
        """The uuid of the logbook of a job posted for this step."""
        return persistence.flow_uuid(self.volume_id, f'job/{self.key}')

    def flow_detail(self, index, uuid=None, handed_off=False):
        """A new flow detail for this step, number ``index`` of its job.

        ``uuid``: reuse the flow detail of a step that never ran.
        ``handed_off``: the step is not run in this job but posted as a
        job of its own, for a conductor of its backend.
        """
        return persistence.new_detail(
            f'volume-create-{self.kind}-{index}',
            uuid or uuidutils.generate_uuid(), self.kind, self.volume_id,
            self.factory, self.factory_kwargs, self.store, self.context,
            step=index, key=self.key, handed_off=handed_off)

    @classmethod
    def from_detail(cls, flow_detail):
        """The step a flow detail of :meth:`flow_detail` stands for."""
        info = flow_detail.meta[META]
        return cls(info['kind'], info['volume_id'], info['context'],
                   flow_detail.meta['factory']['kwargs'], info['store'],
                   info['key'])


def scheduler_step(ctxt, volume, snapshot_id=None, image_id=None,
                   request_spec=None, filter_properties=None):
    """The step the scheduler rpcapi's ``create_volume`` stands for."""
    store = {
        'raw_request_spec': request_spec,
        'filter_properties': filter_properties or {},
        'volume': volume,
        'snapshot_id': snapshot_id,
        'image_id': image_id,
    }
    key = f'scheduler/{scheduler_flows.attempt(filter_properties)}'
    return Step(_SCHEDULER, volume['id'], persistence.context_dict(ctxt),
                {}, store, key)


def manager_step(ctxt, volume, request_spec, filter_properties,
                 allow_reschedule=True):
    """The step the volume rpcapi's ``create_volume`` stands for.

    As the manager flow's ``get_flow`` decides: a failure reschedules only
    when allowed and the scheduler keeps retry bookkeeping. The flow runs
    with an admin copy of the context, as the volume manager's does; the
    user's own is kept to reschedule with.
    """
    filter_properties = filter_properties or {}
    context = persistence.context_dict(ctxt)
    backend = backends.backend_of_host(volume['host'])
    do_reschedule = bool(allow_reschedule and request_spec and
                         filter_properties.get('retry'))
    kwargs = {'backend': backend, 'do_reschedule': do_reschedule,
              'reschedule_context': context}
    store = {'filter_properties': filter_properties,
             'request_spec': request_spec, 'volume': volume}
    key = f'manager/{scheduler_flows.attempt(filter_properties)}/{backend}'
    return Step(_MANAGER, volume['id'],
                persistence.context_dict(ctxt.elevated()), kwargs, store,
                key)


def handed_off(flow_detail):
    """Whether a step was posted as a job of its own instead of run."""
    return bool(((flow_detail.meta or {}).get(META) or {}).get(
        'handed_off'))


def waiting_reason(backend):
    """What a volume shows while its job waits for ``backend``'s turn."""
    return f'waiting for a conductor of backend {backend}'


def index_of(flow_detail):
    """The step number of a flow detail (-1 for a foreign one)."""
    return ((flow_detail.meta or {}).get(META) or {}).get('step', -1)


def steps(book):
    """The job's flow details, in step order."""
    return sorted((fd for fd in book if index_of(fd) >= 0), key=index_of)


def volume_id(book):
    """The volume the job creates (from its first step), or None."""
    for detail in steps(book):
        return detail.meta[META].get('volume_id')
    return None
