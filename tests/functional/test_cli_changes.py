"""The command line changing what exists: extend, set, unset, deletes.

``python -m volflow`` in subprocesses on a state shared by the module
(each test acts for a project of its own); what a user sees is checked:
output, exit status, the one-line reason, the volume's file, quota usage.
"""

import os

from tests import invariants


def _volume(cli, project, size=1):
    volume = cli.ok('create', '--size', str(size), '--project-id', project)
    return cli.make_available(volume['id'])


def _file_size(cli, volume_id):
    (path,) = [f for f in cli.files()
               if os.path.basename(f) == volume_id]
    return os.path.getsize(path)


def test_extend_grows_the_file_and_the_quota(cli, project):
    volume = _volume(cli, project)
    extended = cli.ok('extend', volume['id'], '3', '--project-id', project)
    assert (extended['size'], extended['status']) == (3, 'available')
    assert _file_size(cli, volume['id']) == 3 * 1024 ** 3
    assert cli.usages(project)['gigabytes'] == {'in_use': 3,
                                                'reserved': 0}


def test_extend_refusals_change_nothing(cli, project):
    volume = _volume(cli, project, size=2)
    smaller, over, usage = cli.parallel(
        ['extend', volume['id'], '2', '--project-id', project],
        ['extend', volume['id'], '1001', '--project-id', project],
        ['extend', volume['id'], 'two', '--project-id', project])
    assert smaller.rc == 1 and smaller.err_lines == [
        'volflow: error: Invalid input received: New size for extend must '
        'be greater than current size. (current: 2, extended: 2).']
    assert over.rc == 1 and len(over.err_lines) == 1
    assert 'gigabytes' in over.err_lines[0]
    assert usage.rc == 2 and "'two'" in usage.stderr
    assert cli.volumes(project)[0]['size'] == 2
    assert _file_size(cli, volume['id']) == 2 * 1024 ** 3
    invariants.assert_invariants(cli.db, [project])


def test_set_and_unset(cli, project):
    volume = _volume(cli, project)
    changed = cli.ok('set', volume['id'], '--name', 'renamed',
                     '--description', 'd', '--property', 'a=1',
                     '--property', 'b=2', '--project-id', project)
    assert (changed['name'], changed['description'], changed['metadata']) \
        == ('renamed', 'd', {'a': '1', 'b': '2'})
    unset = cli.ok('unset', volume['id'], '--property', 'a',
                   '--project-id', project)
    assert unset['metadata'] == {'b': '2'}
    missing = cli.run('unset', volume['id'], '--property', 'zz',
                      '--property', 'b', '--project-id', project)
    assert missing.rc == 1 and missing.err_lines == [
        f"volflow: error: Volume {volume['id']} has no metadata with key "
        f"zz."]
    empty = cli.run('set', volume['id'], '--project-id', project)
    assert empty.rc == 1 and 'set needs at least one of' in empty.stderr
    bad = cli.run('set', volume['id'], '--property', 'novalue',
                  '--project-id', project)
    assert bad.rc == 1 and "'novalue'" in bad.stderr
    assert cli.volumes(project)[0]['metadata'] == {'b': '2'}


def test_snapshot_delete_and_cascade(cli, project):
    volume = _volume(cli, project)
    first = cli.ok('snapshot-create', volume['id'], '--project-id', project)
    second = cli.ok('snapshot-create', volume['id'], '--project-id', project)
    refused = cli.run('delete', volume['id'], '--project-id', project)
    assert refused.rc == 1 and 'cascade' in refused.stderr
    deleted = cli.ok('snapshot-delete', first['id'], '--project-id',
                     project)
    assert deleted == {'id': first['id'], 'status': 'deleted'}
    assert [s['id'] for s in cli.snapshots(project)] == [second['id']]
    assert cli.usages(project)['snapshots']['in_use'] == 1
    gone = cli.ok('delete', '--cascade', volume['id'], '--project-id',
                  project)
    assert gone == {'id': volume['id'], 'status': 'deleted'}
    assert cli.snapshots(project) == [] and cli.volumes(project) == []
    assert not [f for f in cli.files()
                if volume['id'] in f or second['id'] in f]
    invariants.assert_invariants(cli.db, [project])
    again = cli.run('snapshot-delete', first['id'], '--project-id', project)
    assert again.rc == 1 and again.err_lines == [
        f"volflow: error: Snapshot {first['id']} could not be found."]
