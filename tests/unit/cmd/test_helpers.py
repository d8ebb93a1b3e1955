"""Parsing and rendering helpers of the command line."""

import argparse
import datetime
import json

from oslo_config import cfg
import pytest

from volflow.cmd import _backends
from volflow.cmd import _create
from volflow.cmd import _output
from volflow.cmd import _parsers
from volflow.cmd import _util
from volflow.cmd import main
from volflow.conf import backend as backend_conf
from volflow.conf import core
from volflow import exception

COMMANDS = frozenset(['create', 'list', 'show'])


# KEY=VALUE ---------------------------------------------------------------
def test_parse_pairs():
    assert _util.parse_pairs('--metadata', ['a=b', 'c=d=e', 'a=z', 'e=']) == {
        'a': 'z', 'c': 'd=e', 'e': ''}
    assert _util.parse_pairs('--metadata', None) is None


def test_parse_pairs_refuses_a_value_without_equals():
    with pytest.raises(exception.InvalidInput) as raised:
        _util.parse_pairs('--property', ['ok=1', 'broken'])
    assert str(raised.value) == (
        "Invalid input received: --property 'broken' must be KEY=VALUE")


# one-line reasons ----------------------------------------------------------
def test_reason_of_a_volflow_error_is_its_message():
    exc = exception.VolumeNotFound(volume_id='v1')
    assert _util.reason(exc) == 'Volume v1 could not be found.'


def test_reason_of_an_unexpected_error_names_its_type():
    assert _util.reason(KeyError('x\ny')) == "KeyError: 'x\\ny'"
    assert _util.reason(RuntimeError('two\nlines')) == (
        'RuntimeError: two lines')


def test_fail_writes_one_line(capsys):
    _util.fail('first\nsecond')
    assert capsys.readouterr().err == 'volflow: error: first second\n'


# global options after the command ----------------------------------------
@pytest.mark.parametrize('argv, expected', [
    (['create', '--size', '1', '--debug'],
     ['--debug', 'create', '--size', '1']),
    (['list', '--config-file', 'a.conf', '--format', 'json'],
     ['--config-file', 'a.conf', 'list', '--format', 'json']),
    (['show', 'x', '--log-file=l.log', '-v'],
     ['--log-file=l.log', '-v', 'show', 'x']),
    (['--config-file', 'list', 'list', '-d'],
     ['--config-file', 'list', '-d', 'list']),
    (['create', '--', '--debug'], ['create', '--', '--debug']),
    (['--debug', 'create'], ['--debug', 'create']),
    (['nothing', '--debug'], ['nothing', '--debug']),
])
def test_hoist_global_options(argv, expected):
    assert main.hoist_global_options(argv, COMMANDS) == expected


# argparse types ----------------------------------------------------------
@pytest.mark.parametrize('text', ['0', '-3', 'x', '1.5'])
def test_positive_int_refuses(text):
    with pytest.raises(argparse.ArgumentTypeError):
        _parsers.positive_int(text)


def test_positive_int():
    assert _parsers.positive_int('7') == 7


def _parse(*argv):
    parser = argparse.ArgumentParser()
    _parsers.add_parsers(parser.add_subparsers(dest='command'))
    return parser.parse_args(argv)


def test_create_options():
    args = _parse('create', '--size', '2', '--name', 'n', '--metadata',
                  'a=b', '--metadata', 'c=d', '--count', '3', '--no-wait',
                  '--format', 'json', '--admin', '--project-id', 'p')
    assert (args.size, args.display_name, args.metadata, args.count,
            args.no_wait, args.format, args.admin, args.project_id) == (
        '2', 'n', ['a=b', 'c=d'], 3, True, 'json', True, 'p')
    assert args.func is _create.create


def test_project_defaults_from_environment(monkeypatch):
    monkeypatch.setenv('OS_PROJECT_ID', 'envp')
    monkeypatch.delenv('OS_USER_ID', raising=False)
    args = _parse('list')
    assert (args.project_id, args.user_id, args.format) == (
        'envp', 'volflow', 'table')


def test_graph_takes_no_project():
    args = _parse('graph', 'api')
    assert args.needs == 'nothing'
    assert not hasattr(args, 'project_id')


# output --------------------------------------------------------------------
def _volume(**values):
    volume = {'id': 'v1', 'name': 'n', 'size': 1, 'status': 'available',
              'metadata': None, 'extra': 'hidden',
              'created_at': datetime.datetime(2024, 5, 6, 7, 8, 9)}
    volume.update(values)
    return volume


def test_volume_view_has_exactly_the_contract_fields():
    view = _output.volume_view(_volume())
    assert tuple(view) == _output.VOLUME_VIEW_FIELDS
    assert view['created_at'] == '2024-05-06T07:08:09'
    assert view['metadata'] == {}
    assert view['updated_at'] is None
    json.loads(_output.to_json(view))


def test_views_of_other_records():
    snapshot = _output.snapshot_view({'id': 's', 'volume_id': 'v',
                                      'volume_size': 2, 'x': 1})
    assert set(snapshot) == {'id', 'volume_id', 'volume_size', 'name',
                             'status', 'project_id', 'created_at'}
    image = _output.image_view({'id': 'i', 'is_public': 0,
                                'location': '/secret'})
    assert set(image) == {'id', 'name', 'size', 'min_disk', 'status',
                          'project_id', 'is_public'}
    assert image['is_public'] is False
    vtype = _output.volume_type_view({'id': 't', 'name': 'gold',
                                      'extra_specs': None})
    assert vtype == {'id': 't', 'name': 'gold', 'extra_specs': {}}


def test_tables():
    view = _output.volume_view(_volume(metadata={'b': '2', 'a': '1'}))
    table = _output.record_table(view)
    assert table.index('| id ') < table.index('| name ')
    assert 'a=1' in table and 'b=2' in table
    listed = _output.list_table('volume', [view])
    assert 'ID' in listed and 'Availability Zone' in listed
    quota = _output.quota_table({'volumes': {'limit': 10, 'in_use': 1,
                                             'reserved': 0}})
    assert 'In Use' in quota and '10' in quota


def test_emit(capsys):
    _output.emit({'a': 1}, 'json', lambda: pytest.fail('not a table'))
    assert json.loads(capsys.readouterr().out) == {'a': 1}
    _output.emit({'a': 1}, 'table', lambda: 'TABLE')
    assert capsys.readouterr().out == 'TABLE\n'


# --count summary -----------------------------------------------------------
def test_summary_groups_failures():
    outcomes = [
        _create._Outcome(_volume()),
        _create._Outcome(error='over quota'),
        _create._Outcome(error='over quota'),
        _create._Outcome(_volume(id='v2', status='error', reason='boom')),
    ]
    line = _create.summary(outcomes, 2.0)
    assert line == ('1 of 4 volumes created in 2.00s (2.0 creates/s); '
                    '3 failed: 2 x over quota; 1 x ended in error: boom')
    assert '\n' not in line


def test_outcome_views():
    assert _create._Outcome(error='no').view() == {'error': 'no'}
    failed = _create._Outcome(_volume(status='error', reason='boom'))
    assert not failed.ok
    assert failed.reason == 'Volume v1 ended in error: boom'
    assert failed.view()['status'] == 'error'


# capacity ------------------------------------------------------------------
class _FakeDB:
    def __init__(self, allocated):
        self.allocated = allocated

    def volume_allocated_by_host(self, context):
        assert context.is_admin
        return self.allocated


def _conf(**values):
    conf = cfg.ConfigOpts()
    core.register_opts(conf)
    conf([], project='volflow-test', default_config_files=[],
         default_config_dirs=[])
    for name, value in values.items():
        conf.set_override(name, value)
    return conf


def test_backend_views_of_the_seeded_backend():
    views = _backends.backend_views(
        _FakeDB({'node@local#local': 3, 'local': 2, 'elsewhere': 7}),
        _conf())
    assert views == [{'name': 'local', 'volume_backend_name': 'local',
                      'availability_zone': 'nova', 'total_capacity_gb': 1000,
                      'free_capacity_gb': 995, 'allocated_capacity_gb': 5}]


def test_backend_views_round_free_capacity(tmp_path):
    conf = _conf(enabled_backends=['b1'])
    conf.register_opts(backend_conf.backend_opts, group='b1')
    conf.set_override('total_capacity_gb', 10, group='b1')
    conf.set_override('reserved_percentage', 33, group='b1')
    [view] = _backends.backend_views(_FakeDB({}), conf)
    assert view['free_capacity_gb'] == 6.7
    assert view['allocated_capacity_gb'] == 0
