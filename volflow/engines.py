"""How volflow loads and runs a flow: record, claim, load, track, run.

A create flow's ``get_flow`` loads its engine itself, with
``taskflow.engines.load``, as Cinder's does; this module gives it the
steps around that load:

1. :func:`record` records the run in taskflow's persistence, then claims
   it for this process (record first, claim second), and says where
   taskflow is to record its progress: a flow detail and a backend
   (:class:`Recorded`) - or none, for a run kept in memory, or a
   duplicate: a run recorded before, or claimed by another process;
2. ``taskflow.engines.load(flow, store=..., engine=..., backend=...,
   flow_detail=..., **options)``, in the flow module, with
   :func:`engine_options`;
3. :func:`track` gives a recorded engine its store (as transient values)
   and ties the claim to the engine: :func:`run_engine` drops it when the
   run ends, and it is dropped if the engine is garbage-collected unrun.

:func:`run_engine` runs an engine under the log listener of
:mod:`volflow.flow_utils` unless it is a duplicate, then drops the claim.
It calls nothing above it when the run ends: what a flow sends on, its
tasks send while it runs, through the rpc apis injected into them; a
receiver that must start after its sender's end asks :func:`wait_ended`.
:func:`load_recorded` loads a flow recorded before, for
:func:`volflow.recovery.resume_flow`, which holds its claim itself
(:func:`adopt`). :func:`load_engine` loads any other flow, in memory.

**A loaded engine is a recorded request**: run it, or resume will. The
in-process rpc relies on it - a cast loads the receiving flow at once and
runs it on the executor - so that no request is lost between two flows.
"""

import contextlib
import threading
import weakref

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils
import taskflow.engines
from taskflow.engines import base as engine_base
from taskflow import exceptions as taskflow_exceptions
from taskflow import flow as taskflow_flow
from taskflow.persistence import models
from taskflow import retry
from taskflow import states
from taskflow import task
from taskflow.utils import misc

from volflow import context as volflow_context
from volflow import executor
from volflow import flow_utils
from volflow import persistence
from volflow import timing
from volflow import tracing

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

_RUNS = weakref.WeakKeyDictionary()  # engine -> _Run
_LOCK = threading.Lock()
_UNDER_WAY = {}  # flow uuid -> an Event set when its run here has ended


class _Run:
    """How :func:`_claimed` treats one tracked engine.

    ``uuid``: the flow's (:func:`wait_ended` waits for it), or None.
    ``release``: drops the claim taken at load; it also runs if the engine
    is garbage-collected unrun. None: no claim of ours (a duplicate, a run
    in memory, or one the caller holds).
    """

    def __init__(self, flow_uuid, duplicate=False, release=None):
        self.uuid = flow_uuid
        self.duplicate = duplicate
        self.release = release


def engine_options(conf=None, engine=None, **options):
    """``(engine type, options)`` every volflow engine is loaded with.

    A parallel engine always gets the process-wide executor: taskflow's
    parallel engine building an executor of its own spends about a second
    per run waiting on its idle workers.

    ``defer_reverts``: a taskflow retry exhausted inside a subflow then
    reverts the whole flow, outer tasks included, instead of leaving
    them done (taskflow's default reverts only the subflow, which would
    keep a quota reservation made outside it for ever). volflow's flows
    use no retry today - rescheduling is Cinder's OnFailureRescheduleTask
    - so this guards the quota tasks against a retry added later.
    """
    conf = conf or CONF
    kind = engine or conf.taskflow.engine
    if kind == 'parallel':
        options.setdefault('executor', executor.get_executor())
    options.setdefault('defer_reverts', True)
    return kind, options


def load_engine(flow, store, conf=None, engine=None, **options):
    """Load ``flow`` in memory with the configured engine type, not run.

    For flows that are not recorded (examples, tests, tools); the create
    flows record theirs (:func:`record`, :func:`track`).

    :param engine: the engine type (default: ``[taskflow] engine``).
    """
    kind, options = engine_options(conf, engine, **options)
    return taskflow.engines.load(flow, store=store, engine=kind, **options)


def run_engine(engine, logger=None):
    """Run a loaded engine under the flow_utils ``DynamicLogListener``.

    The first failure is re-raised as itself (taskflow wraps several
    failures into ``WrappedFailure``; the first cause is what the user
    needs to see).

    A recorded run was claimed before it was loaded (:func:`record`);
    :func:`_claimed` skips a duplicate - a flow another process is
    running or has run - and drops the claim when the run ends.

    :returns: whether the flow ran.
    """
    with _claimed(engine) as claimed:
        if not claimed:
            return False
        _run_listened(engine, logger)
    return True


def _request_context(engine):
    """The request context in the engine's store, if it has one."""
    try:
        return engine.storage.fetch('context')
    except taskflow_exceptions.NotFound:
        return None


def _run_listened(engine, logger):
    tracing.prepare(engine)
    listeners = [flow_utils.DynamicLogListener(engine, logger=logger)]
    traced = tracing.listener(engine)
    if traced is not None:
        listeners.append(traced)
    timings = timing.collector()
    if timings is not None:
        listeners.append(timing.TimingListener(engine, timings))
    with contextlib.ExitStack() as stack:
        # Every line the run logs, here and in the executor's workers,
        # names the request the flow works for.
        stack.enter_context(volflow_context.acting(
            _request_context(engine) or volflow_context.current()))
        for listener in listeners:
            stack.enter_context(listener)
        try:
            engine.run()
        except taskflow_exceptions.WrappedFailure as wrapped:
            next(iter(wrapped)).reraise()


class Recorded:
    """A flow run as :func:`record` left it, for ``taskflow.engines.load``.

    ``flow_detail`` and ``backend``: where taskflow records the run's
    progress; both None for a run kept in memory (and for a duplicate).

    ``store``: what ``taskflow.engines.load`` is to inject. A run in
    memory gets its whole store so, as in Cinder. A recorded run gets
    None: its store is in its flow detail's meta already, and holds the
    request context, which taskflow's SQL backend cannot serialise, so
    :func:`track` injects it as transient values instead - a real
    context for the tasks, and no write of its own.

    ``duplicate``: the run was recorded before, or claimed by another
    process as soon as it was recorded; its engine is never run.
    """

    def __init__(self, store, flow_uuid=None, flow_detail=None,
                 backend=None, db_api=None, duplicate=False):
        self.flow_uuid = flow_uuid
        self.flow_detail = flow_detail
        self.backend = backend
        self.db_api = db_api
        self.duplicate = duplicate
        self._store = store

    @property
    def store(self):
        """The store for ``taskflow.engines.load``; None once recorded."""
        return self._store if self.flow_detail is None else None


def record(flow: taskflow_flow.Flow, store: dict,
           run: persistence.Record | None, conf=None) -> Recorded:
    """Record a run of ``flow``, then claim it: step 1 of a create flow.

    Without ``run``, or with ``[taskflow] persistence_enabled`` off, the
    run is kept in memory, as taskflow does by default.

    Otherwise the flow detail - with an atom detail per task, as the
    engine would add them - is recorded, in one transaction, then claimed
    for this process: from then on a crash cannot lose the run
    (``volflow resume`` runs it), and no other process runs it while this
    one may. A flow recorded before, or claimed by a live process between
    the record and the claim (a ``volflow resume`` that found it), makes
    this run a duplicate: :func:`run_engine` then drops it, the run being
    the other's to make.

    Record first, claim second: a claim without a record would be a
    request nobody can see. A process killed between the two leaves a
    recorded flow that resume finds; one killed between a claim and a
    record (the other order) would leave a claim that makes the next
    sender of the same request take it for a duplicate, and drop it.

    :param run: a :class:`volflow.persistence.Record`, or None.
    :returns: a :class:`Recorded`.
    """
    conf = conf or CONF
    if run is None or not conf.taskflow.persistence_enabled:
        return Recorded(store, run and run.uuid)
    backend = run.backend or persistence.get_backend(run.db_api, conf)
    detail = run.detail(flow.name, store)
    _add_atom_details(detail, flow)
    if not persistence.create_detail(backend.get_connection(), detail,
                                     run.kind):
        LOG.debug('Flow %s was recorded before: this one is a duplicate.',
                  run.uuid)
        return Recorded(store, run.uuid, duplicate=True)
    if not _claim_recorded(run.db_api, conf, run.uuid):
        LOG.debug('Flow %s was claimed as soon as it was recorded: it '
                  'runs elsewhere.', run.uuid)
        return Recorded(store, run.uuid, duplicate=True)
    return Recorded(store, run.uuid, detail, backend, run.db_api)


def track(engine: engine_base.Engine,
          recorded: Recorded) -> engine_base.Engine:
    """Tie a loaded engine to its record and claim: step 3; the engine.

    A recorded engine gets its store as transient values
    (:class:`Recorded`); its claim is dropped when :func:`run_engine`
    ends its run, or when the engine is garbage-collected unrun. A
    duplicate is marked so, for :func:`run_engine` to skip it.
    """
    if recorded.duplicate:
        _RUNS[engine] = _Run(recorded.flow_uuid, duplicate=True)
    elif recorded.flow_detail is not None:
        engine.storage.inject(recorded._store, transient=True)
        _RUNS[engine] = _Run(recorded.flow_uuid, release=weakref.finalize(
            engine, persistence.release, recorded.db_api,
            recorded.flow_uuid))
    elif recorded.flow_uuid is not None:
        _RUNS[engine] = _Run(recorded.flow_uuid)
    return engine


def load_recorded(flow_detail, backend, conf=None):
    """Rebuild a recorded flow and load it with its state, not yet run.

    The flow is rebuilt from the detail's factory details (taskflow's
    ``load_from_detail``) and given its recorded store, with a real
    context, as transient values: it is in the meta already, and so costs
    no write of its own. :func:`volflow.recovery.resume_flow` - for
    ``volflow resume``, the services starting and the conductors - runs
    what it loads so, holding the flow's claim in the database
    (``volflow trace`` loads one only to read its tasks).

    The serial engine: the flows are linear, and a parallel one would
    gain nothing.

    :raises ImportError, ValueError: when the flow cannot be rebuilt.
    """
    kind, options = engine_options(conf, 'serial')
    engine = taskflow.engines.load_from_detail(
        flow_detail, backend=backend, engine=kind, **options)
    engine.storage.inject(persistence.stored_store(flow_detail.meta),
                          transient=True)
    return engine


def _add_atom_details(detail, flow):
    """Give a new flow detail the atom details its engine would add.

    taskflow's storage adds them when the engine is prepared, in a write
    of their own (a transaction on the SQL backend: the flow detail's row
    and an insert per atom); made here, they are recorded with the flow
    detail, in its transaction, and the storage finds them by name, as
    it finds those of a resumed flow. They are what the storage makes: a
    new uuid, ``PENDING``, the atom's version.
    """
    for atom in _atoms(flow):
        kind = (models.TaskDetail if isinstance(atom, task.Task) else
                models.RetryDetail if isinstance(atom, retry.Retry) else
                None)
        if kind is None:
            continue  # left to the storage
        atom_detail = kind(atom.name, uuidutils.generate_uuid())
        atom_detail.state = states.PENDING
        version = misc.get_version_string(atom)
        if version is not None:
            atom_detail.version = version
        detail.add(atom_detail)


def _atoms(flow):
    """Every atom of ``flow``: its retry, its tasks, nested flows' too."""
    if flow.retry is not None:
        yield flow.retry
    for node in flow:
        if isinstance(node, taskflow_flow.Flow):
            yield from _atoms(node)
        else:
            yield node


def _claim_recorded(db_api, conf, flow_uuid):
    """Claim a flow this process has just recorded.

    Only a process that found the record can hold a claim on it already:
    a live one runs it; the claim of a dead one is taken over.
    """
    if persistence.claim(db_api, conf, flow_uuid):
        return True
    return persistence.claim(db_api, conf, flow_uuid,
                             persistence.dead_owners(db_api))


def adopt(engine):
    """Mark a resumed engine as run under a claim its caller holds."""
    _RUNS[engine] = _Run(engine.storage.flow_uuid)


@contextlib.contextmanager
def _claimed(engine):
    """Whether this process may run ``engine`` now.

    An engine loaded without persistence, or adopted by resume, always
    may; a recorded one unless it is a duplicate. The claim taken by
    :func:`record` is dropped when the block ends; then the run has
    ended, for :func:`wait_ended`.
    """
    run = _RUNS.pop(engine, None)
    if run is not None and run.duplicate:
        yield False
        return
    ended = _under_way(run.uuid) if run is not None else None
    try:
        yield True
    finally:
        try:
            if run is not None and run.release is not None:
                run.release()
        finally:
            if ended is not None:
                with _LOCK:
                    if _UNDER_WAY.get(run.uuid) is ended:
                        del _UNDER_WAY[run.uuid]
                ended.set()


def _under_way(flow_uuid):
    if flow_uuid is None:
        return None
    ended = threading.Event()
    with _LOCK:
        _UNDER_WAY[flow_uuid] = ended
    return ended


def wait_ended(flow_uuid: str, timeout: float | None = None) -> bool:
    """Wait until no run of flow ``flow_uuid`` is under way here.

    A run has ended once its final state is recorded and its claim
    dropped (:func:`run_engine`). The in-process rpc runs a receiving
    flow so, once the flow that sent it has ended: it asks, downwards;
    nothing here calls it back.

    :returns: False if ``timeout`` passed first.
    """
    with _LOCK:
        ended = _UNDER_WAY.get(flow_uuid)
    return ended is None or ended.wait(timeout)
