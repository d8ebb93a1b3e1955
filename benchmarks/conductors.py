"""Create throughput with 1, 2 and 4 conductors: does the jobboard scale?

Run from the checkout's root (the throwaway servers come from the test
fixtures): ``python -m benchmarks.conductors [--count 200] [--latency
0.05] [--conductors 1 2 4]``. Not a test: it prints a table.

For each number of conductors, on a fresh PostgreSQL database and a fresh
Redis jobboard namespace:

1. ``volflow create --count N --no-wait`` posts N jobs (one fake backend,
   ``fake_latency`` seconds per driver call) with no conductor running;
2. the conductors start (``python -m volflow conductor``, one process
   each, one job at a time each) and drain the board;
3. throughput is read from the database: the time each volume became
   ``available`` (its ``updated_at``), over the middle 90% of the
   completions - the conductors' start-up (a second of imports, not
   quite at the same moment) and the last stragglers stay out of it;
4. the conductors' CPU time per create (from ``/proc``, start-up left
   out) tells how much of the machine each create takes.

Ratios are against one conductor measured in the same run.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import sqlalchemy as sa

from tests.fixtures import postgres
from tests.fixtures import redis as redis_fixture
from volflow import context as volflow_context
from volflow.db.sqlalchemy import api as sql_api

_CONFIG = """
[DEFAULT]
state_path = {state}
enabled_backends = bench
quota_volumes = -1
quota_gigabytes = -1
create_timeout = 600

[database]
connection = {url}

[bench]
volume_driver = fake
fake_latency = {latency}
total_capacity_gb = 10000000

[taskflow]
jobboard_enabled = true
jobboard_backend_hosts = {host}
jobboard_backend_port = {port}
jobboard_backend_namespace = {namespace}
jobboard_expiration_time = 30
"""


def _volflow(config, *args, **kwargs):
    return [sys.executable, '-m', 'volflow', '--config-file', config,
            *args]


def _wait_started(logs, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(os.path.exists(log) and 'started' in open(log).read()
               for log in logs):
            return
        time.sleep(0.05)
    raise RuntimeError('conductors did not start')


def _wait_done(url, count, timeout):
    """Wait until ``count`` volumes left ``creating``; return them.

    Polled with one cheap count a second: the benchmark must not take
    the CPU it measures.
    """
    engine = sa.create_engine(url)
    query = sa.text("SELECT count(*) FROM volumes WHERE status != "
                    "'creating'")
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                if conn.execute(query).scalar() >= count:
                    break
            time.sleep(1.0)
        else:
            raise RuntimeError('volumes still creating')
    finally:
        engine.dispose()
    db = sql_api.SQLAPI(url)
    try:
        return db.volume_get_all(volflow_context.get_admin_context())
    finally:
        db.dispose()


def _cpu_seconds(pid):
    """User + system CPU seconds a process used so far (Linux)."""
    with open(f'/proc/{pid}/stat') as stat:
        fields = stat.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def _rate(volumes):
    """Completions per second over the middle 90% of them."""
    done = sorted(v['updated_at'] for v in volumes)
    low, high = int(len(done) * 0.05), int(len(done) * 0.95) - 1
    span = (done[high] - done[low]).total_seconds()
    return (high - low) / span


def measure(conductors, count, latency, redis, pg_url, root):
    """Run ``count`` creates through ``conductors`` conductors."""
    name = f'bench_{uuid.uuid4().hex[:8]}'
    url = postgres.create_database(pg_url, name)
    work = tempfile.mkdtemp(dir=root)
    config = os.path.join(work, 'volflow.conf')
    with open(config, 'w') as f:
        f.write(_CONFIG.format(state=os.path.join(work, 'state'), url=url,
                               latency=latency, host=redis.host,
                               port=redis.port, namespace=name))
    subprocess.run(_volflow(config, 'create', '--size', '1', '--count',
                            str(count), '--no-wait', '--format', 'json'),
                   check=True, stdout=subprocess.DEVNULL)
    logs = [os.path.join(work, f'c{i}.log') for i in range(conductors)]
    started = time.monotonic()
    processes = [
        subprocess.Popen(_volflow(config, '--log-file', log, 'conductor',
                                  '--name', f'c{i}'),
                         stdin=subprocess.DEVNULL)
        for i, log in enumerate(logs)]
    try:
        _wait_started(logs)
        cpu = -sum(_cpu_seconds(p.pid) for p in processes)  # no imports
        volumes = _wait_done(url, count, timeout=600)
        wall = time.monotonic() - started
        cpu += sum(_cpu_seconds(p.pid) for p in processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)
        postgres.drop_database(pg_url, name)
    failed = sum(v['status'] != 'available' for v in volumes)
    return _rate(volumes), wall, cpu * 1000 / count, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=200)
    parser.add_argument('--latency', type=float, default=0.05)
    parser.add_argument('--conductors', type=int, nargs='+',
                        default=[1, 2, 4])
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix='volflow-bench-')
    redis = redis_fixture.Server().start()
    try:
        with postgres.server() as pg:
            rows = [(n, *measure(n, args.count, args.latency, redis,
                                 pg.url, root))
                    for n in args.conductors]
    finally:
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
    base = rows[0][1]
    print(f'{args.count} creates, fake driver {args.latency * 1000:.0f} ms '
          f'per call, PostgreSQL + Redis, {os.cpu_count()} CPUs')
    print(f"{'conductors':>10} {'creates/s':>10} {'ratio':>7} "
          f"{'wall s':>7} {'conductor CPU ms/create':>24} {'failed':>7}")
    for n, rate, wall, cpu, failed in rows:
        print(f'{n:>10} {rate:>10.1f} {rate / base:>6.2f}x {wall:>7.1f} '
              f'{cpu:>24.1f} {failed:>7}')


if __name__ == '__main__':
    main()
