"""What the scheduler and manager flows share (Cinder's flows/common.py)."""

from oslo_log import log as logging

from volflow import exception
from volflow import flow_utils

LOG = logging.getLogger(__name__)


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


def load_engine(flow, store, conf, engine=None, record=None):
    """Load ``flow`` with ``engine``, or the configured engine if None.

    The services run their flows with ``engine='serial'``: each flow
    already has a thread of the shared executor, and a flow that waited
    there for its own tasks to get a thread of the same executor could
    starve it.

    :param record: a :class:`volflow.persistence.Record` (the run's
        progress is recorded, to be resumed after a crash).
    """
    return flow_utils.load_engine(flow, store, conf=conf, engine=engine,
                                  record=record)
