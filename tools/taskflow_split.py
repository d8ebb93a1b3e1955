"""Lines of volflow/: the pipeline, what is around it, what re-implements.

Run from a checkout: ``python tools/taskflow_split.py [ROOT]``. Lines
are every line of the ``.py`` files (``wc -l``). *Pipeline*: the three
flow modules, their helpers, ``engines.py``, ``flow_utils.py``,
``timing.py``. *Re-implemented*: what stands beside a piece of taskflow
or of an oslo library (the contributor guide's "What volflow adds to
taskflow" says why each stays), functions of pipeline modules counted
here and not there. *Around*: the rest.
"""

import ast
import os
import sys

PIPELINE = (
    'volflow/flows/api/create_volume.py', 'volflow/flows/api/_validation.py',
    'volflow/flows/api/_zones.py', 'volflow/flows/scheduler/create_volume.py',
    'volflow/flows/manager/create_volume.py',
    'volflow/flows/manager/_sources.py', 'volflow/flows/common.py',
    'volflow/engines.py', 'volflow/flow_utils.py', 'volflow/timing.py',
)
REIMPLEMENTED = (
    'volflow/persistence/_sql.py', 'volflow/persistence/_backend.py',
    'volflow/persistence/_claims.py', 'volflow/persistence/_held.py',
    'volflow/db/sqlalchemy/_flows.py',
    'volflow/conductor/', 'volflow/flows/jobs.py', 'volflow/coordination.py',
    'volflow/service.py',
)
#: ``(module, top-level name or Class.method)`` re-implemented inside a
#: pipeline module.
PARTS = (
    ('volflow/engines.py', '_add_atom_details'),
    ('volflow/flow_utils.py', '_hashable'),
    ('volflow/flow_utils.py', '_ARG_MAPPINGS'),
    ('volflow/flow_utils.py', 'VolflowTask._build_arg_mapping'),
)


def _lines(path):
    with open(path, encoding='utf-8') as f:
        return f.read().count('\n')


def _part(path, name):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    owner, _dot, member = name.rpartition('.')
    nodes = tree.body
    if owner:
        nodes = next(n.body for n in nodes if getattr(n, 'name', '') == owner)
    for node in nodes:
        names = [getattr(node, 'name', None)] + [
            getattr(t, 'id', None) for t in getattr(node, 'targets', [])]
        if member in names:
            start = min([node.lineno] + [d.lineno for d in getattr(
                node, 'decorator_list', [])])
            return node.end_lineno - start + 1
    return 0


def split(root):
    totals = {'pipeline': 0, 'around': 0, 're-implemented': 0}
    for directory, _dirs, files in os.walk(os.path.join(root, 'volflow')):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, root).replace(os.sep, '/')
            count = _lines(path)
            if rel in PIPELINE:
                parts = sum(_part(path, n) for m, n in PARTS if m == rel)
                totals['pipeline'] += count - parts
                totals['re-implemented'] += parts
            elif any(rel == r or (r.endswith('/') and rel.startswith(r))
                     for r in REIMPLEMENTED):
                totals['re-implemented'] += count
            else:
                totals['around'] += count
    return totals


def main(root='.'):
    totals = split(root)
    whole = sum(totals.values())
    for kind, count in totals.items():
        print(f'{kind:15} {count:6d}  {100 * count / whole:4.1f}%')
    print(f"{'all':15} {whole:6d}")


if __name__ == '__main__':
    main(*sys.argv[1:2])
