"""Per-task timings collected from real engine runs."""

from taskflow.patterns import linear_flow
from taskflow import task

from volflow import conf
from volflow import engines
from volflow import timing


class _Sleep(task.Task):
    def execute(self):
        return None


def test_timings_cover_every_task_and_the_flow():
    conf.load()
    collector = timing.enable()
    try:
        for _ in range(2):
            flow = linear_flow.Flow('timed')
            flow.add(_Sleep('first'), _Sleep('second'))
            engines.run_engine(engines.load_engine(flow, {}))
    finally:
        timing.disable()
    rows = {(name, phase): count for _kind, name, phase, count, _mean, _max
            in collector.rows()}
    assert rows == {('first', 'execute'): 2, ('second', 'execute'): 2,
                    ('timed', 'run'): 2}
    table = collector.format().splitlines()
    assert table[0].split() == ['what', 'phase', 'count', 'mean', 'ms',
                                'max', 'ms']
    assert [line.split()[:2] for line in table[1:]] == [
        ['first', 'execute'], ['second', 'execute'], ['[timed]', 'run']]


class _Refuse(task.Task):
    def execute(self):
        raise ValueError('refused')


def test_a_revert_is_not_counted_as_a_run():
    conf.load()
    collector = timing.enable()
    try:
        for _ in range(3):
            flow = linear_flow.Flow('refused')
            flow.add(_Sleep('first'), _Refuse('second'))
            try:
                engines.run_engine(engines.load_engine(flow, {}))
            except ValueError:
                pass
    finally:
        timing.disable()
    rows = {(name, phase): count for _kind, name, phase, count, _mean, _max
            in collector.rows()}
    assert rows == {('first', 'execute'): 3, ('first', 'revert'): 3,
                    ('second', 'execute'): 3, ('second', 'revert'): 3,
                    ('refused', 'run'): 3}


def test_no_collector_by_default():
    assert timing.collector() is None
