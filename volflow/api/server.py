"""Serving the application with cheroot, a threaded WSGI server.

:class:`Server` listens on ``[api] bind_host:bind_port`` with ``[api]
workers`` threads and a listen backlog of ``[api] backlog`` connections
(cheroot's own default is 5: with more clients than that connecting at
once, the kernel's queue overflows and a client is reset). SIGTERM or
SIGINT stops it gracefully: it stops accepting, lets the requests in
flight finish (and, in the embedded default, the pipelines they started),
and :meth:`Server.run` returns 0.
"""

import signal
import threading

import cheroot.wsgi
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

#: Seconds a request in flight may take to finish once stopping.
SHUTDOWN_TIMEOUT = 60


class Server:
    """One cheroot server in front of ``application``."""

    def __init__(self, application, host, port, workers, backlog=4096):
        self.wsgi = cheroot.wsgi.Server(
            (host, port), application, numthreads=workers,
            server_name='volflow-api', shutdown_timeout=SHUTDOWN_TIMEOUT,
            request_queue_size=backlog)
        self._stopping = threading.Event()

    @property
    def address(self):
        """``(host, port)`` actually bound (after :meth:`prepare`)."""
        return self.wsgi.bind_addr[:2]

    def prepare(self):
        """Bind the socket; ``OSError`` if the address is taken."""
        self.wsgi.prepare()

    def stop(self, reason):
        if self._stopping.is_set():
            return
        self._stopping.set()
        LOG.info('Stopping the API server (%s): finishing the requests in '
                 'flight', reason)
        # Not from the signal handler: stop() joins the worker threads.
        threading.Thread(target=self.wsgi.stop, name='api-stop').start()

    def run(self):
        """Serve until SIGTERM or SIGINT; return the exit status (0)."""
        def on_signal(signum, _frame):
            self.stop(f'received {signal.Signals(signum).name}')

        previous = {sig: signal.signal(sig, on_signal)
                    for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            host, port = self.address
            LOG.info('Block Storage API listening on http://%(host)s:'
                     '%(port)s', {'host': host, 'port': port})
            self.wsgi.serve()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        LOG.info('API server stopped')
        return 0
