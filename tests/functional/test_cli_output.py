"""What the command line prints, and where, for single independent runs.

Each run below needs no state but its own project, so the module runs
them all at once (a command-line start costs most of a second) and each
test checks one of them: JSON documents, defaults from the environment,
exit statuses of usage errors, stderr staying quiet unless logging is
asked for, DOT graphs.
"""

import os

import pytest

VOLUME_FIELDS = {'id', 'name', 'description', 'size', 'status',
                 'project_id', 'user_id', 'volume_type_id', 'volume_type',
                 'availability_zone', 'host', 'snapshot_id', 'source_volid',
                 'image_id', 'metadata', 'created_at', 'updated_at'}
CREATED = ('creating', 'available')
SIZE_0 = ("volflow: error: Invalid input received: Volume size '0' must be "
          "an integer and greater than 0")

USAGE_ERRORS = {
    'unknown command': ['no-such-command'],
    'unknown option': ['create', '--size', '1', '--no-such-option'],
    'count below 1': ['create', '--count', '0', '--size', '1'],
    'missing required option': ['image-create', 'x'],
    'bad choice': ['list', '--format', 'yaml'],
    'unknown flow': ['graph', 'nowhere'],
    'no command': [],
}


def _runs(root):
    """name -> (argv, keyword arguments of Cli.run)."""
    log_file = os.path.join(root, 'debug.log')
    runs = {
        'json': (['create', '--size', '2', '--name', 'vol-a',
                  '--description', 'first', '--metadata', 'a=b',
                  '--metadata', 'c=d=e', '--project-id', 'out-json',
                  '--user-id', 'alice', '--format', 'json'], {}),
        'environment': (['create', '--size', '1', '--format', 'json'],
                        {'env': {'OS_PROJECT_ID': 'out-env',
                                 'OS_USER_ID': 'bob'}}),
        'default project': (['create', '--size', '1', '--format', 'json'],
                            {}),
        'no config file': (['quota-show', '--format', 'json'],
                           {'config': False}),
        'quiet success': (['create', '--size', '1', '--project-id',
                           'out-quiet'], {}),
        'quiet refusal': (['create', '--size', '0'], {}),
        'debug': (['--debug', 'create', '--size', '1', '--project-id',
                   'out-debug', '--format', 'json'], {}),
        'debug after the command': (['create', '--size', '0', '--debug'],
                                    {}),
        'verbose': (['--verbose', 'create', '--size', '0'], {}),
        'log file': (['--debug', '--log-file', log_file, 'create',
                      '--size', '0'], {}),
        'missing config file': (['--config-file',
                                 os.path.join(root, 'nope.conf'), 'list'],
                                {}),
        'help': (['create', '--help'], {}),
        'count': (['create', '--size', '1', '--count', '3', '--name',
                   'many', '--project-id', 'out-count', '--format', 'json'],
                  {}),
        'graph api': (['graph', 'api'], {}),
        'graph scheduler': (['graph', 'scheduler'], {}),
        'graph manager': (['graph', 'manager'], {}),
    }
    for name, argv in USAGE_ERRORS.items():
        runs[f'usage: {name}'] = (argv, {})
    return runs


@pytest.fixture(scope='module')
def runs(cli):
    """Run everything at once; ``{name: Result}``."""
    planned = _runs(cli.root)
    names = sorted(planned)
    results = cli.run_all([planned[name] for name in names])
    return dict(zip(names, results))


def test_create_prints_one_json_document(runs):
    result = runs['json']
    assert result.rc == 0, result
    assert result.stderr == ''
    volume = result.json
    assert VOLUME_FIELDS <= set(volume) <= VOLUME_FIELDS | {'reason'}
    assert (volume['size'], volume['name'], volume['description']) == (
        2, 'vol-a', 'first')
    assert volume['metadata'] == {'a': 'b', 'c': 'd=e'}
    assert volume['project_id'] == 'out-json'
    assert volume['user_id'] == 'alice'
    assert volume['volume_type'] == '__DEFAULT__'
    assert volume['availability_zone'] == 'nova'
    assert volume['status'] in CREATED
    assert volume['created_at'][:4].isdigit() and 'T' in volume['created_at']


def test_project_and_user_default_to_environment(runs):
    volume = runs['environment'].json
    assert (volume['project_id'], volume['user_id']) == ('out-env', 'bob')


def test_default_project_and_user_are_volflow(runs):
    volume = runs['default project'].json
    assert volume['project_id'] == 'volflow'
    assert volume['user_id'] == 'volflow'


def test_no_config_file_uses_xdg_data_home(cli, runs):
    result = runs['no config file']
    assert result.rc == 0, result
    assert result.json['volumes']['limit'] == 10
    assert os.path.exists(os.path.join(cli.root, 'xdg', 'volflow',
                                       'volflow.sqlite'))


def test_default_stderr_is_quiet(runs):
    assert runs['quiet success'].rc == 0
    assert runs['quiet success'].stderr == ''
    assert runs['quiet refusal'].err_lines == [SIZE_0]


def test_debug_logs_to_stderr(runs):
    result = runs['debug']
    assert result.rc == 0, result
    assert 'DEBUG' in result.stderr
    assert 'ExtractVolumeRequestTask' in result.stderr
    assert result.json['size'] == 1  # stdout still one JSON document


def test_global_options_after_the_command(runs):
    result = runs['debug after the command']
    assert result.rc == 1
    assert 'DEBUG' in result.stderr
    assert result.err_lines[-1] == SIZE_0


def test_verbose_shows_warnings_not_debug(runs):
    result = runs['verbose']
    assert result.rc == 1
    assert 'WARNING' in result.stderr and 'DEBUG' not in result.stderr
    assert result.err_lines[-1] == SIZE_0


def test_log_file_takes_the_log_lines(cli, runs):
    result = runs['log file']
    assert result.rc == 1
    assert result.err_lines == [SIZE_0]
    with open(os.path.join(cli.root, 'debug.log')) as log:
        assert 'ExtractVolumeRequestTask' in log.read()


def test_missing_config_file_is_a_usage_error(runs):
    result = runs['missing config file']
    assert result.rc == 2
    assert len(result.err_lines) == 1 and 'nope.conf' in result.stderr


@pytest.mark.parametrize('name', sorted(USAGE_ERRORS))
def test_usage_errors_exit_2(runs, name):
    result = runs[f'usage: {name}']
    assert result.rc == 2, result
    assert len(result.err_lines) == 1, result
    assert result.stderr.startswith('volflow')
    assert result.stdout == ''


def test_help_exits_0(runs):
    assert runs['help'].rc == 0
    assert '--metadata' in runs['help'].stdout


def test_count_all_succeed(runs):
    result = runs['count']
    assert result.rc == 0, result
    assert [v['name'] for v in result.json] == ['many'] * 3
    assert len({v['id'] for v in result.json}) == 3
    assert all(v['status'] in CREATED for v in result.json)
    assert len(result.err_lines) == 1
    assert result.stderr.startswith('3 of 3 volumes created')


def test_graph_api_is_dot(runs):
    result = runs['graph api']
    assert result.rc == 0, result
    assert result.stderr == ''
    assert result.stdout.startswith('digraph')
    tasks = ['ExtractVolumeRequestTask', 'QuotaReserveTask',
             'EntryCreateTask', 'QuotaCommitTask', 'VolumeCastTask']
    positions = [result.stdout.index(f'label="{task}"') for task in tasks]
    assert positions == sorted(positions)


@pytest.mark.parametrize('flow, tasks', [
    ('scheduler', ['ExtractSchedulerSpecTask', 'ScheduleCreateVolumeTask']),
    ('manager', ['ExtractVolumeRefTask', 'OnFailureRescheduleTask',
                 'ExtractVolumeSpecTask', 'NotifyVolumeActionTask',
                 'CreateVolumeFromSpecTask', 'CreateVolumeOnFinishTask']),
])
def test_graph_of_other_flows(runs, flow, tasks):
    result = runs[f'graph {flow}']
    assert result.rc == 0
    assert result.stdout.startswith('digraph')
    assert result.stderr == ''
    positions = [result.stdout.index(f'label="{task}"') for task in tasks]
    assert positions == sorted(positions)
