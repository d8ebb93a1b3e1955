"""``graph``: a flow's execution graph as Graphviz DOT.

Each flow is built by its own ``get_flow`` with in-memory stand-ins for
its collaborators (nothing is run and no state is touched), compiled, and
its execution graph written as DOT: one box per task, in the order the
engine runs them, between the flow's start and end.
"""

import inspect

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


def _quoted(text):
    escaped = str(text).replace('\\', '\\\\').replace('"', '\\"')
    return f'"{escaped}"'


def _node_attrs(node, kind):
    if kind in ('flow', 'flow_end'):
        label = node.name if kind == 'flow' else 'end'
        return f'shape=ellipse, label={_quoted(label)}'
    return (f'label={_quoted(type(node).__name__)}, '
            f'tooltip={_quoted(node.name)}')


def engine_to_dot(engine):
    """The execution graph of a loaded engine as DOT text.

    Nodes are named by atom name, labelled by task class (the full name is
    the tooltip); flows appear as their start and end.
    """
    engine.compile()
    graph = engine.compilation.execution_graph
    name = getattr(engine.compilation.hierarchy.item, 'name', 'flow')
    lines = [f'digraph {_quoted(name)} {{',
             '  node [shape=box, style=rounded];']
    for node in graph.topological_sort():
        kind = graph.nodes[node].get('kind')
        lines.append(f'  {_quoted(node.name)} [{_node_attrs(node, kind)}];')
    for source, target in graph.edges():
        lines.append(f'  {_quoted(source.name)} -> {_quoted(target.name)};')
    lines.append('}')
    return '\n'.join(lines)
