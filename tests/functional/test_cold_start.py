"""What ``volflow create`` on the embedded default does not import.

A command line pays for every module it imports, each time it starts.
The HTTP API's stack (webob, routes, oslo.policy, keystonemiddleware,
cheroot) and the drivers of servers the embedded default does not use
(Redis, PostgreSQL) are imported only by the commands that need them;
``python -X importtime`` lists what a ``create`` really imported.
"""

import re
import subprocess
import sys

from tests.functional import conftest

#: Top-level packages a ``create`` on the embedded default never needs.
NOT_IMPORTED = frozenset(['webob', 'routes', 'oslo_policy',
                          'keystonemiddleware', 'cheroot', 'redis',
                          'psycopg2', 'microversion_parse'])

_IMPORTED = re.compile(r'^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$', re.M)


def test_create_imports_nothing_it_does_not_use(tmp_path):
    cli = conftest.Cli(tmp_path)
    completed = subprocess.run(
        [sys.executable, '-X', 'importtime', '-m', 'volflow',
         '--config-file', cli.config_file, 'create', '--size', '1'],
        capture_output=True, text=True, env=cli.env, timeout=120,
        stdin=subprocess.DEVNULL)
    assert completed.returncode == 0, completed.stderr[-2000:]
    imported = {name.split('.')[0]
                for name in _IMPORTED.findall(completed.stderr)}
    assert 'taskflow' in imported  # the listing is real
    assert sorted(imported & NOT_IMPORTED) == []
