"""How volflow loads and runs a flow: engines, records, claims, after-run.

:func:`load_engine` loads a flow with the configured engine type
(:func:`engine_options`) and, given a :class:`volflow.persistence.Record`
and with ``[taskflow] persistence_enabled`` on, records it and claims it
for this process before returning the engine (record first, claim second;
see :func:`_load`). :func:`run_engine` runs it under the log listener of
:mod:`volflow.flow_utils` unless it is a duplicate, then drops the claim
and calls what :func:`after_run` deferred. :func:`load_recorded` loads a
flow recorded before, for ``volflow resume`` and the conductors, which
hold its claim themselves (:func:`adopt`).

**A loaded engine is a recorded request**: run it, or resume will. The
in-process rpc relies on it - a cast loads the receiving flow at once and
runs it later - so that no request is lost between two flows.
"""

import contextlib
import threading
import weakref

from oslo_config import cfg
from oslo_log import log as logging
from oslo_utils import uuidutils
import taskflow.engines
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

#: ``callbacks``: what :func:`after_run` deferred in this thread's run.
_RUNNING = threading.local()
_RUNS = weakref.WeakKeyDictionary()  # engine -> _Run


class _Run:
    """How :func:`_claimed` treats one loaded engine.

    ``release``: drops the claim taken at load; it also runs if the engine
    is garbage-collected unrun. None: no claim of ours (a duplicate, or
    one the caller holds).
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


def load_engine(flow, store, conf=None, engine=None, record=None,
                **options):
    """Load ``flow`` with the configured engine type, not yet run.

    :param engine: the engine type (default: ``[taskflow] engine``).
    :param record: a :class:`volflow.persistence.Record`: the run's
        progress is then recorded so that it can be resumed.
    """
    conf = conf or CONF
    kind, options = engine_options(conf, engine, **options)
    return _load(flow, store, conf, record, kind, **options)


def run_engine(engine, logger=None):
    """Run a loaded engine under the flow_utils ``DynamicLogListener``.

    The first failure is re-raised as itself (taskflow wraps several
    failures into ``WrappedFailure``; the first cause is what the user
    needs to see).

    A recorded run was claimed when it was loaded; :func:`_claimed`
    skips a duplicate - a flow another process is running or has run -
    and drops the claim when the run ends.

    :returns: whether the flow ran.
    """
    outer = getattr(_RUNNING, 'callbacks', None)
    _RUNNING.callbacks = []
    try:
        with _claimed(engine) as claimed:
            if not claimed:
                return False
            _run_listened(engine, logger)
        return True
    finally:
        callbacks, _RUNNING.callbacks = _RUNNING.callbacks, outer
        for callback in callbacks:
            try:
                callback()
            except Exception:
                LOG.exception('%s failed after its flow ran', callback)


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


def after_run(callback):
    """Call ``callback`` when the flow run in this thread ends.

    At once when no flow runs in this thread. The in-process rpc sends its
    casts so: a message leaves once its sender's flow has ended - its
    results recorded, its claim dropped - as a message leaves once its
    sender's transaction commits, and the receiving flow never races the
    end of the sending one.
    """
    callbacks = getattr(_RUNNING, 'callbacks', None)
    if callbacks is None:
        callback()
    else:
        callbacks.append(callback)


def _load(flow, store, conf, record, engine, **options):
    """Load ``flow`` into an engine that records its progress.

    Without a record, or with ``[taskflow] persistence_enabled`` off, the
    engine is loaded as taskflow does by default (in memory).

    Otherwise the flow is recorded, then claimed for this process, before
    the engine is returned: from then on a crash cannot lose it (``volflow
    resume`` runs it), and no other process runs it while this one may.
    The claim lasts until the run ends (or the engine is dropped unrun).
    A flow recorded before, or claimed by a live process between the
    record and the claim (a ``volflow resume`` that found it), makes this
    load a duplicate: :func:`_claimed` then drops the run, which is the
    other's to make.

    Record first, claim second: a claim without a record would be a
    request nobody can see. A process killed between the two leaves a
    recorded flow that resume finds; one killed between a claim and a
    record (the other order) would leave a claim that makes the next
    sender of the same request take it for a duplicate, and drop it.
    """
    if record is None or not conf.taskflow.persistence_enabled:
        return taskflow.engines.load(flow, store=store, engine=engine,
                                     **options)
    backend = record.backend or persistence.get_backend(record.db_api, conf)
    detail = record.detail(flow.name, store)
    _add_atom_details(detail, flow)
    if not persistence.create_detail(backend.get_connection(), detail,
                                     record.kind):
        LOG.debug('Flow %s was recorded before: this one is a duplicate.',
                  record.uuid)
        detail = None
    elif not _claim_recorded(record.db_api, conf, record.uuid):
        LOG.debug('Flow %s was claimed as soon as it was recorded: it '
                  'runs elsewhere.', record.uuid)
        detail = None
    if detail is None:
        loaded = taskflow.engines.load(flow, store=store, engine=engine,
                                       **options)
        _RUNS[loaded] = _Run(record.uuid, duplicate=True)
        return loaded
    loaded = taskflow.engines.load(flow, flow_detail=detail,
                                   backend=backend, engine=engine,
                                   **options)
    loaded.storage.inject(store, transient=True)
    _RUNS[loaded] = _Run(detail.uuid, release=weakref.finalize(
        loaded, persistence.release, record.db_api, detail.uuid))
    return loaded


def load_recorded(flow_detail, backend, conf=None):
    """Rebuild a recorded flow and load it with its state, not yet run.

    The flow is rebuilt from the detail's factory details (taskflow's
    ``load_from_detail``) and given its recorded store, with a real
    context, as transient values: it is in the meta already, and so costs
    no write of its own. ``volflow resume`` and the conductors load so;
    whoever calls this holds the flow's claim (resume's in the database,
    a conductor's on the board).

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
    may; a recorded one unless it is a duplicate. The claim taken when
    it was loaded is dropped when the block ends.
    """
    run = _RUNS.pop(engine, None)
    if run is not None and run.duplicate:
        yield False
        return
    try:
        yield True
    finally:
        if run is not None and run.release is not None:
            run.release()
