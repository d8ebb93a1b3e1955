"""Crash-safe flows: every flow run records its progress with taskflow.

**What is recorded.** Each run of the API, scheduler or manager flow is a
flow detail (in a logbook of its own, same uuid) of the persistence
backend: taskflow's SQLAlchemy backend on ``[taskflow]
persistence_connection``, by default the volflow database itself, or
taskflow's memory backend for the in-memory database
(:func:`get_backend`, in :mod:`volflow.persistence._backend`). taskflow
records each task's state and result as it goes. The flow detail's
``meta`` holds what another process needs to rebuild and finish the run,
in one format (:func:`new_detail`) for the runs of this module and the
steps of a jobboard job (:mod:`volflow.flows.jobs`):

* ``factory``: taskflow's own factory details, written by ``taskflow.
  engines.helpers.save_factory_details`` (which checks that the name
  imports) and read by ``taskflow.engines.load_from_detail``: a
  function of :mod:`volflow.flows.factories` and its JSON arguments. It
  rebuilds the flow with collaborators - database, drivers, rpc apis -
  made from configuration.
* ``volflow``: the kind of flow, the volume, when it was recorded, the
  flow's store and the request context; a job's step adds its number,
  its key and whether it was handed off.

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
in the database before it runs it, and holds the claim until the run
ends, so that ``volflow resume`` elsewhere leaves it alone; resume claims
before it resumes (a dead process's claim is taken over), so no two
processes ever run the same flow at once. Recording and claiming a flow
before it is loaded is :func:`volflow.engines.record`'s; finishing the
flows a crash left is :mod:`volflow.recovery`'s.
"""

import uuid

from oslo_config import cfg
from oslo_serialization import jsonutils
from oslo_utils import timeutils
from oslo_utils import uuidutils
from taskflow.engines import helpers as engine_helpers
from taskflow import exceptions as taskflow_exceptions
from taskflow.persistence import models
from taskflow import states

from volflow import context as volflow_context
from volflow import db
from volflow.persistence import _backend
from volflow.persistence import _claims

CONF = cfg.CONF

FINISHED = _backend.FINISHED
META = _backend.META
get_backend = _backend.get_backend
reset = _backend.reset
details = _backend.details
ours = _backend.ours
claim = _claims.claim
release = _claims.release
dead_owners = _claims.dead_owners

_NAMESPACE = uuid.UUID('0b6c8a52-0f3e-4f07-9d1e-57c5a3c1e8b2')


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

    def detail(self, flow_name, store):
        """The flow detail of this run of a flow loaded with ``store``."""
        values = {k: v for k, v in store.items() if k != 'context'}
        detail = new_detail(flow_name, self.uuid, self.kind, self.volume_id,
                            self.factory, self.factory_kwargs, values,
                            context_dict(store.get('context')))
        detail.state = states.PENDING
        return detail


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


def new_detail(name, detail_uuid, kind, volume_id, factory, factory_kwargs,
               store, context, **extra):
    """A flow detail saying how to rebuild, load and resume its flow.

    :param store: the flow's store but the context: JSON-ready values, or
        values that become so as oslo.serialization's ``to_primitive``
        makes them (datetimes as ISO strings).
    :param context: the request context as a dict (:func:`context_dict`).
    :param extra: more of volflow's entry (a job step's number and key).
    """
    detail = models.FlowDetail(name, detail_uuid)
    engine_helpers.save_factory_details(detail, factory, [], factory_kwargs)
    detail.meta[META] = dict(
        extra, kind=kind, volume_id=volume_id,
        created=timeutils.utcnow().isoformat(), context=context,
        store=jsonutils.to_primitive(store, convert_datetime=True))
    return detail


def stored_store(meta):
    """The store a flow detail's meta recorded, with a real context.

    Every engine of a recorded flow - the first one and every one resuming
    it - is given this store as transient values
    (:func:`volflow.engines.load_recorded`).
    """
    info = meta[META]
    store = dict(info['store'])
    store['context'] = info['context'] and (
        volflow_context.RequestContext.from_dict(info['context']))
    return store


def existing(conn, flow_uuid, lazy=False):
    """The recorded flow detail of ``flow_uuid``, or None."""
    try:
        return conn.get_flow_details(flow_uuid, lazy=lazy)
    except taskflow_exceptions.NotFound:
        return None


def create_detail(conn, detail, kind):
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


def cleanup(conf=None, db_api=None):
    """Remove the records of flows finished ``logbook_retention`` ago.

    :func:`volflow.recovery.resume_all` does it, and a process holding
    claims does it every ``logbook_retention`` seconds (at most once a
    minute).

    :returns: how many records were removed.
    """
    conf = conf or CONF
    db_api = db_api or db.get_api(conf=conf)
    return _claims.cleanup(db_api, get_backend(db_api, conf), conf)
