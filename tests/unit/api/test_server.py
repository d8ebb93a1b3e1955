"""The API server's listen backlog holds a burst of clients.

Before a thread of the server accepts them, connections wait in the
kernel's accept queue, as long as the listen backlog allows; past it the
kernel drops the client's handshake, and a client that got a SYN cookie
meanwhile is reset. cheroot's default backlog is 5, which a burst of 25
clients on a busy machine overflowed. These tests hold the server before
it accepts anything (bound, never serving), so only the backlog decides.
"""

import select
import socket
import threading
import time

import pytest

from volflow.api import server

CLIENTS = 40


def _application(environ, start_response):
    start_response('204 No Content', [])
    return [b'']


def _connected(port, clients):
    """How many of ``clients`` connections, opened at once, complete."""
    sockets = [socket.socket() for _ in range(clients)]
    try:
        for client in sockets:
            client.setblocking(False)
            client.connect_ex(('127.0.0.1', port))
        # A completed handshake makes the socket writable; a dropped one
        # leaves it connecting (the kernel drops the retried SYN too, as
        # the queue stays full: nothing accepts).
        pending, made = set(sockets), 0
        deadline = time.monotonic() + 3
        while pending and time.monotonic() < deadline:
            _readable, writable, _failed = select.select(
                [], list(pending), [], 0.1)
            for client in writable:
                pending.discard(client)
                made += not client.getsockopt(socket.SOL_SOCKET,
                                              socket.SO_ERROR)
        return made
    finally:
        for client in sockets:
            client.close()


@pytest.fixture
def bound():
    made = []

    def bind(**kwargs):
        http = server.Server(_application, '127.0.0.1', 0, 1, **kwargs)
        http.prepare()
        made.append(http)
        return http.address[1]

    yield bind
    for http in made:
        # prepare() started the server's threads: stop joins them.
        http.wsgi.stop()
    # A worker thread left behind would keep the test process alive.
    assert not [thread for thread in threading.enumerate()
                if thread.name.startswith('CP Server')]


def test_the_default_backlog_queues_a_burst_of_clients(bound):
    assert _connected(bound(), CLIENTS) == CLIENTS


def test_a_backlog_of_five_does_not(bound):
    # The same burst against cheroot's own default: the kernel refuses
    # to complete the handshakes past the backlog.
    assert _connected(bound(backlog=5), CLIENTS) < CLIENTS
