"""What recording every flow costs: creates with persistence on and off.

Run from a checkout: ``python benchmarks/persistence.py [N]``. One
process, one SQLite state (the embedded default: taskflow's SQL backend
on the volflow database), the fake driver without latency; creates with
``[taskflow] persistence_enabled`` on and off alternate, so that both
see the same machine. A create is measured from ``API.create`` until
every flow it started has ended (the in-process rpc is idle); the API
flow alone until ``API.create`` returns.

The contract: a create with persistence costs at most twice one without.
"""

import sys
import tempfile
import time

import _quiet  # noqa: E402,F401  (first: what follows warns on import)

import _setup  # noqa: E402  (benchmarks/ is sys.path[0] when run)

from volflow.rpc import local  # noqa: E402


def _create(env, persist):
    _setup.CONF.set_override('persistence_enabled', persist,
                             group='taskflow')
    start = time.perf_counter()
    volume = env.api.create(_setup.CTX, 1, 'bench', None)
    api_done = time.perf_counter()
    assert local.wait_idle(60)
    done = time.perf_counter()
    assert env.db.volume_get(_setup.CTX, volume['id'])['status'] == (
        'available')
    return (api_done - start) * 1000, (done - start) * 1000


def _quantiles(samples):
    ordered = sorted(samples)
    return ordered[0], ordered[len(ordered) // 4], ordered[len(ordered) // 2]


def main(count=50):
    _setup.load_conf()
    state = tempfile.mkdtemp(prefix='volflow-bench-')
    env = _setup.Env(connection=f'sqlite:///{state}/volflow.sqlite',
                     latency=0.0, state_path=state)
    try:
        for _ in range(5):  # warm up: managers, drivers, tables
            _create(env, True)
            _create(env, False)
        runs = {True: [], False: []}
        for _ in range(count):
            for persist in (True, False):
                runs[persist].append(_create(env, persist))
    finally:
        _setup.CONF.clear_override('persistence_enabled', group='taskflow')
        env.close()
    print(f'{count} creates each way, SQLite file, ms (min / p25 / median)')
    for index, what in enumerate(('API flow', 'full create')):
        off = _quantiles([r[index] for r in runs[False]])
        on = _quantiles([r[index] for r in runs[True]])
        ratio = ' / '.join(f'{b / a:.2f}' for a, b in zip(off, on))
        print(f"{what:12} off {' / '.join(f'{v:6.1f}' for v in off)}   "
              f"on {' / '.join(f'{v:6.1f}' for v in on)}   "
              f"ratio {ratio}")


if __name__ == '__main__':
    main(*(int(arg) for arg in sys.argv[1:]))
