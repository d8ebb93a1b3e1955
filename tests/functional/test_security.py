"""Security, end to end: isolation, secrets in logs, files and SQL.

* **Project isolation** through the command line: project B's ``show``,
  ``delete``, ``snapshot-create`` of A's volume and its creates from A's
  snapshot, volume and private image are refused with the very message a
  missing id gets (the id aside), so B can't tell that A's records exist;
  an admin context may use them; a public image is usable by everyone.
* **Secrets in logs**: with ``--debug``, passwords, tokens, encryption
  keys and credentials inside URLs - in a request's metadata (a task
  result) and in the configuration (``[database] connection``,
  ``transport_url``, ``[taskflow]`` secrets) - never reach stderr or the
  log file.
* **Files**: volume files are mode 0600 in a 0700 directory and named by
  volume id; names and descriptions with ``../``, ``/`` or NUL never
  reach a path.
* **SQL**: names written as SQL are stored verbatim and the tables
  survive: the database is only given bound parameters.

The command line runs in subprocesses (``tests/functional/conftest.py``),
independent runs at once.
"""

import os
import stat
import uuid

import pytest

from tests.fixtures import postgres
from tests.functional import conftest as cli_helpers
from tests import fuzz_world as world
from tests import invariants
from volflow import conf as volflow_conf
from volflow import context as volflow_context
from volflow import db as volflow_db
from volflow.db.sqlalchemy import api as sql_api
from volflow import exception
from volflow.rpc import local
from volflow.volume import api as volume_api

#: Secrets a request carries in its metadata, one per kind: they may be
#: shown to the user who gave them (stdout), never logged (stderr).
REQUEST_SECRETS = {
    'password': 'Pa55-in-metadata',
    'token': 'T0ken-in-metadata',
    'encryption_key': 'K3y-in-metadata',
    'url': 'U5er-pa55-in-url',
}
#: Secrets of the configuration: never shown anywhere.
CONFIG_SECRETS = {
    'connection': 'Db-pa55w0rd',
    'transport': 'Rabb1t-pa55',
    'jobboard': 'J0bboard-pa55',
}
SECRETS = dict(REQUEST_SECRETS, **CONFIG_SECRETS)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _missing_id():
    return str(uuid.uuid4())


# Project isolation ---------------------------------------------------------
@pytest.fixture(scope='module')
def owner(cli, tmp_path_factory):
    """Project A's volume, snapshot, private and public images."""
    project = cli_helpers.new_project()
    image_file = tmp_path_factory.mktemp('images') / 'image.raw'
    image_file.write_bytes(b'\x07' * 4096)
    volume = cli.ok('create', '--size', '1', '--project-id', project)
    cli.make_available(volume['id'])
    snapshot, private, public = [
        result.json for result in cli.parallel(
            ['snapshot-create', volume['id'], '--project-id', project,
             '--format', 'json'],
            ['image-create', 'private', '--file', image_file,
             '--project-id', project, '--format', 'json'],
            ['image-create', 'public', '--file', image_file, '--public',
             '--project-id', project, '--format', 'json'])]
    return {'project': project, 'volume': volume['id'],
            'snapshot': snapshot['id'], 'private_image': private['id'],
            'public_image': public['id']}


#: What project B tries on A's records: argv with ``{id}``, and the key
#: of ``owner`` it names.
INTRUSIONS = {
    'show': (['show', '{id}'], 'volume'),
    'delete': (['delete', '{id}'], 'volume'),
    'snapshot-create': (['snapshot-create', '{id}'], 'volume'),
    'create from snapshot': (['create', '--snapshot-id', '{id}'],
                             'snapshot'),
    'clone': (['create', '--source-volid', '{id}'], 'volume'),
    'create from image': (['create', '--size', '1', '--image-id', '{id}'],
                          'private_image'),
}


def _argv(template, record_id, project, *extra):
    return [arg.format(id=record_id) for arg in template] + [
        '--project-id', project, *extra]


def test_another_project_gets_not_found_as_for_a_missing_id(cli, owner):
    intruder = cli_helpers.new_project()
    calls = []
    for template, key in INTRUSIONS.values():
        missing = _missing_id()
        calls.append((owner[key], _argv(template, owner[key], intruder)))
        calls.append((missing, _argv(template, missing, intruder)))
    results = cli.parallel(*[argv for _id, argv in calls])
    outcomes = [(r.rc, r.stdout, r.stderr.replace(record_id, '<ID>'))
                for (record_id, _argv), r in zip(calls, results)]
    for name, theirs, missing in zip(INTRUSIONS, outcomes[::2],
                                     outcomes[1::2]):
        assert theirs == missing, name
        assert theirs[0] == 1 and theirs[1] == '', (name, theirs)
        assert len(theirs[2].splitlines()) == 1, (name, theirs)
        assert 'could not be found' in theirs[2], (name, theirs)
    # Nothing of A's changed; B got nothing.
    assert [v['status'] for v in cli.volumes(owner['project'])] == [
        'available']
    assert len(cli.snapshots(owner['project'])) == 1
    assert cli.volumes(intruder) == [] and cli.snapshots(intruder) == []
    assert cli.reservations(intruder) == []
    assert all(u['in_use'] == 0 for u in cli.usages(intruder).values())


def test_an_admin_may_use_another_projects_records(cli, owner):
    admin_project = cli_helpers.new_project()
    uses = {name: _argv(template, owner[key], admin_project, '--admin',
                        '--format', 'json')
            for name, (template, key) in INTRUSIONS.items()
            if name not in ('delete', 'snapshot-create')}
    results = dict(zip(uses, cli.parallel(*uses.values())))
    for name, result in results.items():
        assert result.rc == 0, (name, result)
    assert results['show'].json['id'] == owner['volume']
    assert results['clone'].json['source_volid'] == owner['volume']
    assert results['create from snapshot'].json['snapshot_id'] == (
        owner['snapshot'])
    assert results['create from image'].json['image_id'] == (
        owner['private_image'])
    invariants.assert_invariants(cli.db, [owner['project'], admin_project])


def test_a_public_image_is_usable_by_every_project(cli, owner):
    other = cli_helpers.new_project()
    created, images = cli.parallel(
        ['create', '--size', '1', '--image-id', owner['public_image'],
         '--project-id', other, '--format', 'json'],
        ['image-list', '--project-id', other, '--format', 'json'])
    assert created.rc == 0, created
    assert created.json['image_id'] == owner['public_image']
    assert created.json['status'] == 'available'
    visible = [image['id'] for image in images.json]
    assert owner['public_image'] in visible
    assert owner['private_image'] not in visible


# Secrets in logs -----------------------------------------------------------
def _secret_metadata():
    return ['--metadata', f"password={SECRETS['password']}",
            '--metadata', f"token={SECRETS['token']}",
            '--metadata', f"encryption_key={SECRETS['encryption_key']}",
            '--metadata',
            f"backup=postgresql://admin:{SECRETS['url']}@db.example/v"]


def _assert_no_secret(result):
    """Nothing secret logged; nothing of the configuration's printed."""
    for kind, secret in SECRETS.items():
        assert secret not in result.stderr, f'{kind} secret logged'
    for kind, secret in CONFIG_SECRETS.items():
        assert secret not in result.stdout, f'{kind} secret printed'


@pytest.fixture
def secret_cli(tmp_path):
    """A state whose configuration holds secrets of its own."""
    state = cli_helpers.Cli(tmp_path, extra_config=(
        f"[taskflow]\njobboard_backend_password = {SECRETS['jobboard']}\n"))
    yield state
    state.close()


def test_debug_logs_mask_secrets_of_results_and_refusals(secret_cli,
                                                         tmp_path):
    log_file = tmp_path / 'volflow.log'
    created, refused, logged = secret_cli.parallel(
        ['--debug', 'create', '--size', '1', *_secret_metadata(),
         '--trace', '--format', 'json'],
        ['--debug', 'create', '--size', '1', *_secret_metadata(),
         '--availability-zone', 'nowhere'],
        ['--debug', '--log-file', log_file, 'create', '--size', '1',
         *_secret_metadata()])
    assert created.rc == 0, created
    # The flows were logged, and traced with the tasks' inputs.
    assert "transitioned into state 'SUCCESS'" in created.stderr
    assert 'ExtractVolumeRequestTask execute' in created.stderr
    assert created.json['status'] == 'available'
    assert refused.rc == 1
    assert "Availability zone 'nowhere' is invalid" in refused.stderr
    assert logged.rc == 0, logged
    logs = log_file.read_text()
    assert "transitioned into state 'SUCCESS'" in logs
    for result in (created, refused, logged):
        _assert_no_secret(result)
    for kind, secret in SECRETS.items():
        assert secret not in logs, f'{kind} secret logged'


def test_transport_url_and_taskflow_secrets_stay_out_of_logs(tmp_path):
    """``transport_url`` set: the create is cast over oslo.messaging."""
    state = cli_helpers.Cli(tmp_path, extra_config=(
        f"transport_url = fake://guest:{SECRETS['transport']}@localhost/\n"
        f"[taskflow]\njobboard_backend_password = {SECRETS['jobboard']}\n"))
    try:
        result = state.run('--debug', 'create', '--size', '1', '--no-wait',
                           *_secret_metadata())
    finally:
        state.close()
    assert result.rc == 0, result
    assert 'VolumeCastTask' in result.stderr
    _assert_no_secret(result)


def test_database_password_stays_out_of_errors(tmp_path):
    """An unreachable database: the error names it, not its password."""
    url = (f"postgresql+psycopg2://volflow:{SECRETS['connection']}"
           f"@127.0.0.1:1/volflow")
    state = cli_helpers.Cli(tmp_path, extra_config=(
        f"[database]\nconnection = {url}\n"))
    try:
        result = state.run('--debug', 'create', '--size', '1')
    finally:
        state.close()
    assert result.rc == 1, result
    assert result.err_lines[-1].startswith('volflow: error: ')
    assert 'Traceback' in result.stderr  # --debug: the whole story
    _assert_no_secret(result)


@pytest.mark.postgres
def test_database_password_stays_out_of_debug_logs(tmp_path, postgres_url):
    """PostgreSQL with a password in ``[database] connection``.

    The test server trusts local connections, so any password works.
    """
    name = f'secret_{uuid.uuid4().hex[:12]}'
    url = postgres.create_database(postgres_url, name)
    url = url.replace('postgres@', f"postgres:{SECRETS['connection']}@")
    state = cli_helpers.Cli(tmp_path, extra_config=(
        f"[database]\nconnection = {url}\n"))
    try:
        results = state.parallel(
            ['--debug', 'create', '--size', '1', *_secret_metadata()],
            ['--debug', 'list'],
            ['--debug', 'show', _missing_id()])
    finally:
        state.close()
        postgres.drop_database(postgres_url, name)
    assert [r.rc for r in results] == [0, 0, 1], results
    for result in results:
        _assert_no_secret(result)


# Files ---------------------------------------------------------------------
def test_volume_files_are_private_and_named_by_id(tmp_path):
    """Names that look like paths never reach one."""
    marker = uuid.uuid4().hex[:8]
    texts = [(f'../../escaped-{marker}', f'/tmp/absolute-{marker}'),
             (f'nested/dir/{marker}', '..')]
    (tmp_path / 'cli').mkdir()
    state = cli_helpers.Cli(tmp_path / 'cli')
    try:
        results = state.parallel(*[
            ['create', '--size', '1', '--name', name, '--description',
             description, '--metadata', f'path=../../meta-{marker}']
            for name, description in texts])
        volumes = state.volumes()
    finally:
        state.close()
    for result in results:
        assert result.rc == 0, result
    assert sorted((v['name'], v['description']) for v in volumes) == (
        sorted(texts))
    assert {v['status'] for v in volumes} == {'available'}
    volumes_dir = os.path.join(state.state_path, 'volumes')
    assert sorted(os.listdir(volumes_dir)) == sorted(v['id']
                                                     for v in volumes)
    assert _mode(volumes_dir) == 0o700
    for volume in volumes:
        assert _mode(os.path.join(volumes_dir, volume['id'])) == 0o600
    for top in (str(tmp_path), '/tmp'):
        for _path, dirs, files in os.walk(top):
            assert not [n for n in dirs + files if marker in n]


@pytest.fixture
def pipeline(tmp_path):
    """``API()`` with the embedded defaults: local rpc, file driver."""
    conf = volflow_conf.load()
    conf.set_override('state_path', str(tmp_path / 'state'))
    conf.set_override('connection', f'sqlite:///{tmp_path}/v.sqlite',
                      group='database')
    local.reset()
    volflow_db.reset_apis()
    yield volume_api.API()
    assert local.wait_idle(60)
    local.reset()
    volflow_db.reset_apis()
    conf.clear_override('connection', group='database')
    conf.clear_override('state_path')


@pytest.mark.parametrize('field', ['name', 'description'])
def test_nul_in_a_name_is_refused_and_reaches_no_path(
        pipeline, tmp_path, field):
    ctx = volflow_context.RequestContext(user_id='u', project_id='p')
    before = invariants.state(pipeline.db, ['p'])
    text = {'name': 'n', 'description': None}
    text[field] = f'../x\x00{uuid.uuid4().hex}'
    with pytest.raises(exception.InvalidInput, match=field):
        pipeline.create(ctx, 1, text['name'], text['description'])
    assert invariants.state(pipeline.db, ['p']) == before
    volumes_dir = tmp_path / 'state' / 'volumes'
    assert not volumes_dir.exists() or os.listdir(volumes_dir) == []


# SQL -----------------------------------------------------------------------
#: ``API.create`` arguments that no SQL database can store as given.
UNSTORABLE = {
    'long name': {'name': 'x' * 256},
    'NUL in name': {'name': 'a\x00b'},
    'NUL in description': {'description': 'a\x00b'},
    'undecodable name': {'name': '\udcff'},
    'NUL in type': {'volume_type': 'gold\x00'},
    'undecodable type': {'volume_type': '\udcff'},
    'NUL in snapshot id': {'snapshot': 'a\x00'},
    'undecodable source id': {'source_volume': '\udcff'},
    'NUL in image id': {'image_id': 'a\x00'},
}


@pytest.fixture(params=['sqlite', pytest.param(
    'postgresql', marks=pytest.mark.postgres)])
def sql_db(request, tmp_path):
    if request.param == 'sqlite':
        url = f'sqlite:///{tmp_path}/unstorable.sqlite'
    else:
        server_url = request.getfixturevalue('postgres_url')
        name = f'unstorable_{uuid.uuid4().hex[:12]}'
        url = postgres.create_database(server_url, name)
        request.addfinalizer(
            lambda: postgres.drop_database(server_url, name))
    db_api = sql_api.SQLAPI(url)
    yield db_api
    db_api.dispose()


def test_values_sql_cannot_store_are_refused(sql_db, tmp_path):
    """Refused as bad input, changing nothing, on SQLite and PostgreSQL."""
    conf = volflow_conf.load()
    world.build_world(conf, sql_db)
    api = world.make_api(sql_db, conf, str(tmp_path / 'images'))
    before = invariants.state(sql_db, world.PROJECTS)
    for case, arguments in UNSTORABLE.items():
        arguments = dict({'name': 'n', 'description': None}, **arguments)
        with pytest.raises(exception.VolflowException) as refused:
            api.create(world.OWN, 1, arguments.pop('name'),
                       arguments.pop('description'), **arguments)
        assert refused.value.expected, case  # a refusal, not a failure
        assert invariants.state(sql_db, world.PROJECTS) == before, case
    for volume_id in ('a\x00', '\udcff'):
        with pytest.raises(exception.VolflowException) as refused:
            api.get(world.OWN, volume_id)
        assert refused.value.expected
    for limit in (-2, 2 ** 31, 10 ** 20):
        with pytest.raises(exception.InvalidInput, match=str(limit)):
            api.quota.update(world.OWN_ADMIN, 'p1', 'volumes', limit)
    assert sql_db.quota_get_all(world.OWN_ADMIN, 'p1') == {}
    invariants.assert_invariants(sql_db, world.PROJECTS)


INJECTIONS = {
    'name': "'); DROP TABLE volumes; --",
    'description': '" OR 1=1; DELETE FROM quota_usages; --',
    'type': "t'; DROP TABLE volume_types; --",
    'key': "k'); DELETE FROM reservations; --",
    'value': "v\"); DROP TABLE snapshots; --",
}


def test_sql_in_values_is_stored_verbatim(cli):
    project = cli_helpers.new_project()
    vtype = cli.ok('type-create', INJECTIONS['type'], '--project-id',
                   project)
    volume = cli.ok('create', '--size', '1', '--name', INJECTIONS['name'],
                    '--description', INJECTIONS['description'],
                    '--volume-type', INJECTIONS['type'], '--metadata',
                    f"{INJECTIONS['key']}={INJECTIONS['value']}",
                    '--project-id', project)
    shown, listed, probe = cli.parallel(
        ['show', volume['id'], '--project-id', project, '--format',
         'json'],
        ['list', '--project-id', project, '--format', 'json'],
        ['show', "x' OR '1'='1", '--project-id', project])
    assert vtype['name'] == INJECTIONS['type']
    for view in (shown.json, listed.json[0]):
        assert view['name'] == INJECTIONS['name']
        assert view['volume_type'] == INJECTIONS['type']
    assert shown.json['description'] == INJECTIONS['description']
    assert shown.json['metadata'] == {INJECTIONS['key']: INJECTIONS['value']}
    assert INJECTIONS['type'] in cli.types()
    assert cli.usages(project)['volumes'] == {'in_use': 1, 'reserved': 0}
    assert probe.rc == 1
    assert probe.err_lines == [
        "volflow: error: Volume x' OR '1'='1 could not be found."]
    # Every table is still there and consistent.
    assert cli.snapshots(project) == [] and cli.reservations(project) == []
    assert [v['name'] for v in cli.volumes(project)] == [INJECTIONS['name']]
    invariants.assert_invariants(cli.db, [project])
