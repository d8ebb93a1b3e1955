"""``api``: serve the Block Storage API v3 over HTTP.

``volflow api [--bind-host H] [--bind-port P]`` (default ``[api]
bind_host`` and ``bind_port``, 127.0.0.1:8776) runs the application of
:mod:`volflow.api.app` in a cheroot server. In the embedded default the
process runs the whole pipeline, so a volume created over HTTP ends
``available`` as one created by ``volflow create`` does, and reports the
services it runs in-process to the ``services`` table, as the separate
services do (:func:`volflow.scheduler.servicegroup.in_process_records`:
``cinder-scheduler`` on the host name, ``cinder-volume`` on
``HOST@BACKEND`` per backend), so that ``os-services`` lists them. With
``transport_url`` or the jobboard the services are other processes, which
report themselves. SIGTERM finishes the requests in flight and exits 0.

Like the other services it logs to stderr at INFO unless a log
destination is configured, every line masked.
"""

from oslo_log import log as logging

from volflow.cmd import _util
from volflow import exception
from volflow.scheduler import servicegroup
from volflow import transport

LOG = logging.getLogger(__name__)


def api(args, _api, _ctx, conf):
    """Serve the API until SIGTERM or SIGINT."""
    # Imported when the command runs, pointing down as ever: webob, routes,
    # oslo.policy, keystonemiddleware and cheroot cost every other command
    # a quarter of a second at start otherwise.
    from volflow.api import app
    from volflow.api import server
    from volflow.volume import api as volume_api
    _util.service_logging(conf, LOG)
    host = args.bind_host or conf.api.bind_host
    port = conf.api.bind_port if args.bind_port is None else args.bind_port
    volumes = volume_api.API(conf=conf)
    application = app.build(conf, volumes)
    http = server.Server(application, host, port, conf.api.workers,
                         conf.api.backlog)
    try:
        http.prepare()
    except OSError as exc:
        raise exception.ConfigError(
            reason=f'cannot listen on {host}:{port}: {exc.strerror or exc}')
    reporter = None
    if (transport.transport_url(conf) is None and
            not conf.taskflow.jobboard_enabled):
        reporter = servicegroup.Reporter(
            volumes.db, servicegroup.in_process_records(conf), conf)
        reporter.start()
    try:
        return http.run()
    finally:
        if reporter is not None:
            reporter.stop()


def add_parser(subparsers):
    """Add ``api`` (it builds its own volume API)."""
    parser = subparsers.add_parser(
        'api', help='Serve the Block Storage API v3 over HTTP.',
        description='Serve the Block Storage API v3 over HTTP, for '
                    'python-openstackclient, openstacksdk and '
                    'python-cinderclient.')
    parser.add_argument('--bind-host', metavar='HOST',
                        help='Address to listen on (default: [api] '
                             'bind_host, 127.0.0.1).')
    parser.add_argument('--bind-port', metavar='PORT', type=int,
                        help='Port to listen on (default: [api] '
                             'bind_port, 8776).')
    parser.set_defaults(func=api, needs='nothing')
