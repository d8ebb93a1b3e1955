"""``graph``: DOT from a loaded engine."""

import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow import task

from volflow.cmd import _graph
from volflow import conf as volflow_conf


class _Noop(task.Task):
    def execute(self):
        pass


def test_engine_to_dot_in_run_order():
    flow = linear_flow.Flow('demo "quoted"').add(_Noop('first'),
                                                 _Noop('second'))
    dot = _graph.engine_to_dot(taskflow.engines.load(flow))
    lines = dot.splitlines()
    assert lines[0] == 'digraph "demo \\"quoted\\"" {'
    assert lines[-1] == '}'
    assert dot.index('"first" [') < dot.index('"second" [')
    assert '"first" -> "second";' in dot
    assert 'label="_Noop"' in dot


def test_api_flow_graph_has_every_task():
    engine = _graph.load_flow_engine('api', volflow_conf.CONF)
    dot = _graph.engine_to_dot(engine)
    assert dot.startswith('digraph "volume_create_api"')
    for name in ('ExtractVolumeRequestTask', 'QuotaReserveTask',
                 'EntryCreateTask', 'QuotaCommitTask', 'VolumeCastTask'):
        assert f'label="{name}"' in dot


def test_build_kwargs_fills_by_name():
    def get_flow(context, db_api, driver_api, request_spec=None,
                 volume=None, *args, **kwargs):
        pass

    kwargs = _graph.build_kwargs(get_flow, {'context': 'ctx',
                                            'request_spec': {}})
    assert kwargs['context'] == 'ctx'
    assert kwargs['request_spec'] == {}
    assert isinstance(kwargs['db_api'], _graph._Stub)
    assert 'volume' not in kwargs
