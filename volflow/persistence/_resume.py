"""Finish or revert the flows a crash left unfinished (``volflow resume``).

A recorded flow (:mod:`volflow.persistence`) is unfinished when its state
is neither ``SUCCESS`` nor ``REVERTED``: ``PENDING`` (recorded, never run:
its process died first), ``RUNNING`` or ``REVERTING`` (interrupted), or
``FAILURE`` (a revert failed). Each, oldest first, is

1. claimed, or skipped if another live process holds it (it is running
   there; a dead process's claim is taken over);
2. read again (someone may have finished it in the meantime);
3. rebuilt - ``taskflow.engines.flow_from_detail`` calls the recorded
   factory, which makes the collaborators from configuration - and loaded
   with its recorded state, the store injected with a real context;
4. run: taskflow runs again the task that was running and goes on, or
   reverts if the flow was reverting or a task fails now. Every task is
   idempotent: resume is at-least-once;
5. after a failure, followed by what the services do after one: the
   volume of a failed scheduler flow is set ``error``, that of a failed
   manager flow too unless the flow rescheduled it.

A flow that cannot be rebuilt (a backend no longer configured) or that
ends neither finished nor reverted is given up: what its record shows it
did is compensated where that is possible without its tasks, its volume
is set ``error``, and it is marked so that it is not tried again.

Then expired quota reservations are rolled back, and the records of
flows finished more than ``[taskflow] logbook_retention`` seconds ago are
removed, with the commits remembered for them.
"""

import datetime

from oslo_log import log as logging
from oslo_utils import timeutils
import sqlalchemy as sa
import taskflow.engines
from taskflow import states

from volflow import context as volflow_context
from volflow import db
from volflow import exception
from volflow import flow_utils
from volflow.flows import common
from volflow import persistence
from volflow.persistence import _backend
from volflow.persistence import _claims
from volflow import quota
from volflow.volume import backends

LOG = logging.getLogger(__name__)

META = persistence.META


def _details(backend):
    """``(uuid, state, meta)`` of every recorded flow, atoms not read."""
    if isinstance(backend, _backend.SQLAlchemyBackend):
        table = backend.tables.flowdetails
        with backend.engine.connect() as conn:
            return [(row.uuid, row.state, row.meta or {})
                    for row in conn.execute(sa.select(
                        table.c.uuid, table.c.state, table.c.meta))]
    conn = backend.get_connection()
    return [(fd.uuid, fd.state, fd.meta or {})
            for book in conn.get_logbooks(lazy=True)
            for fd in conn.get_flows_for_book(book.uuid, lazy=True)]


def _ours(meta):
    """volflow's record in a flow detail's meta (None: not volflow's)."""
    info = meta.get(META)
    return info if isinstance(info, dict) and 'kind' in info else None


def _pending(backend):
    """Unfinished flows volflow has not given up on, oldest first."""
    found = []
    for flow_uuid, state, meta in _details(backend):
        info = _ours(meta)
        if (info and state not in persistence.FINISHED and
                not info.get('abandoned')):
            found.append((info['created'], flow_uuid, meta))
    return [(flow_uuid, meta) for _created, flow_uuid, meta in
            sorted(found)]


def _after_failure(db_api, detail, exc):
    """What the scheduler and volume managers do after a failed flow."""
    info = detail.meta[META]
    admin = volflow_context.get_admin_context()
    if info['kind'] == 'scheduler':
        common.error_out(db_api, admin, info['volume_id'],
                         f'Scheduling failed: {common.one_line(exc)}')
    elif info['kind'] == 'manager':
        name = detail.meta['factory']['kwargs']['backend']
        try:
            volume = db_api.volume_get(admin, info['volume_id'])
        except exception.VolumeNotFound:
            return
        if (volume['status'] == 'creating' and volume['host'] and
                backends.backend_of_host(volume['host']) == name):
            common.error_out(
                db_api, admin, volume['id'],
                f"backend '{name}' failed to create the volume: "
                f"{common.one_line(exc)}", host=None)


def _result_of(detail, task):
    """The recorded result of the task class named ``task``, if done."""
    for atom in detail:
        if (atom.name.split(';')[0].endswith(f'.{task}') and
                atom.state == states.SUCCESS):
            return atom.results
    return None


def _compensate_api(db_api, detail, reason):
    """Undo what an API flow that cannot run did, from its record.

    Reservations are rolled back (a committed one is not touched). A
    volume whose quota was committed counts: it is set ``error``; one
    whose quota was not is destroyed.
    """
    admin = volflow_context.get_admin_context()
    volume_id = detail.meta[META]['volume_id']
    reserved = _result_of(detail, 'QuotaReserveTask')
    if reserved:
        db_api.reservation_rollback(admin, reserved['reservations'])
    if _result_of(detail, 'QuotaCommitTask') is not None:
        common.error_out(db_api, admin, volume_id, reason)
        return
    try:
        volume = db_api.volume_get(admin, volume_id)
    except exception.VolumeNotFound:
        return
    if volume['status'] == 'creating' and not volume['host']:
        db_api.volume_destroy(admin, volume_id)


def _give_up(db_api, backend, detail, why):
    info = detail.meta[META]
    reason = f"the {info['kind']} flow could not be resumed: {why}"
    LOG.error('Volume %(id)s: %(reason)s',
              {'id': info['volume_id'], 'reason': reason})
    if info['kind'] == 'api':
        _compensate_api(db_api, detail, reason)
    else:  # the host stays: the backend may hold data of the volume
        common.error_out(db_api, volflow_context.get_admin_context(),
                         info['volume_id'], reason)
    info['abandoned'] = why
    detail.state = states.FAILURE
    backend.get_connection().update_flow_details(detail)


def _load(detail, backend, conf):
    flow = taskflow.engines.flow_from_detail(detail)
    kind, options = flow_utils.engine_options(conf, 'serial')
    engine = taskflow.engines.load(flow, flow_detail=detail,
                                   backend=backend, engine=kind, **options)
    engine.storage.inject(persistence.stored_store(detail.meta),
                          transient=True)
    return engine


def _run(db_api, backend, conf, detail):
    """Resume one claimed flow; its outcome."""
    info = detail.meta[META]
    try:
        engine = _load(detail, backend, conf)
    except Exception as exc:
        LOG.exception('Flow %s could not be rebuilt.', detail.uuid)
        _give_up(db_api, backend, detail,
                 f'it could not be rebuilt: {common.one_line(exc)}')
        return 'abandoned'
    LOG.info('Resuming the %(kind)s flow %(uuid)s of volume %(id)s, '
             'left %(state)s.', {'kind': info['kind'], 'uuid': detail.uuid,
                                 'id': info['volume_id'],
                                 'state': detail.state})
    persistence.adopt(engine)
    try:
        flow_utils.run_engine(engine, logger=LOG)
    except Exception as exc:
        _after_failure(db_api, detail, exc)
    state = engine.storage.get_flow_state()
    if state == states.SUCCESS:
        return 'finished'
    if state == states.REVERTED:
        return 'reverted'
    _give_up(db_api, backend, detail, f'it ended {state}')
    return 'abandoned'


def _resume_one(db_api, backend, conf, flow_uuid, dead):
    if not _claims.claim(db_api, conf, flow_uuid, dead):
        return 'busy'
    try:
        detail = persistence.existing(backend.get_connection(), flow_uuid)
        if detail is None or detail.state in persistence.FINISHED:
            return 'finished'  # by someone else, in the meantime
        return _run(db_api, backend, conf, detail)
    finally:
        _claims.release(db_api, flow_uuid)


def _resume(db_api, backend, conf, wanted=lambda meta: True):
    pending = [(u, m) for u, m in _pending(backend) if wanted(m)]
    dead = _claims.dead_owners(db_api) if pending else set()
    flows = []
    for flow_uuid, meta in pending:
        outcome = _resume_one(db_api, backend, conf, flow_uuid, dead)
        flows.append({'uuid': flow_uuid, 'kind': meta[META]['kind'],
                      'volume_id': meta[META]['volume_id'],
                      'outcome': outcome})
    return flows


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
    dead = _claims.dead_owners(db_api) if claimed else set()
    now = timeutils.utcnow()
    cutoff = now - datetime.timedelta(
        seconds=conf.taskflow.logbook_retention)
    oldest = cutoff
    removed = 0
    conn = backend.get_connection()
    for flow_uuid, state, meta in _details(backend):
        info = _ours(meta)
        if not info:
            continue
        created = datetime.datetime.fromisoformat(info['created'])
        done = state in persistence.FINISHED or info.get('abandoned')
        if done and created < cutoff:
            conn.destroy_logbook(flow_uuid)
            removed += 1
            if (flow_uuid in claimed and
                    _claims.claim(db_api, conf, flow_uuid, dead)):
                _claims.release(db_api, flow_uuid)
        elif not done:
            oldest = min(oldest, created)
    db_api.reservation_purge_committed(admin, oldest)
    return removed


def resume_all(conf, db_api=None):
    """Resume every unfinished flow, expire reservations, clean up.

    :returns: ``{'flows': [{'uuid', 'kind', 'volume_id', 'outcome'}],
        'expired_reservations': n, 'removed_logbooks': n}``; outcomes are
        ``finished``, ``reverted``, ``abandoned`` and ``busy`` (running
        in another process).
    """
    db_api = db_api or db.get_api(conf=conf)
    backend = persistence.get_backend(db_api, conf)
    flows = _resume(db_api, backend, conf)
    expired = quota.QuotaEngine(db_api, conf).expire(
        volflow_context.get_admin_context())
    return {'flows': flows, 'expired_reservations': expired,
            'removed_logbooks': cleanup(db_api, backend, conf)}


def resume_backend(manager):
    """Resume the unfinished manager flows of ``manager``'s backend.

    Then, as Cinder's ``init_host`` does, a volume still ``creating`` on
    the backend with no unfinished flow of any kind (its message was taken
    and its flow never recorded) has what the driver may have written
    deleted and is set ``error``.

    :returns: the ids of the volumes taken over.
    """
    db_api, conf, name = manager.db, manager.conf, manager.backend_name
    backend = persistence.get_backend(db_api, conf)

    def mine(meta):
        return (meta[META]['kind'] == 'manager' and
                meta['factory']['kwargs'].get('backend') == name)

    flows = _resume(db_api, backend, conf, mine)
    taken = [f['volume_id'] for f in flows if f['outcome'] != 'busy']
    pending = {meta[META]['volume_id'] for _uuid, meta in _pending(backend)}
    admin = volflow_context.get_admin_context()
    for volume in db_api.volume_get_all(admin, {'status': 'creating'}):
        if (not volume['host'] or volume['id'] in pending or
                backends.backend_of_host(volume['host']) != name):
            continue
        try:
            manager.driver.delete_volume(volume)
        except Exception:
            LOG.exception('Volume %s: could not delete what the '
                          'interrupted creation wrote.', volume['id'])
        common.error_out(db_api, admin, volume['id'],
                         f"the volume service of backend '{name}' stopped "
                         f"while creating the volume", host=None)
        taken.append(volume['id'])
    return taken
