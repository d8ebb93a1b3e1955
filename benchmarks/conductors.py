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
4. the CPU time per create of each kind of process - the conductors
   (start-up left out; also per conductor process), PostgreSQL (the
   postmaster and its backends) and Redis - from ``/proc``, tells how
   much of the machine each create takes. Their sum bounds the
   throughput: ``CPUs / CPU per create`` creates per second at best
   (the "ceiling" column), whatever the number of conductors.

Ratios are against one conductor measured in the same run; "per N" is
the ratio divided by the number of conductors (the target is 0.85 on a
quiet machine). The load average before the run is printed: on a
machine others are using, the ceiling is lower than it says.
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


def _tree_cpu_seconds(pid):
    """CPU seconds of a process, its reaped children and its live ones."""
    try:
        with open(f'/proc/{pid}/stat') as stat:
            fields = stat.read().rsplit(')', 1)[1].split()
    except FileNotFoundError:
        return 0.0
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    total = ticks / os.sysconf('SC_CLK_TCK')
    for child in _children(pid):
        total += _tree_cpu_seconds(child)
    return total


def _children(pid):
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as stat:
                ppid = int(stat.read().rsplit(')', 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if ppid == pid:
            found.append(int(entry))
    return found


def _rate(volumes):
    """Completions per second over the middle 90% of them."""
    done = sorted(v['updated_at'] for v in volumes)
    low, high = int(len(done) * 0.05), int(len(done) * 0.95) - 1
    span = (done[high] - done[low]).total_seconds()
    return (high - low) / span


def measure(conductors, count, latency, redis, pg, root):
    """Run ``count`` creates through ``conductors`` conductors.

    :returns: ``(rate, wall, {kind: CPU ms per create}, failed)``.
    """
    pg_url = pg.url
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

        def servers():
            return (_tree_cpu_seconds(pg.process.pid),
                    _tree_cpu_seconds(redis.process.pid))

        cpu = -sum(_cpu_seconds(p.pid) for p in processes)  # no imports
        pg_cpu, redis_cpu = (-value for value in servers())
        volumes = _wait_done(url, count, timeout=600)
        wall = time.monotonic() - started
        cpu += sum(_cpu_seconds(p.pid) for p in processes)
        pg_end, redis_end = servers()
        pg_cpu += pg_end
        redis_cpu += redis_end
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(30)
        postgres.drop_database(pg_url, name)
    failed = sum(v['status'] != 'available' for v in volumes)
    per_create = {'conductors': cpu * 1000 / count,
                  'per conductor': cpu * 1000 / count / conductors,
                  'postgresql': pg_cpu * 1000 / count,
                  'redis': redis_cpu * 1000 / count}
    return _rate(volumes), wall, per_create, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=200)
    parser.add_argument('--latency', type=float, default=0.05)
    parser.add_argument('--conductors', type=int, nargs='+',
                        default=[1, 2, 4])
    args = parser.parse_args()
    load = os.getloadavg()
    root = tempfile.mkdtemp(prefix='volflow-bench-')
    redis = redis_fixture.Server().start()
    try:
        with postgres.server() as pg:
            rows = [(n, *measure(n, args.count, args.latency, redis,
                                 pg, root))
                    for n in args.conductors]
    finally:
        redis.stop()
        shutil.rmtree(root, ignore_errors=True)
    base = rows[0][1]
    cpus = os.cpu_count()
    print(f'{args.count} creates, fake driver {args.latency * 1000:.0f} ms '
          f'per call, PostgreSQL + Redis, {cpus} CPUs, load average '
          f'{load[0]:.2f} before the run')
    print(f"{'conductors':>10} {'creates/s':>9} {'ratio':>6} {'per N':>5} "
          f"{'wall s':>6} | CPU ms/create: {'conductors':>10} "
          f"{'each':>5} {'pg':>5} {'redis':>5} {'total':>5} | "
          f"{'ceiling/s':>9} {'failed':>6}")
    for n, rate, wall, cpu, failed in rows:
        total = cpu['conductors'] + cpu['postgresql'] + cpu['redis']
        ratio = rate / base
        print(f"{n:>10} {rate:>9.1f} {ratio:>5.2f}x {ratio / n:>5.2f} "
              f"{wall:>6.1f} | {'':>14} {cpu['conductors']:>10.1f} "
              f"{cpu['per conductor']:>5.1f} {cpu['postgresql']:>5.1f} "
              f"{cpu['redis']:>5.1f} {total:>5.1f} | "
              f"{cpus * 1000 / total:>9.1f} {failed:>6}")


if __name__ == '__main__':
    main()
