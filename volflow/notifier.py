"""Notifications, through an oslo.messaging ``Notifier``.

The driver is oslo.messaging's ``[oslo_messaging_notifications] driver``
(unset: notifications are off, as with ``noop``; ``log`` writes them to
the log; ``messaging`` sends them on the notification transport; tests use
``test``). Publishers are ``scheduler`` and ``volume.<backend>``; events
are Cinder's: ``volume.create.start`` and ``volume.create.end`` at INFO,
``scheduler.create_volume`` at ERROR.

With no transport configured at all, the notification transport is
oslo.messaging's ``fake://``, which connects nowhere.

As in :mod:`volflow.transport`, oslo.messaging is imported when a
notifier is first built, not with this module (which the flows import).
"""

import threading

from oslo_config import cfg

from volflow import transport

CONF = cfg.CONF

_NOTIFIER = None
_LOCK = threading.Lock()


def register_opts(conf):
    """Register oslo.messaging's notification options on ``conf``.

    oslo.messaging registers them itself only once it builds a transport;
    volflow reads them before (to choose the transport) and tests
    override them. The very same option objects are registered, so a
    repeat is a no-op.
    """
    import oslo_messaging  # only where notifications may be sent
    conf.register_opts(oslo_messaging.notify.notifier._notifier_opts,
                       group='oslo_messaging_notifications')


def _notification_url(conf):
    if transport.transport_url(conf) is not None:
        return None  # oslo.messaging's own choice
    if conf.oslo_messaging_notifications.transport_url:
        return None
    return 'fake://'


def get_notifier(publisher_id, conf=None):
    """A notifier publishing as ``publisher_id``.

    The underlying transport and driver are built once per process;
    :func:`reset` forgets them (tests that change the driver).
    """
    global _NOTIFIER
    conf = conf or CONF
    if _NOTIFIER is None:
        import oslo_messaging  # only where notifications may be sent
        with _LOCK:
            if _NOTIFIER is None:
                register_opts(conf)
                notification_transport = (
                    oslo_messaging.get_notification_transport(
                        conf, url=_notification_url(conf)))
                _NOTIFIER = oslo_messaging.Notifier(notification_transport)
    return _NOTIFIER.prepare(publisher_id=publisher_id)


def reset():
    """Forget the process's notifier."""
    global _NOTIFIER
    with _LOCK:
        notifier, _NOTIFIER = _NOTIFIER, None
    if notifier is not None:
        notifier.transport.cleanup()


def _text(value):
    return None if value is None else str(value)


def volume_usage(volume, **extra):
    """The payload of a volume notification (Cinder's usage fields)."""
    payload = {
        'tenant_id': volume['project_id'],
        'user_id': volume['user_id'],
        'volume_id': volume['id'],
        'display_name': volume['name'],
        'size': volume['size'],
        'volume_type': volume.get('volume_type_id'),
        'availability_zone': volume['availability_zone'],
        'host': volume['host'],
        'status': volume['status'],
        'snapshot_id': volume['snapshot_id'],
        'source_volid': volume['source_volid'],
        'image_id': volume['image_id'],
        'created_at': _text(volume.get('created_at')),
        'metadata': dict(volume.get('metadata') or {}),
    }
    payload.update(extra)
    return payload
