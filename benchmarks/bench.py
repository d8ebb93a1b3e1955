"""volflow against raw taskflow, measured in one process and one run.

Run from a checkout: ``python benchmarks/bench.py`` (or ``tox -e bench``).
Every volflow number is divided by a raw taskflow baseline measured in the
same process a moment before, so the ratios hold on any machine; the
absolute milliseconds are printed alongside for the record.

(a) one full create (API + scheduler + manager flows, in-memory db, fake
    driver, no latency) against 13 no-op tasks in 3 linear flows built and
    loaded per run;
(b) 200 creates with 20 ms of driver latency per call at max_workers 16,
    against the larger of two bounds - the latency ideal for that worker
    count, and the CPU bound (200 x the CPU seconds one create takes, on
    the one core Python's threads share) - and against creating them one
    at a time;
(c) a cold ``python -m volflow create --size 1`` against a cold import of
    taskflow, oslo.log and oslo.config;
(d) create latency with 100,000 volumes in the SQLite database against an
    empty one;
(e) the API flow alone on the embedded SQLite database (real quota rows,
    a real volume row) against 5 no-op tasks in one linear flow, and the
    same on PostgreSQL and on MariaDB when their servers can be started
    here (the tests' throwaway servers); the two sides alternate, run by
    run, 3 x ``--repeat`` times; with, below each, its floor: the same
    flow with its database answers replayed from memory;
(f) a full create on SQLite with persistence against one without,
    alternating.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import _quiet  # noqa: E402,F401  (first: what follows warns on import)

import _raw  # noqa: E402  (benchmarks/ is sys.path[0] when run)
import _setup  # noqa: E402

sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))  # the checkout, for the tests' server fixtures
from tests.fixtures import mariadb  # noqa: E402,H306
from tests.fixtures import postgres  # noqa: E402,H306


#: Cores a CPU-bound create can use: Python runs one thread at a time.
USABLE_CORES = 1


def bench_full_create(repeat):
    base = _raw.best_ms(lambda: _raw.run_flows((5, 2, 6)), repeat)
    env = _setup.Env(connection='memory://', latency=0.0)
    try:
        ours = _raw.best_ms(env.create_and_wait, repeat)
    finally:
        env.close()
    return ('(a) full create, fake db+driver', ours, base, '<= 1.0')


def bench_throughput(count, latency, workers):
    env = _setup.Env(connection='memory://', latency=latency,
                     max_workers=workers)
    try:
        env.create_and_wait()  # warm up: managers, drivers, executor
        start = time.perf_counter()
        env.create_many(count)
        concurrent = time.perf_counter() - start
        start = time.perf_counter()
        cpu = time.process_time()
        for _ in range(max(count // 10, 1)):
            env.create_and_wait()
        serial = (time.perf_counter() - start) * 10
        cpu_per_create = (time.process_time() - cpu) / max(count // 10, 1)
    finally:
        env.close()
    per_create = latency * env.driver_calls_per_create
    ideal = count * per_create / workers
    # Python runs one thread at a time (the GIL): one usable core.
    cpu_bound = count * cpu_per_create / USABLE_CORES
    return concurrent, ideal, serial, cpu_bound, cpu_per_create


def bench_cold_cli(repeat):
    """A cold ``volflow create`` against a cold import, alternating.

    Both run with bytecode caching, into a cache of their own: an
    installed volflow has its ``.pyc`` files as taskflow has, and
    ``PYTHONDONTWRITEBYTECODE`` (tox sets it) would otherwise compile
    every volflow module on every run while the baseline compiles none.
    """
    state = tempfile.mkdtemp(prefix='volflow-bench-')
    conf = os.path.join(state, 'volflow.conf')
    with open(conf, 'w') as f:
        f.write(f'[DEFAULT]\nstate_path = {state}\n'
                'quota_volumes = -1\nquota_gigabytes = -1\n')
    env = dict(os.environ, PYTHONWARNINGS='ignore',
               PYTHONPYCACHEPREFIX=os.path.join(state, 'pycache'))
    env.pop('PYTHONDONTWRITEBYTECODE', None)

    def cli():
        subprocess.run([sys.executable, '-m', 'volflow', '--config-file',
                        conf, 'create', '--size', '1'], env=env, check=True,
                       stdout=subprocess.DEVNULL)

    def imports():
        subprocess.run([sys.executable, '-c',
                        'import taskflow.engines, oslo_log.log, '
                        'oslo_config.cfg'], env=env, check=True)
    samples = {cli: [], imports: []}
    try:
        cli()  # the first run creates the schema, seeds, fills the cache
        imports()
        for _ in range(repeat):
            for func in (imports, cli):
                start = time.perf_counter()
                func()
                samples[func].append((time.perf_counter() - start) * 1000.0)
    finally:
        shutil.rmtree(state, ignore_errors=True)
    ours, base = (sorted(samples[func]) for func in (cli, imports))
    return ('(c) cold CLI create vs imports',
            (ours[0], ours[len(ours) // 2]), (base[0], base[len(base) // 2]),
            '<= 1.5')


def bench_big_db(repeat, volumes):
    state = tempfile.mkdtemp(prefix='volflow-bench-')
    try:
        empty = _setup.Env(connection=f'sqlite:///{state}/empty.sqlite',
                           latency=0.0, state_path=state)
        try:
            base = _raw.best_ms(empty.create_and_wait, repeat)
        finally:
            empty.close()
        full = _setup.Env(connection=f'sqlite:///{state}/full.sqlite',
                          latency=0.0, state_path=state)
        try:
            full.fill(volumes)
            ours = _raw.best_ms(full.create_and_wait, repeat)
        finally:
            full.close()
    finally:
        shutil.rmtree(state, ignore_errors=True)
    return (f'(d) create, {volumes} volumes vs empty db', ours, base,
            '<= 1.2')


def bench_api_flow(repeat, connection=None, label='SQLite'):
    """The API flow against 5 no-op tasks, one run of each in turn.

    Three times ``repeat`` rounds: runs of a few milliseconds, on a shared
    machine whose load moves between them, need more samples than the
    other measurements; alternating, both sides see the same load.

    In the same rounds, the floor: the API flow with the answers of its
    database API calls replayed from memory (what one real flow got), its
    flow records still written - what taskflow and volflow cost around
    the database's work. (e) can come no closer to 1.0 than that.
    """
    state = tempfile.mkdtemp(prefix='volflow-bench-')
    env = _setup.Env(connection=connection or
                     f'sqlite:///{state}/api.sqlite',
                     latency=0.0, state_path=state)
    try:
        replayed = _Replayed(env.db)
        env.api_flow_only(replayed.recording())
        ours, floor, base = _raw.alternate_ms(
            [env.api_flow_only, lambda: env.api_flow_only(replayed),
             lambda: _raw.run_flows((5,))], repeat * 3)
    finally:
        env.close()
        shutil.rmtree(state, ignore_errors=True)
    return [(f'(e) API flow on {label} vs 5 no-ops', ours, base, '<= 1.5'),
            (f'    floor: db answers replayed ({label})', floor, base,
             'floor of (e)')]


class _Replayed:
    """A database API whose API-flow calls answer what one real flow got.

    Every other call (the flow's claim) goes to the real one.
    """

    CALLS = ('volume_type_get_by_name', 'quota_reserve', 'volume_create',
             'reservation_commit')

    def __init__(self, db):
        self._db = db
        self._answers = {}

    def __getattr__(self, name):
        if name in self._answers:
            return lambda *args, **kwargs: self._answers[name]
        return getattr(self._db, name)

    def recording(self):
        """The real database API, keeping the answers of :attr:`CALLS`."""
        replayed = self

        class Recording:
            def __getattr__(self, name):
                call = getattr(replayed._db, name)
                if name not in replayed.CALLS:
                    return call

                def recorded(*args, **kwargs):
                    replayed._answers[name] = call(*args, **kwargs)
                    return replayed._answers[name]
                return recorded
        return Recording()


def bench_persistence(repeat):
    """Full creates on SQLite, persistence on against off, alternating."""
    state = tempfile.mkdtemp(prefix='volflow-bench-')
    env = _setup.Env(connection=f'sqlite:///{state}/p.sqlite',
                     latency=0.0, state_path=state)
    samples = {True: [], False: []}
    try:
        for persist in (True, False, True, False):  # warm up both
            _setup.CONF.set_override('persistence_enabled', persist,
                                     group='taskflow')
            env.create_and_wait()
        for _ in range(repeat):
            for persist in (True, False):
                _setup.CONF.set_override('persistence_enabled', persist,
                                         group='taskflow')
                start = time.perf_counter()
                env.create_and_wait()
                samples[persist].append(
                    (time.perf_counter() - start) * 1000.0)
    finally:
        _setup.CONF.clear_override('persistence_enabled', group='taskflow')
        env.close()
        shutil.rmtree(state, ignore_errors=True)
    on, off = (sorted(samples[k]) for k in (True, False))
    return ('(f) create on SQLite, persistence on vs off',
            (on[0], on[len(on) // 2]), (off[0], off[len(off) // 2]),
            '<= 1.15')


def _server(module):
    """A throwaway server of the tests' fixture ``module``, or None."""
    try:
        return module.Server().start()
    except module.Unavailable:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeat', type=int, default=30,
                        help='runs per measurement (best is reported)')
    parser.add_argument('--volumes', type=int, default=100000,
                        help='volumes in the database for (d)')
    parser.add_argument('--count', type=int, default=200,
                        help='creates for (b)')
    parser.add_argument('--no-postgres', action='store_true',
                        help='skip (e) on PostgreSQL')
    parser.add_argument('--no-mariadb', action='store_true',
                        help='skip (e) on MariaDB')
    parser.add_argument('--no-persistence', action='store_true',
                        help='run with [taskflow] persistence_enabled off')
    parser.add_argument('--only', metavar='LETTERS', default='abcdef',
                        help='run only these measurements (e.g. "c")')
    args = parser.parse_args()
    _setup.load_conf()
    if args.no_persistence:
        _setup.CONF.set_override('persistence_enabled', False,
                                 group='taskflow')

    rows = []
    if 'a' in args.only:
        rows.append(bench_full_create(args.repeat))
    if 'b' in args.only:
        throughput = bench_throughput(args.count, 0.020, 16)
    if 'c' in args.only:
        rows.append(bench_cold_cli(max(args.repeat // 6, 3)))
    if 'd' in args.only:
        rows.append(bench_big_db(args.repeat, args.volumes))
    if 'e' in args.only:
        rows.extend(bench_api_flow(args.repeat))
    for module, label, skipped in ((postgres, 'PostgreSQL', args.no_postgres),
                                   (mariadb, 'MariaDB', args.no_mariadb)):
        server = None
        if 'e' in args.only and not skipped:
            server = _server(module)
        if server is not None:
            try:
                rows.extend(bench_api_flow(args.repeat, server.url, label))
            finally:
                server.stop()
    if 'f' in args.only and not args.no_persistence:
        rows.append(bench_persistence(args.repeat))

    print(f"{'measure':<42} {'volflow ms':>11} {'baseline ms':>12} "
          f"{'ratio':>6}  target")
    for name, (ours, ours_med), (base, base_med), target in rows:
        print(f'{name:<42} {ours:>11.2f} {base:>12.2f} {ours / base:>6.2f}'
              f'  {target}   (medians {ours_med:.2f} / {base_med:.2f})')
    if 'b' in args.only:
        _print_throughput(args.count, *throughput)


def _print_throughput(count, concurrent, ideal, serial, cpu_bound,
                      cpu_per_create):
    bound = max(ideal, cpu_bound)
    print(f"{'(b) %d creates, 20 ms latency, 16 workers' % count:<42} "
          f'{concurrent * 1000:>11.0f} {bound * 1000:>12.0f} '
          f'{concurrent / bound:>6.2f}  <= 1.25 of max(latency ideal '
          f'{ideal * 1000:.0f} ms, CPU bound {cpu_bound * 1000:.0f} ms = '
          f'{count} x {cpu_per_create * 1000:.1f} ms CPU / '
          f'{USABLE_CORES} core)')
    label = f'    ... one at a time (from {max(count // 10, 1)})'
    print(f'{label:<42} {serial * 1000:>11.0f} {"":>12} '
          f'{serial / concurrent:>6.2f}  speed-up of concurrency')


if __name__ == '__main__':
    main()
