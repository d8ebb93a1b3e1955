"""Who runs a persisted flow: this process's claims, kept alive.

A process claims a flow in the database before it runs it (see
:meth:`volflow.db.api.API.flow_claim`) and drops the claim when the run
ends. A claim carries an expiry, renewed by one daemon thread per process
every third of ``[taskflow] flow_claim_expiry`` while the process holds
claims: a long flow stays claimed however long it runs, and the claims of
a process that died expire soon after. On the same host a dead owner is
recognised at once (its pid is gone), so ``volflow resume`` right after a
crash does not wait for the expiry. The same thread removes old records
(:func:`cleanup`) every ``logbook_retention``
seconds, at most once a minute, in a long-running process.

Where the records and the claims share a database, the SQL persistence
backend (:mod:`volflow.persistence._sql`) writes a flow's claim in the
transaction that records the flow, and drops it in the one that records
its final state: :func:`claim` and :func:`release` then have nothing left
to write (two transactions fewer per flow).

The owner name is ``<host>:<pid>:<random>``: the random part keeps a
later process that reuses the pid from being taken for the dead one (it
is then only thought alive, which merely delays a takeover).
"""

import datetime
import os
import socket
import threading
import time
import weakref

from oslo_log import log as logging
from oslo_utils import timeutils

from volflow import context as volflow_context
from volflow.persistence import _backend
from volflow.persistence import _held

LOG = logging.getLogger(__name__)

_LOCK = _held.LOCK
_HELD = _held.HELD
_THREAD = None

owner = _held.owner
_expire = _held.expire


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_owners(db_api):
    """Owners of claims that are processes of this host no longer alive."""
    host = socket.gethostname()
    dead = set()
    for claim in db_api.flow_claim_get_all(
            volflow_context.get_admin_context()):
        name, _sep, rest = claim['owner'].rpartition(':')
        claim_host, _sep, pid = name.rpartition(':')
        if claim_host == host and pid.isdigit() and not _pid_alive(
                int(pid)):
            dead.add(claim['owner'])
    return dead


def claim(db_api, conf, flow_uuid, dead=()):
    """Claim a flow for this process; whether it is now ours."""
    with _LOCK:
        recorded = flow_uuid in _held.RECORDED
        _held.RECORDED.discard(flow_uuid)
    if not recorded and not db_api.flow_claim(
            volflow_context.get_admin_context(), flow_uuid, owner(),
            _expire(conf), dead_owners=dead):
        return False
    with _LOCK:
        _HELD[(id(db_api), flow_uuid)] = db_api
    _ensure_heartbeat(conf)
    return True


def release(db_api, flow_uuid):
    """Drop this process's claim on a flow."""
    with _LOCK:
        _HELD.pop((id(db_api), flow_uuid), None)
        dropped = flow_uuid in _held.DROPPED
        _held.DROPPED.discard(flow_uuid)
    if dropped:
        return
    try:
        db_api.flow_claim_release(volflow_context.get_admin_context(),
                                  flow_uuid, owner())
    except Exception:  # it expires anyway
        LOG.exception('Could not release the claim on flow %s', flow_uuid)


def _ensure_heartbeat(conf):
    global _THREAD
    with _LOCK:
        if _THREAD is not None and _THREAD.is_alive():
            return
        _THREAD = threading.Thread(target=_heartbeat, args=(conf,),
                                   name='volflow-claims', daemon=True)
        _THREAD.start()


def _heartbeat(conf):
    """Renew this process's claims, for as long as the process lives."""
    seen = weakref.WeakValueDictionary()  # every db api claimed on
    last_cleanup = time.monotonic()
    while True:
        time.sleep(conf.taskflow.flow_claim_expiry / 3.0)
        with _LOCK:
            apis = {id(api): api for api in _HELD.values()}
        seen.update(apis)
        for db_api in apis.values():
            try:
                db_api.flow_claims_renew(
                    volflow_context.get_admin_context(), owner(),
                    _expire(conf))
            except Exception:
                LOG.exception('Could not renew the claims of %s', owner())
        every = max(conf.taskflow.logbook_retention, 60)
        if time.monotonic() - last_cleanup >= every:
            last_cleanup = time.monotonic()
            _cleanup(conf, list(seen.values()))


def _cleanup(conf, db_apis):
    for db_api in db_apis:
        try:
            cleanup(db_api, _backend.get_backend(db_api, conf), conf)
        except Exception:
            LOG.exception('Could not remove old flow records.')


def cleanup(db_api, backend, conf):
    """Remove old finished records; forget commits no flow needs.

    A remembered commit matters while a flow that made it may run again,
    so commits are kept as long as the oldest unfinished flow. A claim
    left on a removed record (its process died between the end of the
    run and dropping the claim) is taken over and dropped.

    :returns: how many records were removed.
    """
    admin = volflow_context.get_admin_context()
    claimed = {c['flow_uuid'] for c in db_api.flow_claim_get_all(admin)}
    dead = dead_owners(db_api) if claimed else set()
    now = timeutils.utcnow()
    cutoff = now - datetime.timedelta(
        seconds=conf.taskflow.logbook_retention)
    oldest = cutoff
    removed = 0
    conn = backend.get_connection()
    for flow_uuid, state, meta in _backend.details(backend):
        info = _backend.ours(meta)
        if not info:
            continue
        created = datetime.datetime.fromisoformat(info['created'])
        done = state in _backend.FINISHED or info.get('abandoned')
        if done and created < cutoff:
            conn.destroy_logbook(flow_uuid)
            removed += 1
            if (flow_uuid in claimed and
                    claim(db_api, conf, flow_uuid, dead)):
                release(db_api, flow_uuid)
        elif not done:
            oldest = min(oldest, created)
    db_api.reservation_purge_committed(admin, oldest)
    return removed
