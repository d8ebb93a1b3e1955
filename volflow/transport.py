"""oslo.messaging's transport options, as volflow reads them.

With ``[DEFAULT] transport_url`` unset volflow runs in one process
(:mod:`volflow.rpc.local`); with it set, the scheduler and volume services
are reached over that transport (:mod:`volflow.rpc.messaging`), and
notifications (:mod:`volflow.notifier`) go there too.

oslo.messaging itself is imported when a function here is first called,
not with this module: the flows import it (through the notifier), and
importing a flow should neither load oslo.messaging nor change its
defaults.
"""

from oslo_config import cfg


def set_defaults():
    """Send volflow's messages to exchange ``volflow`` by default.

    Rpc and notifications alike, unless ``control_exchange`` says
    otherwise (Cinder's go to ``cinder``). Done before volflow builds a
    transport or reads its options; doing it again changes nothing.
    """
    import oslo_messaging  # only where messages may be sent
    oslo_messaging.set_transport_defaults(control_exchange='volflow')


def transport_url(conf):
    """``[DEFAULT] transport_url`` when set, ``None`` when left unset.

    oslo.messaging gives the option a ``rabbit://`` default; volflow tells
    "unset" from "set" by where the value comes from.
    """
    import oslo_messaging  # only where messages may be sent
    set_defaults()
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
    import oslo_messaging  # only where messages may be sent
    for opt in oslo_messaging.transport._transport_opts:
        if opt.dest == 'transport_url':
            return opt.default
    return None
