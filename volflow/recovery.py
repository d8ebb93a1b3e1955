"""Finish or revert the flows a crash left unfinished (``volflow resume``).

A recorded flow (:mod:`volflow.persistence`) is unfinished when its state
is neither ``SUCCESS`` nor ``REVERTED``: ``PENDING`` (recorded, never run:
its process died first), ``RUNNING`` or ``REVERTING`` (interrupted), or
``FAILURE`` (a revert failed). Each, oldest first, is

1. claimed, or skipped if another live process holds it (it is running
   there; a dead process's claim is taken over);
2. read again (someone may have finished it in the meantime);
3. rebuilt and loaded with its recorded state
   (:func:`volflow.engines.load_recorded`: taskflow calls the recorded
   factory, which makes the collaborators from configuration);
4. run: taskflow runs again the task that was running and goes on, or
   reverts if the flow was reverting or a task fails now. Every task is
   idempotent: resume is at-least-once;
5. after a failure, followed by what the services do after one
   (:func:`volflow.flows.common.after_failure`): the volume of a failed
   scheduler flow is set ``error``, that of a failed manager flow too
   unless the flow rescheduled it.

A flow that cannot be rebuilt (a backend no longer configured) or that
ends neither finished nor reverted is given up: what its record shows it
did is compensated where that is possible without its tasks, its volume
is set ``error``, and it is marked so that it is not tried again.

Then expired quota reservations are rolled back, and the records of
flows finished more than ``[taskflow] logbook_retention`` seconds ago are
removed, with the commits remembered for them (:func:`resume_all`).

A volume service starting (:func:`resume_backend`) resumes only the
manager flows of its backend, then sweeps - the one sweep of volumes left
``creating`` - what its previous runs started and left with no unfinished
flow. As Cinder's ``init_host`` does, what the driver may have written is
deleted and the volume set ``error``. A volume whose manager flow on the
backend was never recorded is not a leftover: its request is still queued
on the broker (sent while the service was stopped), and the service
creates it once it listens. Only with ``[taskflow] persistence_enabled``
off, when nothing is ever recorded, does the sweep take every volume
``creating`` on the backend, queued or not.
"""

from oslo_config import cfg
from oslo_log import log as logging
from taskflow import states

from volflow import context as volflow_context
from volflow import db
from volflow import engines
from volflow import exception
from volflow.flows import common
from volflow.flows.manager import create_volume as manager_flow
from volflow import persistence
from volflow import quota
from volflow.volume import backends

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

META = persistence.META


def _pending(backend):
    """Unfinished flows volflow has not given up on, oldest first."""
    found = []
    for flow_uuid, state, meta in persistence.details(backend):
        info = persistence.ours(meta)
        if (info and state not in persistence.FINISHED and
                not info.get('abandoned')):
            found.append((info['created'], flow_uuid, meta))
    return [(flow_uuid, meta) for _created, flow_uuid, meta in
            sorted(found)]


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


def _run(db_api, backend, conf, detail):
    """Resume one claimed flow; its outcome."""
    info = detail.meta[META]
    try:
        engine = engines.load_recorded(detail, backend, conf)
    except Exception as exc:
        LOG.exception('Flow %s could not be rebuilt.', detail.uuid)
        _give_up(db_api, backend, detail,
                 f'it could not be rebuilt: {common.one_line(exc)}')
        return 'abandoned'
    LOG.info('Resuming the %(kind)s flow %(uuid)s of volume %(id)s, '
             'left %(state)s.', {'kind': info['kind'], 'uuid': detail.uuid,
                                 'id': info['volume_id'],
                                 'state': detail.state})
    engines.adopt(engine)
    try:
        engines.run_engine(engine, logger=LOG)
    except Exception as exc:
        common.after_failure(db_api, info['kind'], info['volume_id'], exc,
                             detail.meta['factory']['kwargs'].get('backend'),
                             manager_flow.rescheduled(engine))
    state = engine.storage.get_flow_state()
    if state == states.SUCCESS:
        return 'finished'
    if state == states.REVERTED:
        return 'reverted'
    _give_up(db_api, backend, detail, f'it ended {state}')
    return 'abandoned'


def _resume_one(db_api, backend, conf, flow_uuid, dead):
    if not persistence.claim(db_api, conf, flow_uuid, dead):
        return 'busy'
    try:
        detail = persistence.existing(backend.get_connection(), flow_uuid)
        if detail is None or detail.state in persistence.FINISHED:
            return 'finished'  # by someone else, in the meantime
        return _run(db_api, backend, conf, detail)
    finally:
        persistence.release(db_api, flow_uuid)


def _resume(db_api, backend, conf, wanted=lambda meta: True):
    pending = [(u, m) for u, m in _pending(backend) if wanted(m)]
    dead = persistence.dead_owners(db_api) if pending else set()
    flows = []
    for flow_uuid, meta in pending:
        outcome = _resume_one(db_api, backend, conf, flow_uuid, dead)
        flows.append({'uuid': flow_uuid, 'kind': meta[META]['kind'],
                      'volume_id': meta[META]['volume_id'],
                      'outcome': outcome})
    return flows


def resume_all(conf=None, db_api=None):
    """Resume every unfinished flow, expire reservations, clean up.

    :returns: ``{'flows': [{'uuid', 'kind', 'volume_id', 'outcome'}],
        'expired_reservations': n, 'removed_logbooks': n}``; outcomes are
        ``finished``, ``reverted``, ``abandoned`` and ``busy`` (running
        in another process).
    """
    conf = conf or CONF
    db_api = db_api or db.get_api(conf=conf)
    backend = persistence.get_backend(db_api, conf)
    flows = _resume(db_api, backend, conf)
    expired = quota.QuotaEngine(db_api, conf).expire(
        volflow_context.get_admin_context())
    return {'flows': flows, 'expired_reservations': expired,
            'removed_logbooks': persistence.cleanup(conf, db_api)}


def _started_on(backend, name):
    """The volumes a manager flow of backend ``name`` was recorded for."""
    started = set()
    for _uuid, _state, meta in persistence.details(backend):
        info = persistence.ours(meta)
        if (info and info['kind'] == 'manager' and
                meta['factory']['kwargs'].get('backend') == name):
            started.add(info['volume_id'])
    return started


def resume_backend(manager):
    """Resume the unfinished manager flows of ``manager``'s backend.

    Then, as Cinder's ``init_host`` does, a volume still ``creating`` on
    the backend that a manager flow of the backend started and left
    without an unfinished record has what the driver may have written
    deleted and is set ``error``. A volume no manager flow of the backend
    was ever recorded for is left alone: its request is still queued for
    this service. (With persistence off nothing is recorded, and every
    volume ``creating`` on the backend with no unfinished flow is taken.)

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
    started = (_started_on(backend, name)
               if conf.taskflow.persistence_enabled else None)
    admin = volflow_context.get_admin_context()
    for volume in db_api.volume_get_all(admin, {'status': 'creating'}):
        if (not volume['host'] or volume['id'] in pending or
                backends.backend_of_host(volume['host']) != name):
            continue
        if started is not None and volume['id'] not in started:
            LOG.info('Volume %s: its creation was never started here; its '
                     'request is still queued for this service.',
                     volume['id'])
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
