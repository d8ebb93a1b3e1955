"""Where one create's time goes, with cProfile, by layer.

Run from a checkout: ``python benchmarks/profile_create.py [--creates N]
[--connection URL]``. It runs N full creates (API, scheduler and manager
flows, fake driver without latency) one after the other under cProfile,
every thread profiled on its own CPU clock (``time.thread_time``: a
thread waiting for the GIL or a lock costs nothing), and prints the
cumulative CPU time per create of the
functions that stand for each layer:

* taskflow: loading an engine (``taskflow.engines.load``: storage set up,
  the flow detail saved), compiling and preparing it, and the run itself;
* within the run: taskflow's storage (``Storage._with_connection``: every
  state, result and progress write, and the persistence backend under
  it), the listeners' callbacks, and the tasks' ``execute``;
* volflow's database calls (quota, volume rows, claims) wherever they
  are made, and its flow claims.

Rows nest (the run includes storage, listeners and the tasks; the tasks
include most database calls), so they do not add up; the profiler
inflates every figure about two-fold, so compare rows, not runs.
"""

import argparse
import cProfile
import pstats
import sys
import threading
import time

import _quiet  # noqa: E402,F401  (first: what follows warns on import)

import _setup  # noqa: E402  (benchmarks/ is sys.path[0] when run)

#: (row, file fragment, function names or None for every public one).
PROBES = (
    ('taskflow: engines.load', 'taskflow/engines/helpers.py', {'load'}),
    ('taskflow: compile', 'action_engine/engine.py', {'compile'}),
    ('taskflow: prepare', 'action_engine/engine.py', {'prepare'}),
    ('taskflow: run', 'action_engine/engine.py', {'run'}),
    ('  storage writes and reads (persistence)', 'taskflow/storage.py',
     {'_with_connection'}),
    ('  listener callbacks', 'taskflow/listeners/', {'_task_receiver',
                                                     '_flow_receiver'}),
    ('  tasks: execute', 'volflow/flows/', {'execute'}),
    ('volflow database calls', 'volflow/db/sqlalchemy/', None),
    ('volflow database calls', 'volflow/db/fake.py', None),
    ('volflow flow claims', 'volflow/persistence/_claims.py',
     {'claim', 'release'}),
)


def profile_creates(env, creates):
    """Profile ``creates`` full creates in every thread; their stats."""
    profilers = []
    lock = threading.Lock()

    def profile_thread(*_args):
        profiler = cProfile.Profile(time.thread_time)
        with lock:
            profilers.append(profiler)
        profiler.enable()

    main = cProfile.Profile(time.thread_time)
    threading.setprofile(profile_thread)
    main.enable()
    try:
        for _ in range(creates):
            env.create_and_wait()
    finally:
        main.disable()
        threading.setprofile(None)
    for profiler in profilers:
        profiler.disable()
    stats = pstats.Stats(main)
    for profiler in profilers:
        stats.add(profiler)
    return stats


def rows_of(stats):
    """``{row: cumulative seconds}`` over the probes."""
    found = {}
    for (filename, _line, name), numbers in stats.stats.items():
        for row, fragment, names in PROBES:
            if fragment not in filename:
                continue
            if names is None and (name.startswith('_') or
                                  name == '<module>'):
                continue
            if names is not None and name not in names:
                continue
            # Public db methods call each other rarely; count the
            # outermost calls only: time not spent under another probe
            # function of the same row is what ``cumtime`` of the
            # callers outside the row gives.
            callers = numbers[4]
            outside = sum(c[3] for caller, c in callers.items()
                          if fragment not in caller[0])
            found[row] = found.get(row, 0.0) + (
                outside if names is None else numbers[3])
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--creates', type=int, default=200)
    parser.add_argument('--connection', default=None,
                        help='database URL (default: a SQLite file)')
    args = parser.parse_args()
    _setup.load_conf()
    with _setup.sql_env(args.connection, 'volflow-profile-') as env:
        for _ in range(20):  # warm up: managers, drivers, caches
            env.create_and_wait()
        stats = profile_creates(env, args.creates)
    found = rows_of(stats)
    print(f'{args.creates} creates on {env.connection.split(":")[0]}, '
          f'profiled: milliseconds per create (rows nest)')
    for row in dict.fromkeys(p[0] for p in PROBES):
        print(f'{row:<44} {found.get(row, 0.0) * 1000 / args.creates:>8.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
