"""What the flows share (Cinder's flows/common.py): failures and names.

A volume's ``reason`` is one line (:func:`one_line`); a volume is set
``error`` only while still ``creating`` (:func:`error_out`); and what a
failed create leaves once its tasks' reverts ran - a flow raised, a
recorded flow given up, a conductor's job broken or ended with its
volume still ``creating`` - is decided in one place, wherever it ran:
:func:`after_failure`.
"""

from oslo_config import cfg
from oslo_log import log as logging

from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow.db import rules
from volflow import exception
from volflow import message
from volflow.volume import backends

LOG = logging.getLogger(__name__)

#: The functions of :mod:`volflow.flows.factories` that rebuild each kind
#: of flow, by the dotted name taskflow's factory meta records. These
#: names are in databases: renaming one strands the flows recorded under
#: the old name.
FACTORIES = {
    'api': 'volflow.flows.factories.api_flow',
    'scheduler': 'volflow.flows.factories.scheduler_flow',
    'manager': 'volflow.flows.factories.manager_flow',
}


def one_line(exc):
    """An exception as the one line a volume's ``reason`` shows."""
    text = ' '.join(str(exc).split())
    if isinstance(exc, exception.VolflowException):
        return text
    return f'{type(exc).__name__}: {text}' if text else type(exc).__name__


def error_out(db_api, context, volume_id, reason, **values):
    """Set a volume still ``creating`` to ``error``, saying why.

    Only a volume still ``creating`` is touched (a compare-and-swap): a
    volume an admin is deleting, or one another flow already finished, is
    left alone, and doing it twice is harmless.

    :returns: whether the volume was errored.
    """
    values.update(status='error', reason=reason)
    try:
        db_api.volume_update(context, volume_id, values,
                             expected={'status': 'creating'})
    except (exception.VolumeNotFound, exception.InvalidVolume) as exc:
        LOG.debug('Volume %(id)s not set to error (%(why)s): %(reason)s',
                  {'id': volume_id, 'why': exc, 'reason': reason})
        return False
    LOG.error('Volume %(id)s: %(reason)s',
              {'id': volume_id, 'reason': reason})
    return True


def tell_user(db_api, context, volume, action, detail, conf=None):
    """Record the user message saying why ``volume``'s create failed.

    For the volume's project, with ``context``'s request id; ``action``
    and ``detail`` are :mod:`volflow.message`'s.
    """
    conf = conf or volflow_conf.CONF
    try:
        ttl = conf.message_ttl
    except cfg.NoSuchOptError:
        ttl = message.DEFAULT_TTL
    return message.record(db_api, context, action, detail, volume['id'],
                          ttl, project_id=volume.get('project_id'))


def backend_failed(backend, what):
    """The reason of a volume its backend could not create."""
    return f"backend '{backend}' failed to create the volume: {what}"


def _keyed(db_api, context, key):
    """The outstanding reservations made under ``key``."""
    return [r['id'] for r in db_api.reservation_get_all(context)
            if r['id'] == rules.reservation_id(key, r['resource'])]


def after_failure(db_api, kind, volume_id, why, backend=None,
                  rescheduled=False, given_up=False, recorded=None):
    """What a failed create leaves, once its reverts ran: the one answer.

    The reverts of the flows' tasks come first: taskflow runs them when a
    task fails. What remains after them is decided here and nowhere else,
    for every process that runs flows - the scheduler and volume
    managers, ``volflow resume``, the conductors - and every way a create
    can fail, so that no volume stays ``creating``.

    A flow of ``kind`` raised ``why`` (its reverts ran):

    * ``api``: nothing; the reverts undid what it did, or its
      VolumeCastTask set the volume ``error``;
    * ``scheduler``: a volume still ``creating`` is set ``error``,
      ``Scheduling failed: <why>``;
    * ``manager``: nothing if the flow ``rescheduled`` the volume (the
      revert result of its rescheduling task says so:
      :func:`volflow.flows.manager.create_volume.rescheduled`); otherwise
      a volume still ``creating`` on ``backend`` is set ``error`` with no
      host, as its rescheduling task's revert would have done.

    A recorded flow of ``kind`` is ``given_up`` by ``volflow resume``:
    it cannot be rebuilt, or it ended neither finished nor reverted;
    ``why`` says which. Its tasks cannot revert, so the reason is
    ``the <kind> flow could not be resumed: <why>`` and

    * ``api``: what ``recorded`` says the flow did is undone
      (:func:`volflow.flows.api.create_volume.recorded_results`): its
      reservation - named by the record, or found by its key when the
      record does not name it yet - is rolled back (a committed one is
      left alone); a volume whose quota was committed - ``recorded``
      says so, or the database does, for a commit whose result was not
      recorded yet - counts, and is set ``error``; one whose quota was
      not, still ``creating`` and unplaced, is destroyed;
    * ``scheduler``, ``manager``: a volume still ``creating`` is set
      ``error``; its host stays (the backend may hold data of it).

    A conductor's ``job`` (kind ``job``; ``why``: how its last step
    ended) that could not be run (``given_up``) or that ended with its
    volume still ``creating``: the volume is set ``error``, ``The
    creation job could not be run (<why>)`` or ``The creation job ended
    with the volume still creating (<why>)``.

    :returns: whether the volume was handed back to the scheduler.
    """
    admin = volflow_context.get_admin_context()
    if kind == 'job':
        try:
            volume = db_api.volume_get(admin, volume_id)
        except exception.VolumeNotFound:
            return False
        if volume['status'] == 'creating':
            what = ('could not be run' if given_up
                    else 'ended with the volume still creating')
            error_out(db_api, admin, volume_id,
                      f'The creation job {what} ({why})')
        return False
    if given_up:
        reason = f'the {kind} flow could not be resumed: {why}'
        LOG.error('Volume %(id)s: %(reason)s',
                  {'id': volume_id, 'reason': reason})
        if kind == 'api':
            recorded = recorded or {}
            reservations = recorded.get('reservations')
            committed = recorded.get('committed')
            if reservations is None and recorded.get('reserve_key'):
                # Reserved, its result not recorded yet: the reservations
                # are found by their key.
                reservations = _keyed(db_api, admin,
                                      recorded['reserve_key']) or None
            if reservations is not None:
                db_api.reservation_rollback(admin, reservations)
                # A commit done but not recorded yet (its result was to go
                # with the next write): the database knows.
                committed = committed or bool(
                    db_api.reservations_committed(admin, reservations))
            if not committed:
                try:
                    volume = db_api.volume_get(admin, volume_id)
                except exception.VolumeNotFound:
                    return False
                if volume['status'] == 'creating' and not volume['host']:
                    db_api.volume_destroy(admin, volume_id)
                return False
        error_out(db_api, admin, volume_id, reason)
        return False
    if kind == 'scheduler':
        if error_out(db_api, admin, volume_id,
                     f'Scheduling failed: {one_line(why)}'):
            _tell_user_of(db_api, admin, volume_id,
                          message.SCHEDULE_ALLOCATE_VOLUME)
    elif kind == 'manager':
        if rescheduled:
            LOG.info('Volume %(id)s: creation on backend %(backend)s failed '
                     'and was rescheduled.',
                     {'id': volume_id, 'backend': backend})
            return True
        try:
            volume = db_api.volume_get(admin, volume_id)
        except exception.VolumeNotFound:
            return False
        if (volume['status'] == 'creating' and volume['host'] and
                backends.backend_of_host(volume['host']) == backend and
                error_out(db_api, admin, volume_id,
                          backend_failed(backend, one_line(why)),
                          host=None)):
            tell_user(db_api, admin, volume,
                      message.CREATE_VOLUME_FROM_BACKEND,
                      message.DRIVER_FAILED_CREATE)
    return False


def _tell_user_of(db_api, context, volume_id, action,
                  detail=message.UNKNOWN_ERROR):
    try:
        volume = db_api.volume_get(context, volume_id)
    except exception.VolumeNotFound:
        return
    tell_user(db_api, context, volume, action, detail)
