"""The trace's events and lines, on plain taskflow flows."""

import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow.persistence.backends import impl_memory
from taskflow import task

from volflow import exception
from volflow import tracing


class _Double(task.Task):
    default_provides = 'doubled'

    def execute(self, number):
        return 2 * number

    def revert(self, number, **kwargs):
        return 'undone'


class _Last(task.Task):
    def execute(self, doubled):
        return doubled


def _run(fail_at=None, backend=None):
    """The events of one run (recorded in ``backend``'s flow if given)."""
    flow = linear_flow.Flow('volume_create_api').add(
        _Double('tests.Double', rebind={'number': 'raw_number'}),
        _Last('tests.Last'))
    engine = taskflow.engines.load(flow, store={'raw_number': 21},
                                   backend=backend)
    events = []
    tracing.inject_failure(fail_at)
    try:
        tracing.prepare(engine)
        with tracing.TraceListener(engine, sink=events.append,
                                   record=backend is not None):
            try:
                engine.run()
            except exception.InjectedFailure:
                pass
    finally:
        tracing.disable()
    return events


def test_events_say_what_each_task_took_after_rebind_and_gave():
    events = _run()
    assert [(e['task'], e['action'], e['state']) for e in events] == [
        ('tests.Double', 'execute', 'SUCCESS'),
        ('tests.Last', 'execute', 'SUCCESS')]
    assert events[0]['inputs'] == {'number': {'key': 'raw_number',
                                              'value': 21}}
    assert events[0]['outputs'] == {'doubled': 42}
    assert events[1]['inputs'] == {'doubled': {'key': 'doubled',
                                               'value': 42}}


def test_an_injected_failure_reverts_in_reverse_order():
    events = _run(fail_at='Last')
    assert [(e['task'], e['action'], e['state']) for e in events] == [
        ('tests.Double', 'execute', 'SUCCESS'),
        ('tests.Last', 'execute', 'FAILURE'),
        ('tests.Last', 'revert', 'REVERTED'),
        ('tests.Double', 'revert', 'REVERTED')]
    assert events[1]['outputs'] == {
        'failure': 'InjectedFailure: Failure injected at Last (--fail-at).'}
    assert events[3]['outputs'] == {'result': 'undone'}


def test_a_line_fits_in_100_columns_and_shows_the_rebind():
    line = tracing.format_event(dict(_run()[0], task='x.' + 'T' * 30))
    assert len(line) <= 100
    line = tracing.format_event(_run()[0])
    assert 'number<-raw_number=21' in line and '-> doubled=42' in line


def test_secrets_are_masked_in_lines_and_json():
    event = dict(_run()[0], outputs={'doubled': 'password=hunter2'})
    assert 'hunter2' not in tracing.format_event(event)
    assert 'hunter2' not in str(tracing.jsonable(event))


class _Backend:
    """A taskflow memory backend recording each flow detail write."""

    def __init__(self):
        self.backend = impl_memory.MemoryBackend()
        self.writes = []
        conn = self.backend.get_connection()
        update = conn.update_flow_details

        def recorded(flow_detail, *args, **kwargs):
            self.writes.append((flow_detail.state,
                                flow_detail.meta.get(tracing.META)))
            return update(flow_detail, *args, **kwargs)

        conn.update_flow_details = recorded
        self.backend.get_connection = lambda: conn


def test_the_recorded_trace_goes_with_the_final_state():
    """No write of its own: the final state's write carries the events."""
    for fail_at in (None, 'Last'):
        backend = _Backend()
        events = _run(fail_at, backend.backend)
        final = 'SUCCESS' if fail_at is None else 'REVERTED'
        last_state, trace = backend.writes[-1]
        assert last_state == final
        assert [e['task'] for e in trace] == [e['task'] for e in events]
        assert len(trace) == (2 if fail_at is None else 4)
        assert [state for state, _trace in backend.writes].count(
            final) == 1
