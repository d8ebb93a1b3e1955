"""What HTTP costs: creates through ``volflow api`` vs ``API.create``.

Run from a checkout: ``python benchmarks/http_api.py [N]`` (not
``http.py``: run as a script it would hide the standard library's
``http``). One process, one
SQLite state (the embedded default), the fake driver without latency; the
API is served by the same cheroot server ``volflow api`` runs, on a free
port of 127.0.0.1, in front of the very ``API`` the in-process creates
call. Measured in the same run:

1. one client: N creates one after the other, in process
   (``API.create``) and through one keep-alive HTTP connection
   (``POST /v3/bench/volumes`` until its 202). Each create's pipeline is
   let finish before the next (not timed), so both see the same machine;
2. 50 clients: 50 threads making N/10 creates each, at once, in process
   and over 50 keep-alive connections: wall time, and every HTTP answer
   that is not a 202 is an error.

Printed: milliseconds and the HTTP / in-process ratios. Targets: one
client ≤ 1.3, no error at 50.
"""

import http.client
import json
import socket
import statistics
import sys
import tempfile
import threading
import time

import _quiet  # noqa: E402,F401  (first: what follows warns on import)

import _setup  # noqa: E402  (benchmarks/ is sys.path[0] when run)

from volflow.api import app  # noqa: E402
from volflow.api import server  # noqa: E402
from volflow.rpc import local  # noqa: E402

CLIENTS = 50
BODY = json.dumps({'volume': {'size': 1, 'name': 'bench'}})
HEADERS = {'Content-Type': 'application/json',
           'X-Auth-Token': 'bench:bench'}


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _post(connection):
    connection.request('POST', '/v3/bench/volumes', BODY, HEADERS)
    response = connection.getresponse()
    response.read()
    return response.status


def one_client(env, port, count):
    """Mean ms per create: in process, then over one connection."""
    direct, over_http = [], []
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    _post(connection)  # warm up both paths
    env.api.create(_setup.CTX, 1, 'bench', None)
    local.wait_idle(60)
    for _ in range(count):
        start = time.perf_counter()
        env.api.create(_setup.CTX, 1, 'bench', None)
        direct.append(time.perf_counter() - start)
        local.wait_idle(60)
        start = time.perf_counter()
        status = _post(connection)
        over_http.append(time.perf_counter() - start)
        assert status == 202, status
        local.wait_idle(60)
    connection.close()
    return (statistics.mean(direct) * 1000,
            statistics.mean(over_http) * 1000)


def _at_once(work, per_client):
    errors = []

    def client():
        try:
            errors.extend(work(per_client))
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    local.wait_idle(600)
    return (time.perf_counter() - start) * 1000, errors


def many_clients(env, port, per_client):
    """Wall ms for CLIENTS x per_client creates, and the HTTP errors."""
    def direct(count):
        for _ in range(count):
            env.api.create(_setup.CTX, 1, 'bench', None)
        return []

    def over_http(count):
        connection = http.client.HTTPConnection('127.0.0.1', port,
                                                timeout=120)
        statuses = [_post(connection) for _ in range(count)]
        connection.close()
        return [status for status in statuses if status != 202]

    direct_ms, _ = _at_once(direct, per_client)
    http_ms, errors = _at_once(over_http, per_client)
    return direct_ms, http_ms, errors


def main(argv):
    count = int(argv[1]) if len(argv) > 1 else 100
    _setup.load_conf()
    state = tempfile.mkdtemp(prefix='volflow-http-')
    env = _setup.Env(f'sqlite:///{state}/http.sqlite', 0.0, max_workers=16,
                     state_path=state)
    port = _free_port()
    http_server = server.Server(app.build(_setup.CONF, api=env.api),
                                '127.0.0.1', port, workers=CLIENTS)
    http_server.prepare()
    thread = threading.Thread(target=http_server.wsgi.serve, daemon=True)
    thread.start()
    try:
        direct, over_http = one_client(env, port, count)
        print(f'one client, {count} creates: API.create {direct:.1f} ms, '
              f'HTTP {over_http:.1f} ms, ratio {over_http / direct:.2f} '
              f'(target <= 1.3)')
        per_client = max(1, count // 10)
        direct_ms, http_ms, errors = many_clients(env, port, per_client)
        print(f'{CLIENTS} clients x {per_client} creates: API.create '
              f'{direct_ms:.0f} ms, HTTP {http_ms:.0f} ms, ratio '
              f'{http_ms / direct_ms:.2f}; errors: {len(errors)} '
              f'(target 0)')
    finally:
        http_server.wsgi.stop()
        env.close()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
