"""Crash-safe flows: every flow run records its progress with taskflow.

**What is recorded.** Each run of the API, scheduler or manager flow is a
flow detail (in a logbook of its own, same uuid) of the persistence
backend: taskflow's SQLAlchemy backend on ``[taskflow]
persistence_connection``, by default the volflow database itself, or
taskflow's memory backend for the in-memory database
(:func:`get_backend`). taskflow records each task's state and result as
it goes. The flow detail's ``meta`` holds what another process needs to
rebuild and finish the run:

* ``factory``, in taskflow's own format (``taskflow.engines.
  flow_from_detail`` reads it): a function of :mod:`volflow.flows.
  factories` and its JSON arguments. It rebuilds the flow with
  collaborators - database, drivers, rpc apis - made from configuration.
* ``volflow``: the kind of flow, the volume, when the run was recorded,
  the flow's store and the request context.

**The store and the context.** The request context is an oslo.context
object, which taskflow's SQL backend cannot serialise (oslo.
serialization's jsonutils raises ``ValueError``). So the store is written
once into ``meta``, with the context as ``to_dict()``, in the transaction
that creates the flow detail, and every engine - the first one, and one
resuming the run elsewhere - gets the store injected *transiently*, with
a real :class:`~volflow.context.RequestContext` (rebuilt with
``RequestContext.from_dict``). Tasks always see a real context, and the
store costs no write of its own. What went through JSON comes back as
JSON: datetimes as ISO strings.

**Flow uuids** derive from the volume and the step (:func:`flow_uuid`):
the API flow, scheduling attempt *n*, manager attempt *n* on backend *b*.
A cast sent twice - by a VolumeCastTask run again after a crash, by a
reschedule run again - finds the flow detail the first one recorded and
is dropped; the run itself belongs to whoever holds its claim.

**Claims** (:mod:`volflow.persistence._claims`): a process claims a flow
in the database before it records it, and holds the claim until the run
ends, so that ``volflow resume`` elsewhere leaves it alone; resume claims
before it resumes (a dead process's claim is taken over), so no two
processes ever run the same flow at once.

**A loaded engine is a recorded request**: run it, or resume will. The
in-process rpc relies on it - a cast loads the receiving flow at once and
runs it later - so that no request is lost between two flows.
"""

import contextlib
import uuid
import weakref

from oslo_config import cfg
from oslo_log import log as logging
from oslo_serialization import jsonutils
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa
import taskflow.engines
from taskflow import exceptions as taskflow_exceptions
from taskflow.persistence import models
from taskflow import states

from volflow import db
from volflow.persistence import _backend
from volflow.persistence import _claims

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

#: Flow states that need nothing more.
FINISHED = frozenset([states.SUCCESS, states.REVERTED])
#: Key of volflow's entry in a flow detail's meta (the jobboard's steps,
#: :mod:`volflow.flows.jobs`, keep theirs under ``volflow``).
META = 'volflow_run'

_NAMESPACE = uuid.UUID('0b6c8a52-0f3e-4f07-9d1e-57c5a3c1e8b2')
_BACKENDS = weakref.WeakKeyDictionary()  # db api -> backend
_URL_BACKENDS = {}  # persistence_connection -> backend
_RUNS = weakref.WeakKeyDictionary()  # engine -> _Run


def flow_uuid(volume_id, step):
    """The uuid of the flow detail of ``step`` of creating ``volume_id``."""
    return str(uuid.uuid5(_NAMESPACE, f'{volume_id}/{step}'))


class Record:
    """What to record about one flow run.

    :param kind: ``api``, ``scheduler`` or ``manager``.
    :param volume_id: the volume being created.
    :param factory: import path of the function that rebuilds the flow.
    :param factory_kwargs: its keyword arguments (JSON-serialisable).
    :param db_api: the database of the flow, which holds the claims.
    :param uuid: the flow detail's uuid (:func:`flow_uuid`).
    :param backend: the persistence backend (default: :func:`get_backend`
        of ``db_api``).
    """

    def __init__(self, kind, volume_id, factory, factory_kwargs, db_api,
                 uuid=None, backend=None):
        self.kind = kind
        self.volume_id = volume_id
        self.factory = factory
        self.factory_kwargs = factory_kwargs
        self.db_api = db_api
        self.uuid = uuid or uuidutils.generate_uuid()
        self.backend = backend


class _Run:
    """How :func:`claimed` treats one loaded engine.

    ``release``: drops the claim taken at load; it also runs if the engine
    is garbage-collected unrun. None: no claim of ours (a duplicate, or
    one the caller holds).
    """

    def __init__(self, flow_uuid, duplicate=False, release=None):
        self.uuid = flow_uuid
        self.duplicate = duplicate
        self.release = release


def _is_memory(url):
    if url.startswith('memory://'):
        return True
    parsed = sa.engine.make_url(url)
    return parsed.get_backend_name() == 'sqlite' and parsed.database in (
        None, '', ':memory:')


def get_backend(db_api=None, conf=None):
    """The persistence backend for flows on ``db_api``, one per process.

    For a SQL database on disk or on a server: ``[taskflow]
    persistence_connection`` when set, else that database itself. For
    anything else - the in-memory database, an embedder's own - the
    memory backend, one per database: nothing of such a database outlives
    its process, so neither should the records of its flows.
    """
    conf = conf or CONF
    db_api = db_api or db.get_api(conf=conf)
    backend = _BACKENDS.get(db_api)
    if backend is not None:
        return backend
    engine = getattr(db_api, 'engine', None)
    db_url = (engine.url.render_as_string(hide_password=False)
              if isinstance(engine, sa.engine.Engine) else None)
    url = conf.taskflow.persistence_connection or db_url
    if db_url is None or _is_memory(db_url) or _is_memory(url):
        backend = _backend.MemoryBackend()
    elif url == db_url:
        backend = _backend.SQLAlchemyBackend(url)
    else:
        backend = _URL_BACKENDS.get(url)
        if backend is None:
            backend = _URL_BACKENDS.setdefault(
                url, _backend.SQLAlchemyBackend(url))
    return _BACKENDS.setdefault(db_api, backend)


def reset():
    """Close and forget every backend (tests that switch databases)."""
    backends = list(_BACKENDS.values()) + list(_URL_BACKENDS.values())
    _BACKENDS.clear()
    _URL_BACKENDS.clear()
    for backend in backends:
        backend.close()


def context_dict(ctxt):
    """A request context as recorded: ``to_dict()`` without the token.

    Nothing a resumed flow does needs the auth token, and a credential
    should not rest in a database.
    """
    if ctxt is None:
        return None
    values = dict(ctxt.to_dict())
    values.pop('auth_token', None)
    return values


def stored_context(meta):
    """The request context a flow detail's meta recorded."""
    # Imported here: volflow.context imports nothing of volflow, but keep
    # this module's import light for the command line.
    from volflow import context as volflow_context
    values = meta[META]['context']
    return values and volflow_context.RequestContext.from_dict(values)


def stored_store(meta):
    """The store a flow detail's meta recorded, with a real context."""
    store = dict(meta[META]['store'])
    store['context'] = stored_context(meta)
    return store


def _new_detail(flow, store, record):
    detail = models.FlowDetail(flow.name, record.uuid)
    detail.state = states.PENDING
    persisted = jsonutils.to_primitive(
        {k: v for k, v in store.items() if k != 'context'},
        convert_datetime=True)
    detail.meta = {
        'factory': {'name': record.factory, 'args': [],
                    'kwargs': record.factory_kwargs},
        META: {'kind': record.kind, 'volume_id': record.volume_id,
               'created': timeutils.utcnow().isoformat(),
               'store': persisted,
               'context': context_dict(store.get('context'))},
    }
    return detail


def existing(conn, flow_uuid, lazy=False):
    """The recorded flow detail of ``flow_uuid``, or None."""
    try:
        return conn.get_flow_details(flow_uuid, lazy=lazy)
    except taskflow_exceptions.NotFound:
        return None


def _create(conn, detail, kind):
    """Record a new flow detail (in a logbook of its own); False if known.

    One transaction on the SQL backend (an insert that fails if the uuid
    is taken); a check and a save on the memory backend.
    """
    book = models.LogBook(f"{kind}:{detail.meta[META]['volume_id']}",
                          uuid=detail.uuid)
    book.add(detail)
    create = getattr(conn, 'create_logbook', None)
    if create is not None:
        return create(book)
    if existing(conn, detail.uuid, lazy=True) is not None:
        return False
    conn.save_logbook(book)
    return True


def load(flow, store, conf, record, engine, **options):
    """Load ``flow`` into an engine that records its progress.

    Without a record, or with ``[taskflow] persistence_enabled`` off, the
    engine is loaded as taskflow does by default (in memory).

    Otherwise the flow is recorded, then claimed for this process, before
    the engine is returned: from then on a crash cannot lose it (``volflow
    resume`` runs it), and no other process runs it while this one may.
    The claim lasts until the run ends (or the engine is dropped unrun).
    A flow recorded before, or claimed by a live process between the
    record and the claim (a ``volflow resume`` that found it), makes this
    load a duplicate: :func:`claimed` then drops the run, which is the
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
    backend = record.backend or get_backend(record.db_api, conf)
    detail = _new_detail(flow, store, record)
    if not _create(backend.get_connection(), detail, record.kind):
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
        loaded, _claims.release, record.db_api, detail.uuid))
    return loaded


def _claim_recorded(db_api, conf, flow_uuid):
    """Claim a flow this process has just recorded.

    Only a process that found the record can hold a claim on it already:
    a live one runs it; the claim of a dead one is taken over.
    """
    if _claims.claim(db_api, conf, flow_uuid):
        return True
    return _claims.claim(db_api, conf, flow_uuid,
                         _claims.dead_owners(db_api))


def adopt(engine):
    """Mark a resumed engine as run under a claim its caller holds."""
    _RUNS[engine] = _Run(engine.storage.flow_uuid)


@contextlib.contextmanager
def claimed(engine):
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


def resume_all(conf=None, db_api=None):
    """Finish or revert every flow a crash left unfinished.

    See :mod:`volflow.persistence._resume`. Returns a summary dict.
    """
    from volflow.persistence import _resume
    return _resume.resume_all(conf or CONF, db_api)


def cleanup(conf=None, db_api=None):
    """Remove the records of flows finished ``logbook_retention`` ago.

    :func:`resume_all` does it, and a process holding claims does it
    every ``logbook_retention`` seconds (at most once a minute).

    :returns: how many records were removed.
    """
    from volflow.persistence import _resume
    conf = conf or CONF
    db_api = db_api or db.get_api(conf=conf)
    return _resume.cleanup(db_api, get_backend(db_api, conf), conf)


def resume_backend(manager):
    """Resume the manager flows of one backend (a volume service starts).

    :returns: the ids of the volumes whose flows were resumed.
    """
    from volflow.persistence import _resume
    return _resume.resume_backend(manager)
