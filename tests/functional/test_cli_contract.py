"""The command line keeps its own contract, as a user drives it.

Each test runs ``python -m volflow`` in a subprocess against a state of
its own: ``--format json`` prints one document even for a refused
create; usage errors exit 2; ``--timings`` shows executions and reverts
apart; a quota limit below the usage is refused; a backend listed
without a section, or a backend value carrying a comment, is refused
at start-up; ``--version``; ``show`` and ``delete`` by name; ``delete``
of several volumes; the API's access line per request.
"""

import json
import re
import urllib.request

import pytest

from tests.functional import conftest
from tests.functional import test_api_clients


@pytest.fixture
def cli(tmp_path):
    state = conftest.Cli(tmp_path)
    yield state
    state.close()


def test_json_refusal_of_a_single_create_is_one_document(cli):
    result = cli.run('create', '--size', '1', '--volume-type', 'nosuch',
                     '--format', 'json')
    assert result.rc == 1, result
    document = json.loads(result.stdout)
    assert list(document) == ['error']
    assert 'nosuch' in document['error']
    assert result.err_lines == [f"volflow: error: {document['error']}"]
    assert cli.volumes() == []


def test_create_without_a_size_is_a_usage_error(cli):
    result = cli.run('create', '--name', 'x')
    assert result.rc == 2, result
    assert result.err_lines == [
        'volflow create: error: --size is required unless --snapshot-id '
        'or --source-volid is given']
    assert result.stdout == ''


def test_timings_show_executions_and_reverts_apart(cli, project):
    cli.ok('quota-update', '--project-id', project, '--volumes', '1')
    result = cli.run('create', '--project-id', project, '--size', '1',
                     '--count', '3', '--timings')
    assert result.rc == 1, result
    rows = {}
    for line in result.err_lines:
        fields = line.split()
        if len(fields) == 5 and fields[2].isdigit():
            rows[(fields[0], fields[1])] = int(fields[2])
    assert rows[('ExtractVolumeRequestTask', 'execute')] == 3
    assert rows[('ExtractVolumeRequestTask', 'revert')] == 2
    assert rows[('QuotaReserveTask', 'execute')] == 3
    assert rows[('[volume_create_api]', 'run')] == 3


def test_quota_below_the_usage_is_refused(cli, project):
    for _ in range(2):
        cli.ok('create', '--project-id', project, '--size', '1')
    result = cli.run('quota-update', '--project-id', project,
                     '--volumes', '1')
    assert result.rc == 1, result
    assert result.err_lines == [
        "volflow: error: Invalid input received: Quota limit '1' for "
        "volumes must be -1 (unlimited) or at least 2, what the project "
        "already uses and has reserved"]
    assert cli.limits(project).get('volumes') is None
    cli.ok('quota-update', '--project-id', project, '--volumes', '2')
    cli.ok('quota-update', '--project-id', project, '--volumes', '-1')


def test_a_backend_without_a_section_is_refused(tmp_path):
    cli = conftest.Cli(tmp_path, extra_config='enabled_backends = ghost\n')
    result = cli.run('create', '--size', '1')
    assert result.rc == 1, result
    assert result.err_lines == [
        "volflow: error: Configuration error: enabled_backends names "
        "'ghost', which has no [ghost] section"]
    assert cli.files() == []


@pytest.mark.parametrize('option, value', [
    ('volume_backend_name', 'fast   # what volume types select with'),
    ('volume_driver', 'fake # in memory'),
    ('fake_latency', '0.05                  # seconds per driver call'),
    ('total_capacity_gb', '100 ; gigabytes'),
])
def test_a_backend_value_with_a_comment_is_refused(tmp_path, option,
                                                   value):
    cli = conftest.Cli(tmp_path, extra_config=(
        f'enabled_backends = fast\n[fast]\nvolume_driver = fake\n'
        f'{option} = {value}\n'))
    result = cli.run('create', '--size', '1')
    assert result.rc == 1, result
    shown = ' '.join(value.split())  # stderr's one line
    assert result.err_lines == [
        f"volflow: error: Configuration error: [fast] {option} '{shown}' "
        f"carries a comment: oslo.config keeps what follows a value on "
        f"its line; put the comment on a line of its own"]


def test_version(cli):
    result = cli.run('--version')
    assert result.rc == 0, result
    assert re.fullmatch(r'\d+\.\d+\.\d+\S*\n', result.stdout), result
    assert result.stderr == ''


def test_show_and_delete_by_a_unique_name(cli, project):
    volume = cli.ok('create', '--project-id', project, '--size', '1',
                    '--name', 'data')
    assert cli.ok('show', '--project-id', project, 'data')['id'] == (
        volume['id'])
    assert cli.ok('delete', '--project-id', project, 'data') == {
        'id': volume['id'], 'status': 'deleted'}
    assert cli.volumes(project) == []


def test_a_shared_name_is_refused(cli, project):
    for _ in range(2):
        cli.ok('create', '--project-id', project, '--size', '1',
               '--name', 'twin')
    for command in ('show', 'delete'):
        result = cli.run(command, '--project-id', project, 'twin')
        assert result.rc == 1, result
        assert result.err_lines == [
            "volflow: error: Invalid input received: 2 volumes are named "
            "'twin': give the id of the one you mean"]
    assert len(cli.volumes(project)) == 2


def test_delete_several(cli, project):
    ids = [cli.ok('create', '--project-id', project, '--size', '1')['id']
           for _ in range(3)]
    result = cli.run('delete', '--project-id', project, ids[0], 'nosuch',
                     ids[1], ids[2], '--format', 'json')
    assert result.rc == 1, result
    assert json.loads(result.stdout) == [
        {'id': ids[0], 'status': 'deleted'},
        {'id': 'nosuch', 'error': 'Volume nosuch could not be found.'},
        {'id': ids[1], 'status': 'deleted'},
        {'id': ids[2], 'status': 'deleted'}]
    assert result.err_lines == [
        'volflow: error: Volume nosuch could not be found.']
    assert cli.volumes(project) == []


def test_api_writes_an_access_line_per_request(tmp_path):
    server = test_api_clients.ApiServer(tmp_path)
    try:
        request = urllib.request.Request(
            f'{server.url}/v3/demo/volumes',
            headers={'X-Auth-Token': 'u1:demo'})
        with urllib.request.urlopen(request, timeout=30) as response:
            request_id = response.headers['x-openstack-request-id']
            assert response.status == 200
    finally:
        assert server.stop() == 0
    lines = [line for line in server.logged().splitlines()
             if request_id in line and 'GET /v3/demo/volumes' in line]
    assert len(lines) == 1, server.logged()
    assert re.search(r' INFO .*GET /v3/demo/volumes 200 \d+\.\d{3}s '
                     + re.escape(request_id), lines[0]), lines[0]
