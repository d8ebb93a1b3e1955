"""Unit tests mirror the package: ``volflow/a/b.py`` is tested in
``tests/unit/a/test_b.py``.

A private module drops its underscore (``volflow/conductor/_claims.py``:
``tests/unit/conductor/test_claims.py``); a package's ``__init__.py`` is
tested as the module its name is (``volflow/volume/manager/``:
``tests/unit/volume/test_manager.py``). Left out: ``__init__.py`` files
with nothing but a docstring and imports, ``__main__.py``, and the
Alembic migrations (``tests/unit/db/sqlalchemy/`` checks them against the
models).

:data:`UNTESTED` lists the modules without one today, so that the list
only shrinks: a new module comes with its test module, and a module that
gets one leaves the list.
"""

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, 'volflow')

#: Modules (paths under ``volflow/``) with no mirrored unit test module.
UNTESTED = frozenset([
    'volflow/api/faults.py',
    'volflow/api/microversion.py',
    'volflow/api/policy.py',
    'volflow/api/router.py',
    'volflow/api/schemas.py',
    'volflow/api/v3/_change_schemas.py',
    'volflow/api/v3/_encryption.py',
    'volflow/api/v3/_listing.py',
    'volflow/api/v3/actions.py',
    'volflow/api/v3/metadata.py',
    'volflow/api/v3/projects.py',
    'volflow/api/v3/snapshots.py',
    'volflow/api/v3/volumes.py',
    'volflow/api/v3/zones.py',
    'volflow/api/views.py',
    'volflow/api/wsgi.py',
    'volflow/cmd/__init__.py',
    'volflow/cmd/_api.py',
    'volflow/cmd/_backends.py',
    'volflow/cmd/_changes.py',
    'volflow/cmd/_commands.py',
    'volflow/cmd/_conductor.py',
    'volflow/cmd/_create.py',
    'volflow/cmd/_db.py',
    'volflow/cmd/_html.py',
    'volflow/cmd/_output.py',
    'volflow/cmd/_parsers.py',
    'volflow/cmd/_resume.py',
    'volflow/cmd/_services.py',
    'volflow/cmd/_util.py',
    'volflow/conductor/__init__.py',
    'volflow/conf/__init__.py',
    'volflow/conf/api.py',
    'volflow/conf/backend.py',
    'volflow/conf/core.py',
    'volflow/conf/quota.py',
    'volflow/conf/taskflow.py',
    'volflow/db/__init__.py',
    'volflow/db/_fake_types.py',
    'volflow/db/_types_api.py',
    'volflow/db/fake.py',
    'volflow/db/quota_sync.py',
    'volflow/db/rules.py',
    'volflow/db/sqlalchemy/_capacity.py',
    'volflow/db/sqlalchemy/_flows.py',
    'volflow/db/sqlalchemy/_images.py',
    'volflow/db/sqlalchemy/_quota.py',
    'volflow/db/sqlalchemy/_services.py',
    'volflow/db/sqlalchemy/_types.py',
    'volflow/db/sqlalchemy/api.py',
    'volflow/flows/api/_zones.py',
    'volflow/flows/factories.py',
    'volflow/flows/jobs.py',
    'volflow/flows/manager/_sources.py',
    'volflow/pywarnings.py',
    'volflow/scheduler/driver.py',
    'volflow/volume/_snapshots.py',
    'volflow/volume/drivers/base.py',
])


def _has_code(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if (isinstance(node, ast.Expr) and
                isinstance(node.value, ast.Constant)):
            continue  # the docstring
        return True
    return False


def mirrored(path):
    """The unit test module of ``path`` (relative to the checkout)."""
    parts = path.split('/')[1:]  # under volflow/
    if parts[-1] == '__init__.py':
        parts = parts[:-1]
        name = parts.pop() if parts else 'volflow'
    else:
        name = parts.pop()[:-3]
    return '/'.join(['tests', 'unit'] + parts +
                    [f"test_{name.lstrip('_')}.py"])


def modules():
    """Every module that ought to have a unit test module."""
    found = []
    for directory, _dirs, files in os.walk(PACKAGE):
        rel_dir = os.path.relpath(directory, ROOT).replace(os.sep, '/')
        if '/migrations' in rel_dir:
            continue
        for name in files:
            if not name.endswith('.py') or name == '__main__.py':
                continue
            path = f'{rel_dir}/{name}'
            if name == '__init__.py' and not _has_code(
                    os.path.join(directory, name)):
                continue
            found.append(path)
    return sorted(found)


def untested():
    return sorted(path for path in modules()
                  if not os.path.exists(os.path.join(ROOT, mirrored(path))))


def test_every_module_has_its_unit_test_module_or_is_listed():
    assert untested() == sorted(UNTESTED)


def test_the_mirror():
    assert [mirrored(p) for p in [
        'volflow/quota.py', 'volflow/conductor/_claims.py',
        'volflow/volume/manager/__init__.py', 'volflow/__init__.py',
        'volflow/db/sqlalchemy/api.py']] == [
        'tests/unit/test_quota.py', 'tests/unit/conductor/test_claims.py',
        'tests/unit/volume/test_manager.py', 'tests/unit/test_volflow.py',
        'tests/unit/db/sqlalchemy/test_api.py']
