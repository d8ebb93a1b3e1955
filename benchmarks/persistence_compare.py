"""taskflow's own pieces against volflow's, the same flow in the same run.

Run from a checkout: ``python benchmarks/persistence_compare.py [N]``.
Every measurement runs the same six-task linear flow (each task takes
the previous one's result) on the serial engine, N times per variant,
the variants alternating run by run so that all see the same machine.
SQL statements are counted by a ``before_cursor_execute`` listener on
every SQLAlchemy engine of the process (``BEGIN`` is not a statement
here); times are medians in milliseconds.

Persistence on a SQLite file (the embedded default):

* ``taskflow``: taskflow's backend as a user of taskflow gets it,
  ``taskflow.persistence.backends.fetch({'connection': 'sqlite:///...'})``,
  a logbook saved, ``taskflow.engines.load(flow, flow_detail=...,
  book=..., backend=...)``; taskflow's storage adds the atom details.
* ``volflow``: volflow's backend (:func:`volflow.persistence.get_backend`
  of a volflow database on a SQLite file), the atom details made with
  the flow detail (``volflow.engines._add_atom_details``) and recorded in
  one transaction (:func:`volflow.persistence.create_detail`).
* ``volflow, storage's atoms``: volflow's backend, the atom details left
  to taskflow's storage.
* ``volflow + claim``: as a create flow loads (:func:`volflow.engines.record`,
  ``taskflow.engines.load``, :func:`volflow.engines.track`): the above
  plus the flow claim in the database and its release.

In memory: taskflow's ``impl_memory`` backend against volflow's
``MemoryBackend`` (which keeps the objects it is given).

Building the flow: the six tasks built with ``VolflowTask``'s
argument-mapping cache against taskflow's ``Atom._build_arg_mapping``.

Named locks: ``volflow.coordination.synchronized`` (oslo.concurrency's
``lockutils.lock``) against a bare ``threading.Lock``.

Service start: what importing ``oslo_service.service`` costs, in a
process of its own.
"""

import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import _quiet  # noqa: E402,F401  (first: what follows warns on import)

from oslo_utils import uuidutils  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from taskflow import atom as taskflow_atom  # noqa: E402
import taskflow.engines  # noqa: E402
from taskflow.patterns import linear_flow  # noqa: E402
from taskflow.persistence import backends as taskflow_backends  # noqa: E402
from taskflow.persistence.backends import impl_memory  # noqa: E402
from taskflow.persistence import models  # noqa: E402

from volflow import conf as volflow_conf  # noqa: E402
from volflow import coordination  # noqa: E402
from volflow import db as volflow_db  # noqa: E402
from volflow import engines  # noqa: E402
from volflow import flow_utils  # noqa: E402
from volflow import persistence  # noqa: E402
from volflow.persistence import _backend  # noqa: E402

CONF = volflow_conf.CONF
TASKS = 6


class _Step(flow_utils.VolflowTask):
    """Adds one to what the step before gave."""

    def execute(self, value):
        return value + 1


def build_flow():
    flow = linear_flow.Flow('compare')
    for n in range(TASKS):
        flow.add(_Step(addons=[str(n)], provides=f'v{n + 1}',
                       rebind={'value': f'v{n}'}))
    return flow


class Statements:
    """Statements run on any SQLAlchemy engine while counting."""

    def __init__(self):
        self.count = 0
        self.on = False
        sa.event.listen(sa.engine.Engine, 'before_cursor_execute',
                        self._seen)

    def _seen(self, conn, cursor, statement, *args):
        if self.on and not statement.lstrip().upper().startswith('BEGIN'):
            self.count += 1

    @contextlib.contextmanager
    def counting(self):
        self.count, self.on = 0, True
        try:
            yield
        finally:
            self.on = False


def _run_taskflow(backend):
    flow = build_flow()
    book = models.LogBook('compare')
    detail = models.FlowDetail(flow.name, uuidutils.generate_uuid())
    book.add(detail)
    with contextlib.closing(backend.get_connection()) as conn:
        conn.save_logbook(book)
    engine = taskflow.engines.load(flow, flow_detail=detail, book=book,
                                   backend=backend, store={'v0': 0},
                                   engine='serial')
    engine.run()
    assert engine.storage.fetch(f'v{TASKS}') == TASKS


def _record(db_api, backend):
    return persistence.Record('compare', uuidutils.generate_uuid(),
                              'persistence_compare.build_flow', {}, db_api,
                              backend=backend)


def _run_volflow(db_api, backend, atoms_with_the_record=True):
    flow = build_flow()
    store = {'v0': 0}
    detail = _record(db_api, backend).detail(flow.name, store)
    if atoms_with_the_record:
        engines._add_atom_details(detail, flow)
    assert persistence.create_detail(backend.get_connection(), detail,
                                     'compare')
    engine = taskflow.engines.load(flow, flow_detail=detail,
                                   backend=backend, store=store,
                                   engine='serial')
    engine.run()
    assert engine.storage.fetch(f'v{TASKS}') == TASKS


def _run_volflow_claimed(db_api, backend):
    flow = build_flow()
    recorded = engines.record(flow, {'v0': 0}, _record(db_api, backend))
    engine = engines.track(taskflow.engines.load(
        flow, store=recorded.store, engine='serial',
        backend=recorded.backend, flow_detail=recorded.flow_detail),
        recorded)
    assert engines.run_engine(engine)
    assert engine.storage.fetch(f'v{TASKS}') == TASKS


def _run_memory(backend):
    flow = build_flow()
    engine = taskflow.engines.load(flow, backend=backend, store={'v0': 0},
                                   engine='serial')
    engine.run()
    assert engine.storage.fetch(f'v{TASKS}') == TASKS


def _timed(func, counter=None):
    start = time.perf_counter()
    if counter is None:
        func()
        return (time.perf_counter() - start) * 1000.0, 0
    with counter.counting():
        func()
    return (time.perf_counter() - start) * 1000.0, counter.count


def _compare(variants, count, counter=None):
    """``{name: (median ms, statements of the last run)}``."""
    for func in variants.values():  # warm up
        for _ in range(3):
            func()
    samples = {name: [] for name in variants}
    statements = {}
    for _ in range(count):
        for name, func in variants.items():
            took, seen = _timed(func, counter)
            samples[name].append(took)
            statements[name] = seen
    return {name: (statistics.median(samples[name]), statements[name])
            for name in variants}


def _print(title, results, base, statements=True):
    print(f'\n{title}')
    base_ms, base_n = results[base]
    for name, (ms, n) in results.items():
        line = f'  {name:28} {ms:8.2f} ms  x{ms / base_ms:5.2f}'
        if statements:
            line += f'  {n:3d} statements  x{n / base_n:5.2f}'
        print(line)


def persistence_sql(count, counter):
    state = tempfile.mkdtemp(prefix='volflow-compare-')
    try:
        CONF.set_override('connection', f'sqlite:///{state}/volflow.sqlite',
                          group='database')
        db_api = volflow_db.get_api(conf=CONF)
        ours = persistence.get_backend(db_api, CONF)
        theirs = taskflow_backends.fetch(
            {'connection': f'sqlite:///{state}/taskflow.sqlite'})
        with contextlib.closing(theirs.get_connection()) as conn:
            conn.upgrade()
        results = _compare({
            'taskflow impl_sqlalchemy': lambda: _run_taskflow(theirs),
            'volflow': lambda: _run_volflow(db_api, ours),
            "volflow, storage's atoms": lambda: _run_volflow(
                db_api, ours, atoms_with_the_record=False),
            'volflow + claim': lambda: _run_volflow_claimed(db_api, ours),
        }, count, counter)
        theirs.close()
        _print(f'Persistence, SQLite file, {TASKS}-task flow, median of '
               f'{count}:', results, 'taskflow impl_sqlalchemy')
    finally:
        _backend.reset()
        volflow_db.reset_apis()
        CONF.clear_override('connection', group='database')
        shutil.rmtree(state, ignore_errors=True)


def persistence_memory(count):
    theirs = impl_memory.MemoryBackend()
    ours = _backend.MemoryBackend()
    results = _compare({
        'taskflow impl_memory': lambda: _run_memory(theirs),
        'volflow MemoryBackend': lambda: _run_memory(ours),
    }, count)
    _print(f'Persistence in memory, median of {count}:', results,
           'taskflow impl_memory', statements=False)


def arg_mapping(count):
    cached = flow_utils.VolflowTask._build_arg_mapping

    def uncached():
        flow_utils.VolflowTask._build_arg_mapping = (
            taskflow_atom.Atom._build_arg_mapping)
        try:
            build_flow()
        finally:
            flow_utils.VolflowTask._build_arg_mapping = cached

    results = _compare({
        "taskflow's _build_arg_mapping": uncached,
        'VolflowTask cache': build_flow,
    }, count * 10)
    _print(f'Building the {TASKS}-task flow, median of {count * 10}:',
           results, "taskflow's _build_arg_mapping", statements=False)


def locks(count):
    plain = threading.Lock()

    def bare():
        for n in range(1000):
            with plain:
                pass

    def named():
        for n in range(1000):
            with coordination.synchronized(f'{n}-delete_volume'):
                pass

    results = _compare({'threading.Lock': bare,
                        'coordination (lockutils)': named}, count)
    _print(f'1000 lock/unlock, median of {count}:', results,
           'threading.Lock', statements=False)


def service_import():
    code = ('import time, warnings; warnings.simplefilter("ignore"); '
            't = time.perf_counter(); import oslo_service.service; '
            'import sys; print((time.perf_counter() - t) * 1000, '
            '"eventlet" in sys.modules)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout.split()
    print(f'\nImporting oslo_service.service: {float(out[0]):.0f} ms, '
          f'eventlet imported: {out[1]}')


def main(count=30):
    volflow_conf.load([])
    counter = Statements()
    persistence_sql(count, counter)
    persistence_memory(count)
    arg_mapping(count)
    locks(count)
    service_import()


if __name__ == '__main__':
    main(*(int(a) for a in sys.argv[1:2]))
