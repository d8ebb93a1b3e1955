"""``graph``: DOT from a loaded engine."""

import shutil
import subprocess

import pytest
import taskflow.engines
from taskflow.patterns import linear_flow
from taskflow import task

from volflow.cmd import _graph
from volflow import conf as volflow_conf
from volflow import tracing


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


def test_flow_graphs_draw_tasks_only_no_end_node():
    for which in ('api', 'scheduler', 'manager'):
        dot = _graph.engine_to_dot(
            _graph.load_flow_engine(which, volflow_conf.CONF))
        assert 'label="end"' not in dot
        assert '[$]' not in dot
        assert 'shape=ellipse' not in dot


def test_flow_graph_links_tasks_in_order():
    dot = _graph.engine_to_dot(
        _graph.load_flow_engine('scheduler', volflow_conf.CONF))
    edges = [line for line in dot.splitlines() if '->' in line]
    assert len(edges) == 1
    assert 'ExtractSchedulerSpecTask' in edges[0].split('->')[0]
    assert 'ScheduleCreateVolumeTask' in edges[0].split('->')[1]


def test_pipeline_links_the_three_flows_with_inputs_and_reverts():
    dot = _graph.pipeline_to_dot(_graph.load_pipeline(volflow_conf.CONF))
    for flow in ('api', 'scheduler', 'manager'):
        assert f'subgraph "cluster_{flow}"' in dot
    for name in tracing.task_names():
        assert f'. {name}\\l' in dot, name
    assert ('"api:VolumeCastTask" -> "scheduler:ExtractSchedulerSpecTask" '
            '[label="cast: scheduler create_volume"') in dot
    assert ('"scheduler:ScheduleCreateVolumeTask" -> '
            '"manager:ExtractVolumeRefTask"') in dot
    assert ('"manager:OnFailureRescheduleTask" -> '
            '"scheduler:ExtractSchedulerSpecTask" [label="revert: '
            'reschedule') in dot
    # Inputs: from the store with a rebind, from an earlier task.
    assert 'in: size <- raw_size (store)' in dot
    assert 'in: reservations (QuotaReserveTask)' in dot
    assert 'in: volume <- refreshed (ExtractVolumeRefTask)' in dot
    assert 'out: refreshed' in dot
    # Reverts run last first.
    assert '1. ExtractVolumeRequestTask\\l(revert 5 of 5)' in dot
    assert '5. VolumeCastTask\\l(revert 1 of 5)' in dot


def test_pipeline_is_valid_dot():
    dot_binary = shutil.which('dot')
    if dot_binary is None:
        pytest.skip('Graphviz "dot" is not installed')
    dot = _graph.pipeline_to_dot(_graph.load_pipeline(volflow_conf.CONF))
    result = subprocess.run([dot_binary, '-Tsvg'], input=dot,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count('class="node"') == len(tracing.task_names())
