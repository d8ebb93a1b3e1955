"""RPC between the API, the scheduler and the volume managers.

:func:`get_rpcapis` returns the pair of rpc apis the configuration asks
for: with oslo.messaging's ``[DEFAULT] transport_url`` unset, the
in-process pair of :mod:`volflow.rpc.local`, whose casts run the next flow
on the process-wide executor.
"""

from oslo_config import cfg
import oslo_messaging

from volflow import exception


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
    return conf.transport_url


def get_rpcapis(db_api, image_service, conf):
    """Return ``(scheduler_rpcapi, volume_rpcapi)`` for this process."""
    if transport_url(conf) is not None:
        raise exception.ConfigError(
            reason=('[DEFAULT] transport_url is set, but volflow cannot '
                    'run its services over oslo.messaging yet; unset it to '
                    'run the scheduler and volume managers in this '
                    'process'))
    # Imported here: local builds the managers, which import
    # volflow.volume.api, which imports this package.
    from volflow.rpc import local
    return local.get_rpcapis(db_api, image_service, conf)
