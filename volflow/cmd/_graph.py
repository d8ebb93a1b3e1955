"""``graph``: a flow's execution graph as Graphviz DOT.

Each flow is built by its own ``get_flow`` with in-memory stand-ins for
its collaborators (nothing is run and no state is touched), compiled, and
its execution graph written as DOT: one box per task, in the order the
engine runs them. ``graph pipeline`` draws the three flows in one graph,
linked by the casts and the reschedule, each task with its inputs and
outputs and its place in the execute and revert orders.
"""

import inspect

from taskflow.engines.action_engine import compiler

from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow.flows.api import create_volume as api_flow
from volflow.flows.manager import create_volume as manager_flow
from volflow.flows.scheduler import create_volume as scheduler_flow
from volflow.image import fake as fake_image

#: Each flow's ``get_flow``, by the name ``volflow graph`` takes.
GET_FLOW = {
    'api': api_flow.get_flow,
    'scheduler': scheduler_flow.get_flow,
    'manager': manager_flow.get_flow,
}


class _Stub:
    """Stands in for a collaborator the flow only stores at build time."""

    def __getattr__(self, name):
        return _Stub()

    def __call__(self, *args, **kwargs):
        return _Stub()


def _stand_ins(conf):
    """Collaborators by the parameter names the flows use for them."""
    db = fake_db.FakeAPI()
    db.seed()
    ctx = volflow_context.get_admin_context()
    volume = {'id': '00000000-0000-0000-0000-000000000000', 'size': 1,
              'status': 'creating', 'host': None, 'volume_type_id': None,
              'availability_zone': conf.storage_availability_zone}
    return {
        'context': ctx, 'ctxt': ctx, 'reschedule_context': ctx,
        'db_api': db, 'db': db,
        'image_service_api': fake_image.FakeImageService(db, '/nonexistent'),
        'image_service': fake_image.FakeImageService(db, '/nonexistent'),
        'availability_zones': [conf.storage_availability_zone],
        'create_what': {}, 'request_spec': {}, 'filter_properties': {},
        'volume': volume, 'volume_id': volume['id'],
        'allow_reschedule': True, 'host': 'localhost@local#local',
        'conf': conf,
        # Given even though optional: they add the cast/reschedule tasks.
        'scheduler_rpcapi': _Stub(), 'volume_rpcapi': _Stub(),
    }


def build_kwargs(get_flow, stand_ins):
    """Arguments for ``get_flow``: stand-ins by name, stubs for the rest.

    Optional parameters keep their defaults unless a stand-in of that name
    exists; required ones without a stand-in get a :class:`_Stub`.
    """
    kwargs = {}
    for name, param in inspect.signature(get_flow).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in stand_ins:
            kwargs[name] = stand_ins[name]
        elif param.default is param.empty:
            kwargs[name] = _Stub()
    return kwargs


def load_flow_engine(which, conf):
    """Build the ``which`` flow's engine, loaded and not run."""
    get_flow = GET_FLOW[which]
    return get_flow(**build_kwargs(get_flow, _stand_ins(conf)))


def load_pipeline(conf):
    """The three flows' engines, loaded and not run."""
    return {which: load_flow_engine(which, conf) for which in GET_FLOW}


def _quoted(text):
    escaped = str(text).replace('\\', '\\\\').replace('"', '\\"')
    return f'"{escaped}"'


def _task_label(node):
    return (f'label={_quoted(type(node).__name__)}, '
            f'tooltip={_quoted(node.name)}')


def _task_edges(graph, tasks):
    """Edges between tasks, through the flows' start and end nodes."""
    edges = []
    for task in tasks:
        pending, seen = list(graph.successors(task)), set()
        while pending:
            node = pending.pop()
            if node in seen:
                continue
            seen.add(node)
            if node in tasks:
                edges.append((task, node))
            else:
                pending.extend(graph.successors(node))
    return edges


def _tasks(engine):
    """The engine's execution graph and its tasks, in run order."""
    engine.compile()
    graph = engine.compilation.execution_graph
    tasks = [node for node in graph.topological_sort()
             if graph.nodes[node].get('kind') == compiler.TASK]
    return graph, tasks


def engine_to_dot(engine):
    """The execution graph of a loaded engine as DOT text.

    One box per task, in the order the engine runs them, labelled by
    task class (the full name is the tooltip); the flow is the graph's
    name and label (taskflow's compiler adds a start and an end node per
    flow: they are no tasks, and are not drawn).
    """
    graph, tasks = _tasks(engine)
    name = getattr(engine.compilation.hierarchy.item, 'name', 'flow')
    lines = [f'digraph {_quoted(name)} {{',
             f'  label={_quoted(name)};',
             '  node [shape=box, style=rounded];']
    for node in tasks:
        lines.append(f'  {_quoted(node.name)} [{_task_label(node)}];')
    for source, target in _task_edges(graph, set(tasks)):
        lines.append(f'  {_quoted(source.name)} -> {_quoted(target.name)};')
    lines.append('}')
    return '\n'.join(lines)


# The pipeline ---------------------------------------------------------------

#: ``(from flow, from task, to flow, to task, label, style)``: the casts
#: that link the flows, and the reschedule loop.
_LINKS = [
    ('api', 'VolumeCastTask', 'scheduler', 'ExtractSchedulerSpecTask',
     'cast: scheduler create_volume', 'bold'),
    ('scheduler', 'ScheduleCreateVolumeTask', 'manager',
     'ExtractVolumeRefTask', 'cast: volume create_volume on the chosen '
     'backend', 'bold'),
    ('manager', 'OnFailureRescheduleTask', 'scheduler',
     'ExtractSchedulerSpecTask', 'revert: reschedule (filter_properties'
     '[retry], up to scheduler_max_attempts)', 'dashed'),
]

_TITLES = {'api': 'API flow', 'scheduler': 'scheduler flow',
           'manager': 'manager flow'}


def _io_lines(task, earlier):
    """A task's inputs (with their source and rebind) and outputs."""
    lines = []
    for argument, key in sorted(task.rebind.items()):
        if argument == 'context':
            continue
        source = earlier.get(key, 'store')
        label = argument if key == argument else f'{argument} <- {key}'
        lines.append(f'in: {label} ({source})')
    for name in sorted(task.provides):
        lines.append(f'out: {name}')
    return lines


def _node_id(flow, task):
    return _quoted(f'{flow}:{type(task).__name__}')


def pipeline_to_dot(engines):
    """The three flows in one DOT graph, linked by the casts.

    :param engines: ``{'api': engine, 'scheduler': ..., 'manager': ...}``,
        loaded and not run.

    Each task's box says the order it executes in and the order it is
    reverted in when a later task of its flow fails (last first), what it
    takes - from the store or from the earlier task that provides it,
    with its rebind (``size <- raw_size``) - and what it provides.
    """
    lines = ['digraph "volume_create" {',
             '  label="Creating a volume: three flows linked by casts";',
             '  compound=true; rankdir=TB;',
             '  node [shape=box, style=rounded, fontsize=10];']
    for flow in ('api', 'scheduler', 'manager'):
        graph, tasks = _tasks(engines[flow])
        name = engines[flow].compilation.hierarchy.item.name
        lines.append(f'  subgraph "cluster_{flow}" {{')
        lines.append(f'    label={_quoted(f"{_TITLES[flow]} ({name})")};')
        earlier = {}
        count = len(tasks)
        for index, task in enumerate(tasks, 1):
            text = [f'{index}. {type(task).__name__}',
                    f'(revert {count - index + 1} of {count})']
            text += _io_lines(task, earlier)
            label = '\\l'.join(text) + '\\l'
            lines.append(f'    {_node_id(flow, task)} [label="'
                         f'{_escape(label)}", tooltip={_quoted(task.name)}];')
            for provided in task.provides:
                earlier[provided] = type(task).__name__
        for source, target in _task_edges(graph, set(tasks)):
            lines.append(f'    {_node_id(flow, source)} -> '
                         f'{_node_id(flow, target)};')
        lines.append('  }')
    for flow, task, to_flow, to_task, label, style in _LINKS:
        color = 'red' if style == 'dashed' else 'blue'
        lines.append(f'  {_quoted(f"{flow}:{task}")} -> '
                     f'{_quoted(f"{to_flow}:{to_task}")} '
                     f'[label={_quoted(label)}, style={style}, '
                     f'color={color}, fontsize=9'
                     f'{", constraint=false" if style == "dashed" else ""}];')
    lines.append('}')
    return '\n'.join(lines)


def _escape(text):
    return text.replace('"', '\\"')
