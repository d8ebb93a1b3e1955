"""Quota sets, quota classes and /limits: Cinder's bodies and behaviour.

Every body is checked against Tempest's schema for it.
"""

import pytest

from tests import fuzz_world as world
from tests.unit.api import conftest as api_fixtures
from tests.unit.api import schema

V3 = '/v3/p1'
AS_ADMIN = '/v3/admin'
ADMIN = 'admin:admin'
LIMITS = ('volumes', 'gigabytes', 'snapshots', 'backups',
          'backup_gigabytes', 'groups', 'per_volume_gigabytes')


def _quota_set(client, project='p1'):
    response = client.get(f'{AS_ADMIN}/os-quota-sets/{project}',
                          token=ADMIN)
    return schema.conforms(response, 'quotas', 'show_quota_set')[
        'quota_set']


def test_quota_set_has_every_cinder_key_and_every_type(client):
    shown = _quota_set(client)
    assert {key: shown[key] for key in LIMITS} == {
        'volumes': 10, 'gigabytes': 1000, 'snapshots': 10, 'backups': 10,
        'backup_gigabytes': 1000, 'groups': 10, 'per_volume_gigabytes': -1}
    for name in world.TYPE_NAMES:
        for resource in ('volumes', 'gigabytes', 'snapshots'):
            assert shown[f'{resource}_{name}'] == -1


def test_quota_usage_conforms(client):
    response = client.get(V3 + '/os-quota-sets/p1?usage=True')
    usage = schema.conforms(response, 'quotas', 'show_quota_set_usage')[
        'quota_set']
    assert usage['volumes'] == {'limit': 10, 'in_use': 2, 'reserved': 0,
                                'allocated': 0}
    assert usage['backups']['in_use'] == 0


def test_a_quota_set_can_be_written_back_as_read(client):
    shown = _quota_set(client)
    del shown['id']
    response = client.put(AS_ADMIN + '/os-quota-sets/p1',
                          {'quota_set': shown}, token=ADMIN)
    updated = schema.conforms(response, 'quotas', 'update_quota_set')
    assert dict(updated['quota_set'], id='p1') == dict(shown, id='p1')


def test_update_every_limit(client):
    wanted = {'gigabytes': 1009, 'volumes': 11, 'snapshots': 11,
              'backups': 11, 'backup_gigabytes': 1009, 'groups': 3,
              'per_volume_gigabytes': 1009}
    response = client.put(AS_ADMIN + '/os-quota-sets/p1',
                          {'quota_set': wanted}, token=ADMIN)
    updated = schema.conforms(response, 'quotas', 'update_quota_set')
    assert {key: updated['quota_set'][key] for key in wanted} == wanted
    assert {key: _quota_set(client)[key] for key in wanted} == wanted


def test_per_volume_gigabytes_of_the_project_bounds_a_create(client):
    client.put(AS_ADMIN + '/os-quota-sets/p1',
               {'quota_set': {'per_volume_gigabytes': 1}}, token=ADMIN)
    before = len(client.db.volume_get_all(world.OWN_ADMIN))
    refused = client.post(V3 + '/volumes', {'volume': {'size': 2}})
    kind, message = api_fixtures.fault(refused)
    assert (refused.status_code, kind) == (413, 'overLimit')
    assert "'2'" in message or ' 2' in message
    assert len(client.db.volume_get_all(world.OWN_ADMIN)) == before
    other = client.post('/v3/p2/volumes', {'volume': {'size': 2}},
                        token='u2:p2')
    assert other.status_code == 202


def test_skip_validation_false_refuses_a_limit_below_the_usage(client):
    response = client.put(AS_ADMIN + '/os-quota-sets/p1', {
        'quota_set': {'volumes': 1}, 'skip_validation': False},
        token=ADMIN)
    assert api_fixtures.fault(response)[0] == 'badRequest'
    assert _quota_set(client)['volumes'] == 10
    response = client.put(AS_ADMIN + '/os-quota-sets/p1', {
        'quota_set': {'volumes': 1}}, token=ADMIN)
    assert response.status_code == 200


def test_delete_gives_the_defaults_back(client):
    client.put(AS_ADMIN + '/os-quota-sets/p1',
               {'quota_set': {'volumes': 15, 'backups': 2}}, token=ADMIN)
    assert api_fixtures.fault(client.delete(
        V3 + '/os-quota-sets/p1'))[0] == 'forbidden'
    response = client.delete(AS_ADMIN + '/os-quota-sets/p1', token=ADMIN)
    schema.conforms(response, 'quotas', 'delete_quota_set')
    shown = _quota_set(client)
    assert (shown['volumes'], shown['backups']) == (10, 10)


def test_defaults_conform(client):
    response = client.get(V3 + '/os-quota-sets/p1/defaults')
    defaults = schema.conforms(response, 'quotas', 'show_quota_set')[
        'quota_set']
    assert {key: defaults[key] for key in LIMITS} == {
        'volumes': 10, 'gigabytes': 1000, 'snapshots': 10, 'backups': 10,
        'backup_gigabytes': 1000, 'groups': 10, 'per_volume_gigabytes': -1}


def test_the_default_quota_class_sets_every_projects_defaults(client):
    response = client.get(AS_ADMIN + '/os-quota-class-sets/default',
                          token=ADMIN)
    shown = schema.conforms(response, 'quota_classes',
                            'show_quota_classes')['quota_class_set']
    assert (shown['id'], shown['volumes'], shown['backups']) == (
        'default', 10, 10)
    wanted = {'volumes': 12, 'backups': 13, 'per_volume_gigabytes': 5,
              'gigabytes_gold': 4}
    response = client.put(AS_ADMIN + '/os-quota-class-sets/default',
                          {'quota_class_set': wanted}, token=ADMIN)
    updated = schema.conforms(response, 'quota_classes',
                              'update_quota_classes')['quota_class_set']
    assert {key: updated[key] for key in wanted} == wanted
    for project in ('p1', 'a-new-project'):
        defaults = client.get(f'{AS_ADMIN}/os-quota-sets/{project}/'
                              f'defaults', token=ADMIN).json['quota_set']
        assert {key: defaults[key] for key in wanted} == wanted
        assert {key: _quota_set(client, project)[key]
                for key in wanted} == wanted


def test_the_default_class_limits_a_create(client):
    client.put(AS_ADMIN + '/os-quota-class-sets/default',
               {'quota_class_set': {'volumes': 2}}, token=ADMIN)
    refused = client.post(V3 + '/volumes', {'volume': {'size': 1}})
    assert api_fixtures.fault(refused)[0] == 'overLimit'


@pytest.mark.parametrize('body, named', [
    ({'quota_class_set': {'bogus': 1}}, 'bogus'),
    ({'quota_class_set': {'volumes': -2}}, '-2'),
    ({'quota_class_set': {'volumes': 1, 'snapshots_nosuch': 1}},
     'snapshots_nosuch'),
    ({'quota_set': {'volumes': 1}}, 'quota_class_set')])
def test_bad_quota_class_updates_change_nothing(client, body, named):
    response = client.put(AS_ADMIN + '/os-quota-class-sets/default', body,
                          token=ADMIN)
    kind, message = api_fixtures.fault(response)
    assert kind == 'badRequest' and named in message
    shown = client.get(AS_ADMIN + '/os-quota-class-sets/default',
                       token=ADMIN).json['quota_class_set']
    assert shown['volumes'] == 10


def test_quota_classes_are_admin_only(client):
    assert api_fixtures.fault(client.get(
        V3 + '/os-quota-class-sets/default'))[0] == 'forbidden'
    assert api_fixtures.fault(client.put(
        V3 + '/os-quota-class-sets/default',
        {'quota_class_set': {'volumes': 1}}))[0] == 'forbidden'


def test_absolute_limits_are_the_callers(client):
    response = client.get(V3 + '/limits')
    limits = schema.conforms(response, 'limits', 'show_limits')['limits']
    assert limits['rate'] == []
    assert limits['absolute'] == {
        'maxTotalVolumes': 10, 'maxTotalSnapshots': 10,
        'maxTotalVolumeGigabytes': 1000, 'maxTotalBackups': 10,
        'maxTotalBackupGigabytes': 1000, 'totalVolumesUsed': 2,
        'totalSnapshotsUsed': 2, 'totalGigabytesUsed': 7,
        'totalBackupsUsed': 0, 'totalBackupGigabytesUsed': 0}
