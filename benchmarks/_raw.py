"""Raw taskflow baselines the volflow numbers are divided by.

The same number of no-op tasks, in linear flows built and loaded per run,
on the serial engine, in this process: what taskflow itself costs.
"""

import time

import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow import task


class _Noop(task.Task):
    def execute(self):
        return None


def run_flows(shape):
    """Build, load and run one linear flow per entry of ``shape``.

    ``shape`` lists the task count of each flow: ``(5, 2, 6)`` is the
    create pipeline's three flows.
    """
    for index, count in enumerate(shape):
        flow = linear_flow.Flow(f'raw-{index}')
        flow.add(*[_Noop(f'noop-{index}-{n}') for n in range(count)])
        taskflow.engines.load(flow, store={}).run()


def best_ms(func, repeat, warmup=3):
    """Best and median wall time of ``func`` in milliseconds."""
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()
    return samples[0], samples[len(samples) // 2]


def alternate_ms(funcs, repeat, warmup=3):
    """Best and median wall time in ms of each of ``funcs``, alternating.

    One run of each in turn, ``repeat`` rounds: a change in the machine's
    load between the two measurements touches both alike.

    :returns: a list of ``(best, median)``, in the order of ``funcs``.
    """
    for _ in range(warmup):
        for func in funcs:
            func()
    samples = [[] for _ in funcs]
    for _ in range(repeat):
        for func, times in zip(funcs, samples):
            start = time.perf_counter()
            func()
            times.append((time.perf_counter() - start) * 1000.0)
    for times in samples:
        times.sort()
    return [(times[0], times[len(times) // 2]) for times in samples]
