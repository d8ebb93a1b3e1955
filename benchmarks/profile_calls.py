"""What each database call of an API flow costs, and where it goes.

Run from a checkout: ``python benchmarks/profile_calls.py [--flows N]
[--connection URL]``. It runs N API flows (as benchmark (e) does) on a
SQLite file, or on ``--connection``, timing every call of volflow's
database API and of the flow records' connection (wall clock, best and
median per call), then N more under cProfile, and prints the CPU time per
flow of the layers each call goes through: oslo.db's enginefacade
(transaction scopes, sessions), SQLAlchemy's ORM (``Session``, unit of
work, loading), SQLAlchemy Core (compiling, executing, result rows), the
DB-API driver, volflow's hooks on the engine, JSON, taskflow.
"""

import argparse
import collections
import cProfile
import functools
import pstats
import statistics
import time

import _quiet  # noqa: E402,F401  (first: what follows warns on import)

import _setup  # noqa: E402  (benchmarks/ is sys.path[0] when run)
from volflow import persistence  # noqa: E402

#: The database API's calls an API flow makes, timed one by one.
DB_CALLS = ('volume_type_get_by_name', 'volume_type_get', 'quota_get_all',
            'quota_get_all_of', 'quota_reserve', 'volume_create',
            'reservation_commit')
#: The flow records' calls (taskflow's connection interface).
RECORD_CALLS = ('create_logbook', 'save_logbook', 'update_flow_details',
                'update_atom_details')

#: (layer, fragment): a function's own CPU time goes to the first layer
#: whose fragment is in its file name (or, for a built-in, a C
#: extension's method, in its name).
LAYERS = (
    ('driver: psycopg2', 'psycopg2'),
    ('driver: sqlite3', 'sqlite3'),
    ('driver: PyMySQL', 'pymysql'),
    ('volflow hooks on the engine', 'volflow/db/sqlalchemy/_engine.py'),
    ('volflow database API', 'volflow/db/'),
    ('volflow records', 'volflow/persistence/'),
    ('volflow flows, quota, rest', 'volflow/'),
    ('oslo.db enginefacade', 'oslo_db/'),
    ('SQLAlchemy ORM', 'sqlalchemy/orm/'),
    ('SQLAlchemy compiler', 'sqlalchemy/sql/'),
    ('SQLAlchemy engine, pool, events', 'sqlalchemy/'),
    ('JSON', 'json/'),
    ('taskflow', 'taskflow/'),
    ('locks (fasteners, threading)', 'fasteners/'),
    ('locks (fasteners, threading)', 'threading.py'),
    ('tenacity', 'tenacity/'),
)


def _timed(obj, name, samples):
    func = getattr(obj, name, None)
    if func is None:
        return

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            samples[name].append(time.perf_counter() - start)
    setattr(obj, name, wrapper)


def time_calls(env, flows):
    samples = collections.defaultdict(list)
    for name in DB_CALLS:
        _timed(env.db, name, samples)
    backend = persistence.get_backend(env.db, _setup.CONF)
    connection = backend.get_connection()
    get_connection = backend.get_connection
    for name in RECORD_CALLS:
        _timed(connection, name, samples)
    backend.get_connection = lambda: connection
    totals = []
    try:
        for _n in range(flows):
            start = time.perf_counter()
            env.api_flow_only()
            totals.append(time.perf_counter() - start)
    finally:
        backend.get_connection = get_connection
    return samples, totals


def profile(env, flows):
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    for _n in range(flows):
        env.api_flow_only()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    layers = collections.Counter()
    total = 0.0
    for (filename, _line, func), (_cc, _nc, tottime, _ct, _callers) in (
            stats.items()):
        total += tottime
        for layer, fragment in LAYERS:
            if fragment in filename or (filename == '~' and fragment in func):
                layers[layer] += tottime
                break
        else:
            layers['other (builtins, stdlib)'] += tottime
    return layers, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--flows', type=int, default=200)
    parser.add_argument('--connection', default=None)
    args = parser.parse_args()
    _setup.load_conf()
    with _setup.sql_env(args.connection) as env:
        for _n in range(20):
            env.api_flow_only()
        samples, totals = time_calls(env, args.flows)
        print(f'API flow: best {min(totals) * 1e3:.2f} ms, median '
              f'{statistics.median(totals) * 1e3:.2f} ms')
        print(f'{"call":32} {"per flow":>8} {"best µs":>8} {"median µs":>9}')
        for name, values in sorted(samples.items(),
                                   key=lambda kv: -statistics.median(kv[1])):
            print(f'{name:32} {len(values) / args.flows:8.1f} '
                  f'{min(values) * 1e6:8.0f} '
                  f'{statistics.median(values) * 1e6:9.0f}')
        layers, total = profile(env, args.flows)
        print(f'\nCPU per flow under cProfile: {total / args.flows * 1e3:.2f}'
              f' ms (inflated), own time by layer:')
        for layer, seconds in layers.most_common():
            print(f'  {layer:34} {seconds / args.flows * 1e3:6.2f} ms '
                  f'{seconds / total:5.1%}')


if __name__ == '__main__':
    main()
