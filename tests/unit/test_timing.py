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
    rows = {name: count for _kind, name, count, _mean, _max
            in collector.rows()}
    assert rows == {'first': 2, 'second': 2, 'timed': 2}
    table = collector.format().splitlines()
    assert table[0].split() == ['what', 'runs', 'mean', 'ms', 'max', 'ms']
    assert [line.split()[0] for line in table[1:]] == [
        'first', 'second', '[timed]']


def test_no_collector_by_default():
    assert timing.collector() is None
