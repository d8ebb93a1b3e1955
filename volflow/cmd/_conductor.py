"""``conductor``: the long-running process that runs create jobs.

It needs ``[taskflow] jobboard_enabled = true`` and the jobboard and
database every conductor and the command line share (see the
operations guide, doc/source/operations/index.rst, "Scale-out with
conductors"). It logs to stderr at INFO unless
``--log-file`` (or another log destination) says otherwise - a service's
log is its output - with every line masked (the jobboard password is
handed to the Redis client only, and masked should it ever appear).

SIGTERM or SIGINT stops it gracefully (exit status 0): it claims no more
jobs, and the jobs it runs are abandoned after their current task, for
another conductor to resume at once. A second signal exits at once
(status 1); the job is then taken over when its claim expires.
"""

import argparse
import os
import signal
import socket

from oslo_log import log as logging

from volflow.cmd import _util
from volflow import exception
from volflow.volume import backends as volume_backends

LOG = logging.getLogger(__name__)


def _max_jobs(text):
    """argparse type of ``--max-jobs``: an integer of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not an integer of at least 1")
    return int(text)


def _backends(names, conf):
    """The ``--backend`` names, each a configured backend."""
    if not names:
        return None
    for name in names:
        volume_backends.get_backend(name, conf)  # BackendNotFound
    return names


def conductor(args, api, ctx, conf):
    """Run a conductor until SIGTERM or SIGINT; return 0."""
    if not conf.taskflow.jobboard_enabled:
        raise exception.ConfigError(
            reason='"conductor" runs the jobs of the jobboard: set '
                   '[taskflow] jobboard_enabled = true and the '
                   'jobboard_backend_* options')
    _util.service_logging(conf, LOG)
    # Imported here: only a conductor needs taskflow's jobboard and
    # persistence backends, and every command imports this module.
    from volflow import conductor as volflow_conductor
    runner = volflow_conductor.Conductor(
        args.conductor_name or socket.gethostname(), conf=conf,
        max_jobs=args.max_jobs, backends=_backends(args.backends, conf))

    def on_signal(signum, _frame):
        name = signal.Signals(signum).name
        if runner.stopping:
            # A task that never returns would keep the graceful stop
            # waiting for ever: a second signal ends the process now, and
            # its job goes to another conductor once its claim expires.
            LOG.warning('Received %s again: exiting now; the running job '
                        'is taken over once its claim expires.', name)
            os._exit(1)
        runner.stop(f'received {name}')

    previous = {sig: signal.signal(sig, on_signal)
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def add_parser(subparsers):
    """Add ``conductor`` (needing no API nor context)."""
    parser = subparsers.add_parser(
        'conductor', help='Run a conductor: claim and run create jobs.',
        description='Run a conductor: claim create jobs from the jobboard '
                    'and run their scheduler and volume manager flows. '
                    'Needs [taskflow] jobboard_enabled; run as many as '
                    'you like, on any hosts sharing the jobboard and the '
                    'database.')
    parser.add_argument('--name', dest='conductor_name', metavar='NAME',
                        help='Name the claims are held under (default: '
                             'the host name); the pid is appended.')
    parser.add_argument('--backend', dest='backends', action='append',
                        metavar='NAME',
                        help='Create volumes only on this backend (a '
                             'section of enabled_backends, or "local"); '
                             'repeat for several. Jobs for other backends '
                             'are left to their conductors. Default: '
                             'every backend.')
    parser.add_argument('--max-jobs', type=_max_jobs,
                        default=1, metavar='N',
                        help='Jobs run at once (default: 1).')
    parser.set_defaults(func=conductor, needs='nothing')
