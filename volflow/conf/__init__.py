"""volflow's configuration, on oslo.config.

``CONF`` is oslo.config's global ``ConfigOpts`` (oslo.messaging registers
some of its groups only there). Options are registered at import time by the
``register_opts`` function of each module below, so that reading an option
never depends on who imported what first. Parsing happens once, through
:func:`load` or the command line's ``main``.
"""

from oslo_config import cfg

from volflow.conf import api
from volflow.conf import backend
from volflow.conf import core
from volflow.conf import quota
from volflow.conf import taskflow

CONF = cfg.CONF
_loaded = False

_MODULES = (core, quota, backend, taskflow, api)

for _module in _MODULES:
    _module.register_opts(CONF)


def load(args=None, config_files=None):
    """Parse configuration for an embedding process, once.

    :param args: command-line style arguments (default: none, so the host
        process's own ``sys.argv`` is never read).
    :param config_files: configuration files to read, in order.
    :returns: :data:`CONF`.
    """
    global _loaded
    if not _loaded:
        CONF(args=list(args or []), project='volflow',
             default_config_files=list(config_files or []),
             default_config_dirs=[])
        _loaded = True
    return CONF
