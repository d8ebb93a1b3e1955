"""A driver that is not installed: one line naming the extra to install.

``pip install .`` installs neither PostgreSQL's, MySQL's nor Redis's
client library; ``volflow[postgresql]``, ``volflow[mysql]`` and
``volflow[jobboard]`` do. A command
configured for one of them, without it, says so in one line and exits 1,
with no traceback and no password. The library is made missing for the
command's process only: a directory early on its ``PYTHONPATH`` holds a
package of that name whose import fails as a missing one does.
"""

import pytest

from tests.functional import conftest

SECRET = 'Pg-S3cret-pw'


def _without(tmp_path, *packages):
    """``PYTHONPATH`` on which ``packages`` cannot be imported."""
    hidden = tmp_path / 'hidden'
    for package in packages:
        (hidden / package).mkdir(parents=True)
        (hidden / package / '__init__.py').write_text(
            f'raise ModuleNotFoundError("No module named {package!r}", '
            f'name={package!r})\n')
    return {'PYTHONPATH': str(hidden)}


@pytest.mark.parametrize('command, config', [
    (['create', '--size', '1'], ''), (['list'], ''),
    (['scheduler'], 'transport_url = fake://\n'),
    (['volume', '--backend', 'local'], 'transport_url = fake://\n')])
def test_postgresql_without_psycopg2(tmp_path, command, config):
    cli = conftest.Cli(tmp_path, extra_config=(
        f'{config}[database]\nconnection = postgresql+psycopg2://volflow:'
        f'{SECRET}@127.0.0.1:9/volflow\n'))
    result = cli.run(*command, env=_without(tmp_path, 'psycopg2'))
    assert result.rc == 1, result
    assert result.err_lines == [
        "volflow: error: [database] connection "
        "'postgresql+psycopg2://volflow:***@127.0.0.1:9/volflow' needs the "
        "Python package 'psycopg2', which is not installed: "
        "pip install 'volflow[postgresql]'"], result
    assert SECRET not in result.stderr + result.stdout


@pytest.mark.parametrize('command', [['create', '--size', '1'], ['list']])
def test_mysql_without_pymysql(tmp_path, command):
    cli = conftest.Cli(tmp_path, extra_config=(
        f'[database]\nconnection = mysql+pymysql://volflow:{SECRET}@'
        f'127.0.0.1:9/volflow\n'))
    result = cli.run(*command, env=_without(tmp_path, 'pymysql'))
    assert result.rc == 1, result
    assert result.err_lines == [
        "volflow: error: [database] connection "
        "'mysql+pymysql://volflow:***@127.0.0.1:9/volflow' needs the "
        "Python package 'pymysql', which is not installed: "
        "pip install 'volflow[mysql]'"], result
    assert SECRET not in result.stderr + result.stdout


def test_jobboard_without_redis(tmp_path):
    cli = conftest.Cli(tmp_path, extra_config=(
        '[taskflow]\njobboard_enabled = true\n'
        'jobboard_backend_hosts = 127.0.0.1\njobboard_backend_port = 9\n'))
    result = cli.run('conductor', env=_without(tmp_path, 'redis'))
    assert result.rc == 1, result
    assert result.err_lines == [
        "volflow: error: The redis jobboard needs the Python package "
        "'redis', which is not installed: pip install 'volflow[jobboard]'"
    ], result
    assert cli.volumes() == []
