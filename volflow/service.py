"""Long-running services: the scheduler and one volume service per backend.

Each service is an oslo.messaging rpc server (:mod:`volflow.rpc.
messaging`) in front of one manager:

* ``volflow scheduler``: the :class:`~volflow.scheduler.manager.
  SchedulerManager`, on topic ``volflow-scheduler``. Every scheduler
  consumes the same queue, so more of them share the work.
* ``volflow volume --backend NAME``: the :class:`~volflow.volume.manager.
  VolumeManager` of backend NAME (a section of ``enabled_backends``, or
  ``local``), on topic ``volflow-volume`` server NAME. Run exactly one per
  backend: at start it takes over what its previous run left behind.

All of them, and the API (the command line), share one database - a
SQLite file on one machine, PostgreSQL across several - and the broker of
``[DEFAULT] transport_url``.

**Stopping.** SIGTERM or SIGINT stops the server from taking new messages;
the flows already running finish (``server.stop(); server.wait()``) and
the process exits 0. Messages still queued stay on the broker for the
next start or another instance.

**Starting after a crash.** A volume service killed in the middle of a
creation leaves the volume ``creating`` on its backend, and its message
is gone (oslo.messaging acknowledges a message when it takes it). Before
it listens again the service resumes the flows of its backend that
``volflow.persistence`` recorded; a volume it cannot resume gets what
Cinder's ``init_host`` gives it: what the driver may have written is
deleted and the volume set ``error`` with the reason. No volume stays
``creating`` for ever. A volume whose manager flow the backend never
recorded was not interrupted: its request is still queued (it was sent
while the service was stopped) and is created once the service listens.

**Reporting.** Once it listens, a service reports to the ``services``
table every ``report_interval`` seconds (:mod:`volflow.scheduler.
servicegroup`): ``cinder-scheduler`` on the host's name,
``cinder-volume`` on ``HOST@BACKEND``. The scheduler places volumes only
on backends whose volume service reported within ``service_down_time``.
A stopped service stops reporting and is down once that time has passed,
as in Cinder; until then it may still be sent requests, which wait on the
broker for its next start.

Log lines carry no broker password: the transport URL is shown masked and
every handler masks URL credentials and ``password=`` style values.
"""

import os
import signal
import socket
import threading

from oslo_config import cfg
from oslo_log import log as logging

from volflow import db
from volflow import recovery
from volflow import redaction
from volflow.rpc import local
from volflow.rpc import messaging
from volflow.scheduler import filter_scheduler
from volflow.scheduler import manager as scheduler_manager
from volflow.scheduler import servicegroup
from volflow.volume import backends
from volflow.volume import manager as volume_manager
from volflow import wiring

CONF = cfg.CONF
LOG = logging.getLogger(__name__)


class _Interrupted(BaseException):
    """A stop signal came before the server listened.

    A ``BaseException``, so that no library retry loop (oslo.messaging
    connecting to a broker out of reach retries for ever) swallows it.
    """


class Service:
    """One manager behind an rpc server, run until SIGTERM or SIGINT.

    :param name: what the log lines call the service.
    :param endpoint: a :mod:`volflow.rpc.messaging` endpoint.
    :param server: the rpc server name (volume services: the backend).
    :param on_start: called before the server listens (crash recovery).
    :param reporter: a :class:`volflow.scheduler.servicegroup.Reporter`,
        started once the server listens.
    """

    def __init__(self, name, topic, endpoint, server, conf=None,
                 transport=None, on_start=None, reporter=None):
        self.name = name
        self.topic = topic
        self.endpoint = endpoint
        self.server_name = server
        self.conf = conf or CONF
        self.transport = transport or messaging.get_transport(self.conf)
        self.on_start = on_start
        self.reporter = reporter
        self._stop_requested = threading.Event()
        self._why = None
        #: starting -> listening -> stopping (run's signal handling).
        self._phase = 'starting'
        self.rpc_server = None

    def start(self):
        """Recover, then listen."""
        if self.on_start is not None:
            self.on_start()
        self.rpc_server = messaging.get_server(
            self.transport, self.topic, self.endpoint, self.server_name)
        self.rpc_server.start()
        if self.reporter is not None:
            self.reporter.start()
        if self._phase == 'starting':
            self._phase = 'listening'
        LOG.info('volflow %(name)s started (pid %(pid)d): listening on '
                 'topic %(topic)s server %(server)s at %(url)s',
                 {'name': self.name, 'pid': os.getpid(),
                  'topic': self.topic, 'server': self.server_name,
                  'url': redaction.mask_secrets(self.conf.transport_url)})

    def request_stop(self, why='stop requested'):
        """Ask :meth:`run` to stop (signal handlers, other threads)."""
        self._why = self._why or why
        self._stop_requested.set()

    def stop(self):
        """Take no new messages, let the running ones finish.

        Safe on a server whose start was interrupted: oslo.messaging's
        ``stop`` and ``wait`` skip a listener that was never made.
        """
        LOG.info('volflow %(name)s stopping (%(why)s): no new requests are '
                 'taken, the ones in progress finish.',
                 {'name': self.name, 'why': self._why or 'stop requested'})
        if self.reporter is not None:
            self.reporter.stop()
        if self.rpc_server is not None:
            self.rpc_server.stop()
            self.rpc_server.wait()
        LOG.info('volflow %s stopped.', self.name)

    def _on_signal(self, signum, _frame):
        self.request_stop(f'received {signal.Signals(signum).name}')
        if self._phase == 'starting':
            # Recovering, or waiting for the broker: nothing was taken
            # that could finish, so stop at once rather than once the
            # broker is back. Later signals only repeat the request.
            self._phase = 'stopping'
            raise _Interrupted()

    def run(self):
        """Start, serve until SIGTERM/SIGINT, stop gracefully; return 0."""
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            try:
                self.start()
            except _Interrupted:
                pass
            self._stop_requested.wait()
            self._phase = 'stopping'
            self.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0


def scheduler_service(conf=None, transport=None):
    """The scheduler service: the filter scheduler behind an rpc server."""
    conf = conf or CONF
    transport = transport or messaging.get_transport(conf)
    db_api = db.get_api(conf=conf)
    volume_rpcapi = messaging.VolumeAPI(transport)
    manager = scheduler_manager.SchedulerManager(
        db_api, filter_scheduler.FilterScheduler(db_api, volume_rpcapi,
                                                 conf), conf=conf)
    host = socket.gethostname()
    return Service('scheduler', messaging.TOPIC_SCHEDULER,
                   messaging.SchedulerEndpoint(manager), host, conf=conf,
                   transport=transport,
                   reporter=servicegroup.Reporter(db_api, [{
                       'host': host, 'binary': servicegroup.SCHEDULER,
                       'topic': messaging.TOPIC_SCHEDULER,
                       'availability_zone': conf.storage_availability_zone,
                   }], conf))


def volume_service(backend_name, conf=None, transport=None):
    """The volume service of one backend.

    :raises BackendNotFound: when no backend has that name.
    """
    conf = conf or CONF
    backend = backends.get_backend(backend_name, conf)
    transport = transport or messaging.get_transport(conf)
    db_api = db.get_api(conf=conf)
    manager = volume_manager.VolumeManager(
        backend_name, db_api, local.get_driver(backend_name, conf),
        wiring.image_service(db_api, conf), messaging.SchedulerAPI(transport),
        conf=conf)
    return Service(f'volume service of backend {backend_name}',
                   messaging.TOPIC_VOLUME,
                   messaging.VolumeEndpoint(manager), backend_name,
                   conf=conf, transport=transport,
                   on_start=lambda: recovery.resume_backend(manager),
                   reporter=servicegroup.Reporter(db_api, [{
                       'host': f'{socket.gethostname()}@{backend_name}',
                       'binary': servicegroup.VOLUME,
                       'topic': messaging.TOPIC_VOLUME,
                       'availability_zone': backend['availability_zone'],
                   }], conf))
