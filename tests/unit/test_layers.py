"""Every import of volflow points down the layers the docs list.

The layers are written once, at the top of "How it is built" in the
contributor guide (``doc/source/contributor/index.rst``): a numbered
list, top to bottom, each item naming its folders in backquotes - the
packages of ``volflow/``, and the modules of ``volflow/`` itself. A
module belongs to the layer of its folder: the listed package nearest
above it (a package inside another may be a layer of its own, as
``volflow/volume/drivers/`` is inside ``volflow/volume/``). So the tree
shows the layers: no folder holds modules of two layers.

Every ``import`` of ``volflow/`` - at module level or inside a function -
may name its own layer or a layer below; within a layer, and across the
package, no import circle is allowed. And opening a flow module, in a
process of its own, imports neither oslo.messaging nor the SQL
persistence.
"""

import ast
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, 'volflow')


def _layers():
    """``[(layer name, [module prefixes])]`` from the docs, top first."""
    with open(os.path.join(ROOT, 'doc', 'source', 'contributor',
                           'index.rst'), encoding='utf-8') as f:
        guide = f.read()
    section = guide.split('\nHow it is built\n', 1)[1]
    layers = []
    for line in section.splitlines():
        item = re.match(r'\d+\.\s+\*\*(.+?)\*\*(.*)', line)
        if item:
            layers.append((item.group(1), []))
        elif layers and not line.strip():
            if layers[-1][1]:
                break
            continue
        if layers:
            layers[-1][1].extend(re.findall(r'`(volflow[\w.]*)`', line))
    return layers


def _modules():
    """``{dotted name: path}`` of every module of the package."""
    found = {}
    for directory, _dirs, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(directory, name)
                dotted = os.path.relpath(path, ROOT)[:-3].replace(os.sep, '.')
                found[dotted.removesuffix('.__init__')] = path
    return found


def _imports(name, path, modules):
    """``[(imported volflow module, line)]`` of one module, all levels."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith('__init__.py') else name.rpartition(
        '.')[0]
    targets = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')[:len(package.split('.')) -
                                           node.level + 1]
                base = '.'.join(parts + ([base] if base else []))
            for alias in node.names:
                full = f'{base}.{alias.name}'
                targets.append((full if full in modules else base,
                                node.lineno))
    found = []
    for target, line in targets:
        while target and target not in modules:
            target = target.rpartition('.')[0]
        if target and target != name:
            found.append((target, line))
    return found


def _layer_of(module, layers):
    best = None
    for index, (_name, prefixes) in enumerate(layers):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + '.'):
                if best is None or len(prefix) > len(best[1]):
                    best = (index, prefix)
    return None if best is None else best[0]


def _graph():
    modules = _modules()
    return {name: _imports(name, path, modules)
            for name, path in modules.items()}


def _cycles(graph):
    """The strongly connected components of more than one module."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target, _line in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_readme_lists_the_layers():
    layers = _layers()
    assert len(layers) >= 5
    assert all(prefixes for _name, prefixes in layers)
    named = [p for _name, prefixes in layers for p in prefixes]
    assert len(named) == len(set(named)), 'a module is named twice'


#: Modules the layer list names one by one, in a folder of another layer,
#: and where they belong: each is to move there.
NOT_YET_IN_THEIR_FOLDER = {
    # Rebuilds recorded flows with wiring's collaborators: layer 4, beside
    # volflow/wiring.py, while volflow/flows/ is layer 7.
    'volflow.flows.factories': 'volflow.wiring',
}


def _packages():
    return {name for name, path in _modules().items()
            if path.endswith('__init__.py')}


def test_the_layers_name_folders():
    """Every name is a package, or a module of ``volflow/`` itself."""
    packages = _packages()
    named = [p for _name, prefixes in _layers() for p in prefixes]
    modules_named = sorted(n for n in named if n not in packages and
                           n.count('.') > 1)
    assert modules_named == sorted(NOT_YET_IN_THEIR_FOLDER)


def test_no_folder_holds_two_layers():
    layers = _layers()
    by_folder = {}
    for module, path in _modules().items():
        if module in NOT_YET_IN_THEIR_FOLDER:
            continue
        folder = os.path.dirname(path)
        if module == 'volflow' or not path.endswith('__init__.py'):
            by_folder.setdefault(folder, set()).add(
                layers[_layer_of(module, layers)][0])
    if os.path.join(PACKAGE) in by_folder:
        del by_folder[PACKAGE]  # the top: one module per name in the list
    spanning = {os.path.relpath(folder, ROOT): sorted(names)
                for folder, names in by_folder.items() if len(names) > 1}
    assert spanning == {}


@pytest.mark.parametrize('module, folder', [
    ('volflow.volume.api', 'volume API'),
    ('volflow.volume.manager', 'managers'),
    ('volflow.volume.drivers.file', 'what the flows use'),
    ('volflow.scheduler.filters', 'what the flows use'),
    ('volflow.scheduler.manager', 'managers'),
    ('volflow.db.sqlalchemy.api', 'database'),
])
def test_a_module_is_in_the_layer_of_its_folder(module, folder):
    layers = _layers()
    assert layers[_layer_of(module, layers)][0] == folder


def test_every_module_is_in_a_layer():
    layers = _layers()
    assert [m for m in sorted(_modules())
            if _layer_of(m, layers) is None] == []


def test_every_import_points_down():
    layers = _layers()
    upward = []
    for module, imports in sorted(_graph().items()):
        here = _layer_of(module, layers)
        for target, line in imports:
            there = _layer_of(target, layers)
            if here is not None and there is not None and there < here:
                upward.append(f'{module}:{line} imports {target} '
                              f'({layers[here][0]} -> {layers[there][0]})')
    assert upward == []


def test_no_import_circle():
    assert _cycles(_graph()) == []


@pytest.mark.parametrize('source, expected', [
    ('import volflow.db.api\n', ['volflow.db.api']),
    ('from volflow.db import api\n', ['volflow.db.api']),
    ('from volflow import db\n', ['volflow.db']),
    ('from volflow.db.api import API\n', ['volflow.db.api']),
    ('def f():\n    from . import api\n', ['volflow.db.api']),
    ('import os\n', []),
])
def test_imports_are_read_at_every_level(tmp_path, source, expected):
    path = tmp_path / '__init__.py'
    path.write_text(source)
    modules = {'volflow', 'volflow.db', 'volflow.db.api'}
    assert [t for t, _line in _imports('volflow.db', str(path),
                                       modules)] == [
        t for t in expected if t != 'volflow.db']


#: What opening a flow module must not import: the flows get their rpc
#: apis and database passed in, and SQL persistence is chosen at run time.
NOT_IMPORTED_BY_FLOWS = ('oslo_messaging', 'sqlalchemy', 'alembic')


@pytest.mark.parametrize('flow', ['api', 'scheduler', 'manager'])
def test_a_flow_module_imports_no_messaging_nor_sql(flow):
    code = (f'import sys, volflow.flows.{flow}.create_volume\n'
            f'print(sorted(m for m in {NOT_IMPORTED_BY_FLOWS!r} '
            f'if m in sys.modules))')
    result = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                            capture_output=True, text=True, check=True,
                            cwd=ROOT)
    assert result.stdout.strip() == '[]', result.stderr
