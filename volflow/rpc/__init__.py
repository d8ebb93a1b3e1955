"""RPC between the API, the scheduler and the volume managers.

:func:`get_rpcapis` returns the pair of rpc apis the configuration asks
for: with oslo.messaging's ``[DEFAULT] transport_url`` unset, the
in-process pair of :mod:`volflow.rpc.local`, whose casts run the next flow
on the process-wide executor; with it set, the pair of
:mod:`volflow.rpc.messaging`, which casts to the scheduler and volume
services over that transport.
"""

from oslo_config import cfg
import oslo_messaging

#: volflow's messages - rpc and notifications - go to exchange ``volflow``
#: unless ``control_exchange`` says otherwise (Cinder's go to ``cinder``).
oslo_messaging.set_transport_defaults(control_exchange='volflow')


def transport_url(conf):
    """``[DEFAULT] transport_url`` when set, ``None`` when left unset.

    oslo.messaging gives the option a ``rabbit://`` default; volflow tells
    "unset" from "set" by where the value comes from.
    """
    # oslo.messaging registers the option only when it builds a transport:
    # register the very same option objects (a repeat is a no-op).
    conf.register_opts(oslo_messaging.transport._transport_opts)
    location = conf.get_location('transport_url')
    if location is None or location.location is cfg.Locations.opt_default:
        return None
    value = conf.transport_url
    # oslo.config's clear_override leaves the location at set_override:
    # an override cleared again gives back the option's default.
    if (location.location is cfg.Locations.set_override and
            value == _default_transport_url()):
        return None
    return value


def _default_transport_url():
    for opt in oslo_messaging.transport._transport_opts:
        if opt.dest == 'transport_url':
            return opt.default
    return None


def get_rpcapis(db_api, image_service, conf):
    """Return ``(scheduler_rpcapi, volume_rpcapi)`` for this process.

    With ``[taskflow] jobboard_enabled`` creates become jobs for
    conductors (:mod:`volflow.rpc.jobboard`); the pair the transport
    selects still takes the calls (delete, snapshot).
    """
    pair = _transport_rpcapis(db_api, image_service, conf)
    if conf.taskflow.jobboard_enabled:
        from volflow.rpc import jobboard
        return jobboard.get_rpcapis(db_api, image_service, conf, pair)
    return pair


def _transport_rpcapis(db_api, image_service, conf):
    if transport_url(conf) is not None:
        # Imported here, as local is: only the processes that use it
        # need it.
        from volflow.rpc import messaging
        return messaging.get_rpcapis(conf)
    # Imported here: local builds the managers, which import
    # volflow.volume.api, which imports this package.
    from volflow.rpc import local
    return local.get_rpcapis(db_api, image_service, conf)
