"""What the scheduler and manager flows share (Cinder's flows/common.py)."""

from oslo_log import log as logging

from volflow import exception

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
