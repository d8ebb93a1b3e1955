"""A database written by the last release before migrations upgrades.

The release is commit :data:`OLD` (its schema is ``0001_initial``'s):
its own code, taken from git, makes a database and writes to it - a
volume type, a project's quota, volumes (one deleted), a snapshot, a
reservation outstanding, the recorded flows of the creates - on SQLite,
PostgreSQL and MariaDB. Then this code: on a configured database it
refuses to run until ``volflow db sync``; ``db sync`` upgrades in place;
every row written before is there after, unchanged; and the volumes,
quotas and flows are read and used as before. The embedded default's own
SQLite file needs no command: the first command upgrades it.
"""

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests import conftest as root_conftest
from tests.fixtures import databases
from tests.functional import conftest
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import migration

#: The last commit whose schema was made on first use, without migrations.
OLD = '9b41809'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PROJECT = 'upgraded'


@pytest.fixture(scope='module')
def old_code(tmp_path_factory):
    """A directory holding the ``volflow`` package of :data:`OLD`."""
    found = subprocess.run(['git', '-C', ROOT, 'cat-file', '-e',
                            f'{OLD}^{{commit}}'], capture_output=True)
    if found.returncode:
        root_conftest.skip_or_fail(
            f'commit {OLD} (the release before migrations) is not in '
            f'this checkout: a full git clone is needed')
    directory = tmp_path_factory.mktemp('old')
    archive = subprocess.run(['git', '-C', ROOT, 'archive', OLD, 'volflow'],
                             capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', str(directory)], input=archive,
                   check=True)
    return str(directory)


@pytest.fixture(params=databases.params(long=True))
def database_url(request):
    """A new, empty database of each kind."""
    return databases.fresh_url(request, request.param, prefix='up')


#: Runs :data:`OLD`'s command lines, then reserves, in one process:
#: ``argv[1]`` the configuration file, ``argv[2]`` the database URL,
#: ``argv[3]`` the project; prints each command's JSON output.
_OLD_SCRIPT = """
import contextlib, datetime, io, json, sys
from volflow.cmd import main
from volflow import context, db
config, url, project = sys.argv[1:4]
admin = ['--admin']
p = ['--project-id', project]
def run(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main.main(['--config-file', config, *argv,
                          '--format', 'json']) == 0, argv
    return json.loads(out.getvalue())
run('type-create', 'gold', '--property', 'tier=1', *admin)
run('quota-update', *p, '--volumes', '20', *admin)
volumes = [run('create', '--size', '1', '--volume-type', 'gold',
               '--metadata', 'n=1', *p)]
volumes += run('create', '--size', '2', '--count', '2', *p)
run('snapshot-create', volumes[0]['id'], *p)
run('delete', volumes[2]['id'], *p)
db.get_api(url).quota_reserve(
    context.get_admin_context(), project, {'volumes': 1, 'gigabytes': 5},
    {'volumes': 10, 'gigabytes': 100}, datetime.datetime(2099, 1, 1))
print(json.dumps(volumes))
"""


def _write_old_state(cli, old_code, url):
    """What :data:`OLD` writes: types, quotas, volumes, flows, snapshot.

    :returns: the volumes it created; the third is deleted.
    """
    result = subprocess.run(
        [sys.executable, '-c', _OLD_SCRIPT, cli.config_file, url, PROJECT],
        capture_output=True, text=True, env=dict(cli.env,
                                                 PYTHONPATH=old_code),
        timeout=300, stdin=subprocess.DEVNULL, cwd=old_code)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def _rows(url, like=None):
    """``{table: sorted rows}`` of every table but the version's.

    With ``like`` (an earlier result), its tables and columns only: later
    migrations add columns to old tables.
    """
    engine = _engine.create_engine(url)
    try:
        tables = {}
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for name, table in metadata.tables.items():
                if name == migration.VERSION_TABLE or (
                        like is not None and name not in like):
                    continue
                columns = list(table.columns)
                if like is not None:
                    columns = [table.c[c] for c in like[name][0]]
                tables[name] = ([c.name for c in columns], sorted(
                    tuple(map(repr, row)) for row in
                    conn.execute(sa.select(*columns))))
        return tables
    finally:
        engine.dispose()


def _check_in_use(cli, volumes):
    """The upgraded database read and written by this code."""
    listed = {v['id'] for v in cli.ok('list', '--project-id', PROJECT)}
    assert listed == {volumes[0]['id'], volumes[1]['id']}
    shown = cli.ok('show', volumes[0]['id'], '--project-id', PROJECT)
    assert cli.ok('show', volumes[1]['id'], '--project-id', PROJECT)[
        'size'] == 2
    assert shown['volume_type'] == 'gold'
    assert shown['metadata'] == {'n': '1'}
    assert len(cli.ok('snapshot-list', '--project-id', PROJECT)) == 1
    quota = cli.ok('quota-show', '--project-id', PROJECT)
    # in use: the live volumes; reserved: the outstanding reservation
    assert quota['volumes'] == {'limit': 20, 'in_use': 2, 'reserved': 1}
    assert quota['gigabytes']['in_use'] == 4  # the snapshot's too
    created = cli.ok('create', '--size', '4', '--project-id', PROJECT,
                     '--volume-type', 'gold')
    assert created['status'] == 'available'
    assert cli.ok('quota-show', '--project-id', PROJECT)['volumes'][
        'in_use'] == 3


def test_a_configured_database_upgrades_with_db_sync(tmp_path, old_code,
                                                     database_url):
    cli = conftest.Cli(tmp_path, connection=database_url)
    services = tmp_path / 'services.conf'  # a broker for the services
    services.write_text('[DEFAULT]\ntransport_url = fake://\n')
    volumes = _write_old_state(cli, old_code, database_url)
    before = _rows(database_url)
    assert before['logbooks'][1] and before['atomdetails'][1]  # flows
    assert len(before['reservations'][1]) == 2  # volumes and gigabytes

    with_broker = ['--config-file', str(services)]
    for command in (['list', '--project-id', PROJECT],
                    [*with_broker, 'scheduler'],
                    [*with_broker, 'volume', '--backend', 'local']):
        refused = cli.run(*command)
        assert refused.rc == 1, refused
        assert len(refused.err_lines) == 1, refused
        assert refused.stderr.startswith('volflow: error: Database ')
        assert "is at schema revision none: this volflow needs " \
            f"{migration.head()}: run 'volflow db sync'" in refused.stderr
    assert cli.run('db', 'version').stdout == 'none\n'

    synced = cli.run('db', 'sync')
    assert (synced.rc, synced.stdout, synced.stderr) == (
        0, f'{migration.head()}\n', '')
    assert cli.run('db', 'sync').stdout == f'{migration.head()}\n'
    assert cli.run('db', 'version').stdout == f'{migration.head()}\n'
    after = _rows(database_url, like=before)
    for table, rows in before.items():
        if table == 'host_allocations' and not rows[1]:
            continue  # MariaDB's: kept from this release on
        assert after[table] == rows, table
    _check_in_use(cli, volumes)


def test_the_embedded_default_upgrades_itself(tmp_path, old_code):
    cli = conftest.Cli(tmp_path)
    volumes = _write_old_state(cli, old_code,
                               f'sqlite:///{cli.state_path}/volflow.sqlite')
    url = f'sqlite:///{cli.state_path}/volflow.sqlite'
    before = _rows(url)
    listed = cli.ok('list', '--project-id', PROJECT)  # no db sync
    assert len(listed) == 2
    assert _rows(url, like=before) == before
    assert cli.run('db', 'version').stdout == f'{migration.head()}\n'
    _check_in_use(cli, volumes)
