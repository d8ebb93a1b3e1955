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

These steps are :func:`resume_flow`'s, the one function that resumes a
recorded flow: ``volflow resume``, a volume service starting and a
conductor running a job's step all call it.

A flow that cannot be rebuilt (a backend no longer configured) or that
ends neither finished nor reverted is given up, and marked so that it is
not tried again. What it leaves is decided by the same function
(:func:`volflow.flows.common.after_failure`, ``given_up``): what the
record of an API flow shows it did is undone
(:func:`volflow.flows.api.create_volume.recorded_results`), and the
volume of any other flow is set ``error``.

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

import contextlib

from oslo_config import cfg
from oslo_log import log as logging
from taskflow import exceptions as taskflow_exceptions
from taskflow import states

from volflow import context as volflow_context
from volflow import db
from volflow import engines
from volflow.flows.api import create_volume as api_flow
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


def _give_up(db_api, backend, detail, why):
    """Give up a flow that cannot go on: settle its volume, mark it."""
    info = detail.meta[META]
    common.after_failure(
        db_api, info['kind'], info['volume_id'], why, given_up=True,
        recorded=(api_flow.recorded_results(detail)
                  if info['kind'] == 'api' else None))
    info['abandoned'] = why
    detail.state = states.FAILURE
    backend.get_connection().update_flow_details(detail)


#: :func:`resume_flow`'s outcomes but the flow's own states.
BUSY = 'busy'  # a live process holds its claim: it runs there
DONE = 'done'  # finished, or gone, by the time it was claimed
ABANDONED = 'abandoned'  # given up (``give_up``)


class Unbuildable(Exception):
    """A recorded flow that cannot be rebuilt (a backend gone, say)."""


def resume_flow(db_api, backend, flow_uuid, conf=None, dead=None,
                detail=None, during=None, give_up=True):
    """Claim a recorded flow, run it on, settle it: the one resume path.

    ``volflow resume`` and a volume service starting (both through
    :func:`_resume`) and a conductor running a job's step
    (:mod:`volflow.conductor._job`) call this; nothing else loads and
    runs a recorded flow:

    1. the flow's claim is taken (:func:`volflow.persistence.claim`; a
       dead process's is taken over: ``dead``, or this host's dead
       owners when the first try fails) - the one claim on running a
       flow, which every path takes, a first run included
       (:func:`volflow.engines.record`). A live process holding it runs
       the flow: :data:`BUSY`;
    2. its record is read again, under the claim (another process may
       have finished it meanwhile: :data:`DONE`); a ``detail`` given (a
       job's step, in its logbook) is brought up to date from it;
    3. the flow is rebuilt and loaded with its recorded state
       (:func:`volflow.engines.load_recorded`);
    4. it is run, inside ``during(engine)`` (a context manager: the
       conductor's claim listener and job) when given. A failure of its
       tasks is followed by :func:`volflow.flows.common.after_failure`,
       as in the services; a failure of the database or the board under
       taskflow (``StorageFailure``, ``JobFailure``) is raised;
    5. with ``give_up``, a flow that cannot be rebuilt, or that ends
       neither finished nor reverted, is given up (:func:`_give_up`:
       :func:`~volflow.flows.common.after_failure` settles its volume,
       the record is marked so that it is not tried again):
       :data:`ABANDONED`. Without, :class:`Unbuildable` is raised and
       the state returned as it is (a conductor retries the job, or
       gives it up as a whole);
    6. the claim is dropped.

    :returns: ``(state, failure)``: the flow's state after its run, or
        :data:`BUSY`, :data:`DONE` or :data:`ABANDONED`; the exception
        its run raised, or None.
    """
    conf = conf or CONF
    if not persistence.claim(db_api, conf, flow_uuid, dead or ()) and (
            dead is not None or not persistence.claim(
                db_api, conf, flow_uuid, persistence.dead_owners(db_api))):
        return BUSY, None
    try:
        fresh = persistence.existing(backend.get_connection(), flow_uuid)
        if fresh is None or fresh.state in persistence.FINISHED:
            return DONE, None
        detail = fresh if detail is None else detail.update(fresh)
        info = detail.meta[META]
        try:
            engine = engines.load_recorded(detail, backend, conf)
        except Exception as exc:
            if not give_up:
                raise Unbuildable(common.one_line(exc)) from exc
            LOG.exception('Flow %s could not be rebuilt.', flow_uuid)
            _give_up(db_api, backend, detail,
                     f'it could not be rebuilt: {common.one_line(exc)}')
            return ABANDONED, exc
        LOG.info('Resuming the %(kind)s flow %(uuid)s of volume %(id)s, '
                 'left %(state)s.', {'kind': info['kind'], 'uuid': flow_uuid,
                                     'id': info['volume_id'],
                                     'state': detail.state})
        engines.adopt(engine)
        failure = None
        with during(engine) if during else contextlib.nullcontext():
            try:
                engines.run_engine(engine, logger=LOG)
            except (taskflow_exceptions.StorageFailure,
                    taskflow_exceptions.JobFailure):
                raise
            except Exception as exc:
                failure = exc
                common.after_failure(
                    db_api, info['kind'], info['volume_id'], exc,
                    detail.meta['factory']['kwargs'].get('backend'),
                    manager_flow.rescheduled(engine))
        state = engine.storage.get_flow_state()
        if give_up and state not in persistence.FINISHED:
            _give_up(db_api, backend, detail, f'it ended {state}')
            return ABANDONED, failure
        return state, failure
    finally:
        persistence.release(db_api, flow_uuid)


#: What ``volflow resume`` reports of each flow, by resume_flow's outcome.
_OUTCOMES = {BUSY: 'busy', DONE: 'finished', states.SUCCESS: 'finished',
             states.REVERTED: 'reverted', ABANDONED: 'abandoned'}


def _resume(db_api, backend, conf, wanted=lambda meta: True):
    pending = [(u, m) for u, m in _pending(backend) if wanted(m)]
    dead = persistence.dead_owners(db_api) if pending else set()
    flows = []
    for flow_uuid, meta in pending:
        state, _failure = resume_flow(db_api, backend, flow_uuid, conf,
                                      dead)
        outcome = _OUTCOMES[state]
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
