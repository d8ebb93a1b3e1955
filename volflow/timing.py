"""Per-task timings, from taskflow's own DurationListener.

:class:`TimingListener` is taskflow's ``DurationListener`` feeding a
process-wide :class:`Timings` collector instead of writing each duration
into flow storage (a storage write per task is most of a task's cost on
taskflow's in-memory backend). ``volflow create --timings`` turns it on
and prints the table at the end.

A task's execution and its revert are timed apart: a refused request runs
``execute`` once and ``revert`` once, and the table says so in two rows
instead of counting two runs.
"""

import threading

from taskflow.engines.action_engine import compiler
from taskflow.listeners import timing
from taskflow import states

#: The end states of a task's revert (the others end its execution).
_REVERT_ENDINGS = frozenset([states.REVERTED, states.REVERT_FAILURE])


class Timings:
    """Thread-safe durations in seconds, by flow or task name."""

    def __init__(self):
        self._lock = threading.Lock()
        self._samples = {}

    def add(self, kind, name, seconds, phase='execute'):
        """Add one duration of a task's execute or revert, a flow's run."""
        with self._lock:
            self._samples.setdefault((kind, name, phase), []).append(seconds)

    def rows(self):
        """``[(kind, name, phase, count, mean ms, max ms)]``, in order."""
        with self._lock:
            items = list(self._samples.items())
        return [(kind, name, phase, len(values),
                 1000.0 * sum(values) / len(values), 1000.0 * max(values))
                for (kind, name, phase), values in items]

    def format(self):
        """The table ``volflow create --timings`` prints."""
        rows = [(_label(kind, name), phase, count, mean, peak)
                for kind, name, phase, count, mean, peak in self.rows()]
        width = max([len(label) for label, *_ in rows] + [4])
        lines = [f"{'what':<{width}}  {'phase':<7}  {'count':>5}  "
                 f"{'mean ms':>9}  {'max ms':>9}"]
        for label, phase, count, mean, peak in rows:
            lines.append(f'{label:<{width}}  {phase:<7}  {count:>5}  '
                         f'{mean:>9.2f}  {peak:>9.2f}')
        return '\n'.join(lines)


def _label(kind, name):
    """A task's class name, or a flow's name in brackets."""
    if kind == compiler.TASK:
        return name.split(';')[0].rsplit('.', 1)[-1]
    return f'[{name}]'


class TimingListener(timing.DurationListener):
    """taskflow's duration listener, recording into :class:`Timings`."""

    def __init__(self, engine, timings):
        super().__init__(engine)
        self._timings = timings

    def _record_ending(self, timer, item_type, item_name, state):
        if item_type != compiler.TASK:
            phase = 'run'
        elif state in _REVERT_ENDINGS:
            phase = 'revert'
        else:
            phase = 'execute'
        self._timings.add(item_type, item_name, timer.elapsed(), phase)


_COLLECTOR = None


def enable():
    """Start collecting timings in this process; return the collector."""
    global _COLLECTOR
    _COLLECTOR = Timings()
    return _COLLECTOR


def disable():
    global _COLLECTOR
    _COLLECTOR = None


def collector():
    """The active collector, or None when timings are off."""
    return _COLLECTOR
