"""Options for oslo-config-generator (namespace ``volflow``)."""

import itertools

from volflow.conf import api
from volflow.conf import backend
from volflow.conf import core
from volflow.conf import quota
from volflow.conf import taskflow


def list_opts():
    """Return ``[(group, [opts])]`` for every volflow option."""
    merged = {}
    for group, opts in itertools.chain(core.list_opts(), quota.list_opts(),
                                       backend.list_opts(),
                                       taskflow.list_opts(),
                                       api.list_opts()):
        name = getattr(group, 'name', group)
        merged.setdefault(name, (group, []))[1].extend(opts)
    return list(merged.values())
