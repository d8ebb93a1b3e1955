"""Python warnings go to the log, never to a user's terminal.

Libraries warn when first imported (eventlet, dnspython, cryptography,
whichever it is this month). The test plants its own: a
``sitecustomize`` early on the process's ``PYTHONPATH`` issues a
``UserWarning`` when ``taskflow.engines`` is imported, which every
command, service, ``volflow api`` and example does. stderr then still
carries nothing but the one-line reason; the warning is in the log when
one was asked for (``--debug``, ``--log-file``).
"""

import os
import subprocess
import sys
import urllib.request

import pytest

from tests.functional import conftest
from tests.functional import test_api_clients
from tests.functional import test_examples

PLANTED = 'planted-warning-7f3c'

_SITECUSTOMIZE = f'''
import sys
import warnings


class _Plant:
    """Warns while taskflow.engines is being imported."""

    def find_spec(self, name, path=None, target=None):
        if name == 'taskflow.engines':
            warnings.warn({PLANTED!r}, UserWarning)
        return None


sys.meta_path.insert(0, _Plant())
'''


@pytest.fixture
def planted(tmp_path):
    """The environment of a process in which an import warns."""
    directory = tmp_path / 'plant'
    directory.mkdir()
    (directory / 'sitecustomize.py').write_text(_SITECUSTOMIZE)
    path = os.pathsep.join(
        [str(directory)] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    return {'PYTHONPATH': path}


def test_the_plant_warns_on_stderr_without_volflow(planted):
    # The test's own check: the planted warning does reach stderr when
    # nothing routes it to the log.
    env = dict(os.environ, **planted)
    completed = subprocess.run(
        [sys.executable, '-c', 'import taskflow.engines'],
        capture_output=True, text=True, env=env, timeout=120)
    assert PLANTED in completed.stderr


@pytest.mark.parametrize('argv', [
    ['create', '--size', '1'], ['list'], ['create', '--size', '0'],
    ['create', '--size', '1', '--format', 'json']])
def test_commands_keep_stderr_to_the_reason(tmp_path, planted, argv):
    cli = conftest.Cli(tmp_path)
    result = cli.run(*argv, env=planted)
    assert PLANTED not in result.stderr + result.stdout, result
    if result.rc == 0:
        assert result.stderr == '', result
    else:
        assert len(result.err_lines) == 1, result


def test_debug_shows_the_warning_in_the_log(tmp_path, planted):
    cli = conftest.Cli(tmp_path)
    result = cli.run('create', '--size', '1', '--debug', env=planted)
    assert result.rc == 0, result
    assert PLANTED in result.stderr


def test_log_file_holds_the_warning(tmp_path, planted):
    cli = conftest.Cli(tmp_path)
    log_file = tmp_path / 'volflow.log'
    result = cli.run('create', '--size', '1', '--log-file', str(log_file),
                     env=planted)
    assert result.rc == 0, result
    assert result.stderr == '', result
    assert PLANTED in log_file.read_text()


def test_api_service_logs_without_the_warning(tmp_path, planted):
    server = test_api_clients.ApiServer(tmp_path, env=planted)
    try:
        urllib.request.urlopen(f'{server.url}/healthcheck',
                               timeout=30).read()
    finally:
        assert server.stop() == 0
    logged = server.logged()
    assert 'volflow' in logged  # the service does log to stderr
    assert PLANTED not in logged


def test_api_service_with_debug_logs_the_warning(tmp_path, planted):
    server = test_api_clients.ApiServer(tmp_path, env=planted,
                                        args=('--debug',))
    assert server.stop() == 0
    assert PLANTED in server.logged()


@pytest.mark.parametrize('path', test_examples.EXAMPLES,
                         ids=os.path.basename)
def test_examples_keep_stderr_empty(tmp_path, request, planted, path):
    env = test_examples.example_env(path, tmp_path, request, **planted)
    completed = subprocess.run([sys.executable, path], capture_output=True,
                               text=True, env=env, cwd=str(tmp_path),
                               timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ''
