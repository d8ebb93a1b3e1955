"""Refused creates through the command line: exit 1, one line, no change.

Every bad request is a test of its own: it exits 1 (2 for a usage
error), writes exactly one line on stderr naming the offending value, and
nothing on stdout. The
requests run at once, all for the same project, from a module fixture (a
command-line start costs most of a second); since a refusal can only add,
never take away, "nothing changed" is checked over all of them: the
project has the volumes, usage and reservations it had before, no file
appeared under ``state_path/volumes``, and the command line's own
``list`` and ``quota-show`` agree.
"""

import os

import pytest

PROJECT = 'refused'
OWNER = 'owner'
LONG = 'k' * 256

#: Usage errors (exit 2) among the cases; the others are refusals (1).
USAGE_ERRORS = frozenset(['size missing'])

#: name -> (create arguments, strings stderr must name). ``{own_volume}``
#: and the like are filled in from the ``sources`` fixture.
CASES = {
    'size 0': (['--size=0'], ["'0'"]),
    'size -1': (['--size=-1'], ["'-1'"]),
    'size 1.5': (['--size=1.5'], ["'1.5'"]),
    'size abc': (['--size=abc'], ["'abc'"]),
    'size too big': (['--size=99999999999999999999'],
                     ["'99999999999999999999'"]),
    'size missing': (['--name', 'sizeless'], ['--size']),
    'size below source': (['--size', '0', '--source-volid', '{own_volume}'],
                          ["'0'"]),
    'unknown type': (['--size', '1', '--volume-type', 'no-such-type'],
                     ['no-such-type']),
    'unknown zone': (['--size', '1', '--availability-zone', 'no-such-zone'],
                     ["'no-such-zone'"]),
    'unknown snapshot': (['--snapshot-id', 'no-such-snapshot'],
                         ['Snapshot no-such-snapshot could not be found']),
    'unknown source': (['--source-volid', 'no-such-volume'],
                       ['Volume no-such-volume could not be found']),
    'unknown image': (['--size', '1', '--image-id', 'no-such-image'],
                      ['Image no-such-image could not be found']),
    'two sources': (['--snapshot-id', '{own_snapshot}', '--source-volid',
                     '{own_volume}'],
                    ['only one of', 'snapshot', 'source volume']),
    'default type missing': (['--size', '1', '--config-file',
                              '{missing_default_type_conf}'],
                             ["'missing'", 'default_volume_type']),
    'metadata key too long': (['--size', '1', '--metadata', f'{LONG}=v'],
                              [LONG[:40], '256 characters']),
    'metadata value too long': (['--size', '1', '--metadata',
                                 f'key={LONG}'],
                                ["'key'", '256 characters']),
    'metadata without =': (['--size', '1', '--metadata', 'lonely'],
                           ["'lonely'", 'KEY=VALUE']),
    "another project's snapshot": (
        ['--snapshot-id', '{other_snapshot}'],
        ['Snapshot {other_snapshot} could not be found']),
    "another project's volume": (
        ['--source-volid', '{other_volume}'],
        ['Volume {other_volume} could not be found']),
}


@pytest.fixture(scope='module')
def sources(cli):
    """Volumes and snapshots to refer to: the project's and another's."""
    found = {}
    for project, prefix in ((PROJECT, 'own'), (OWNER, 'other')):
        volume = cli.ok('create', '--size', '1', '--project-id', project)
        cli.make_available(volume['id'])
        snapshot = cli.ok('snapshot-create', volume['id'], '--project-id',
                          project)
        found[f'{prefix}_volume'] = volume['id']
        found[f'{prefix}_snapshot'] = snapshot['id']
    path = os.path.join(cli.root, 'missing-default-type.conf')
    with open(path, 'w') as conf:
        conf.write('[DEFAULT]\ndefault_volume_type = missing\n')
    found['missing_default_type_conf'] = path
    return found


@pytest.fixture(scope='module')
def before(cli, sources):
    """The project's state before any refused request."""
    return {'volumes': cli.volumes(PROJECT), 'usages': cli.usages(PROJECT),
            'files': cli.files()}


@pytest.fixture(scope='module')
def refusals(cli, sources, before):
    """Run every case at once; ``{name: Result}``."""
    names = sorted(CASES)
    calls = [(['create'] + [arg.format(**sources) for arg in CASES[name][0]]
              + ['--project-id', PROJECT], {}) for name in names]
    return dict(zip(names, cli.run_all(calls)))


@pytest.mark.parametrize('name', sorted(CASES))
def test_refused(refusals, sources, name):
    result = refusals[name]
    if name in USAGE_ERRORS:
        assert result.rc == 2, result
        assert result.stderr.startswith('volflow create: error: '), result
    else:
        assert result.rc == 1, result
        assert result.stderr.startswith('volflow: error: '), result
    assert len(result.err_lines) == 1, result
    assert 'Traceback' not in result.stderr
    assert result.stdout == ''
    for value in CASES[name][1]:
        assert value.format(**sources) in result.stderr, result


def test_nothing_changed(cli, refusals, before):
    assert cli.volumes(PROJECT) == before['volumes']
    assert cli.usages(PROJECT) == before['usages']
    assert cli.reservations(PROJECT) == []
    assert cli.files() == before['files']


def test_nothing_changed_as_the_command_line_sees_it(cli, refusals,
                                                     before):
    listed = cli.ok('list', '--project-id', PROJECT)
    assert sorted(v['id'] for v in listed) == [
        v['id'] for v in before['volumes']]
    quota = cli.ok('quota-show', '--project-id', PROJECT)
    for resource, usage in before['usages'].items():
        assert (quota[resource]['in_use'], quota[resource]['reserved']) == (
            usage['in_use'], usage['reserved'])
    assert quota['volumes']['in_use'] == 1
    assert quota['volumes']['reserved'] == 0
