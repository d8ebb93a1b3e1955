"""What ``volflow create`` on the embedded default does not import.

A command line pays for every module it imports, each time it starts.
The HTTP API's stack (webob, routes, oslo.policy, keystonemiddleware,
cheroot), the drivers of servers the embedded default does not use
(Redis, PostgreSQL), taskflow's SQL backend module with alembic (and
alembic's mako and pygments), the services and the rpc over a broker or a
jobboard, and the progress bar of ``--count`` are imported only by what
needs them; ``python -X importtime`` lists what a ``create`` really
imported.
"""

import re
import subprocess
import sys

from tests.functional import conftest

#: Top-level packages a ``create`` on the embedded default never needs.
NOT_IMPORTED = frozenset(['webob', 'routes', 'oslo_policy',
                          'keystonemiddleware', 'cheroot', 'redis',
                          'psycopg2', 'microversion_parse', 'alembic',
                          'mako', 'pygments', 'tqdm'])
#: Modules of installed packages a ``create`` imports others of.
NOT_IMPORTED_MODULES = frozenset([
    'taskflow.persistence.backends.impl_sqlalchemy', 'taskflow.jobs.backends',
    'volflow.service', 'volflow.rpc.messaging', 'volflow.rpc.jobboard',
    'volflow.api'])

_IMPORTED = re.compile(r'^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$', re.M)


def test_create_imports_nothing_it_does_not_use(tmp_path):
    """On a database at the schema's head (a new one's first use migrates)."""
    cli = conftest.Cli(tmp_path)
    synced = subprocess.run(
        [sys.executable, '-m', 'volflow', '--config-file', cli.config_file,
         'db', 'sync'], capture_output=True, text=True, env=cli.env,
        timeout=120, stdin=subprocess.DEVNULL)
    assert synced.returncode == 0, synced.stderr[-2000:]
    completed = subprocess.run(
        [sys.executable, '-X', 'importtime', '-m', 'volflow',
         '--config-file', cli.config_file, 'create', '--size', '1'],
        capture_output=True, text=True, env=cli.env, timeout=120,
        stdin=subprocess.DEVNULL)
    assert completed.returncode == 0, completed.stderr[-2000:]
    modules = set(_IMPORTED.findall(completed.stderr))
    imported = {name.split('.')[0] for name in modules}
    assert 'taskflow' in imported  # the listing is real
    assert sorted(imported & NOT_IMPORTED) == []
    assert sorted(modules & NOT_IMPORTED_MODULES) == []
