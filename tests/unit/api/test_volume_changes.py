"""Volumes and snapshots over HTTP: Cinder's bodies, codes and changes.

Every body is checked against Tempest's schema for the microversion that
served it (:mod:`tests.unit.api.schema`).
"""

import uuid

import pytest

from tests import fuzz_world as world
from tests import invariants
from tests.unit.api import conftest as api_fixtures
from tests.unit.api import schema

fault = api_fixtures.fault
conforms = schema.conforms
V3 = '/v3/p1'
OWN = world.VOLUMES['own']
OWN_ERROR = world.VOLUMES['own_error']
SNAP = world.SNAPSHOTS['own']
ADMIN = 'admin:admin'
VERSIONS = ('3.0', '3.12', '3.13', '3.21', '3.36', '3.41', '3.48', '3.60')


def _version(version):
    return {'OpenStack-API-Version': f'volume {version}'}


def _new_volume(client, size=1, **values):
    body = client.post(V3 + '/volumes', {'volume': dict(values, size=size)})
    assert body.status_code == 202, body.json
    return body.json['volume']['id']


def _usage(client, resource, project='p1'):
    usage = client.db.quota_usage_get_all(world.OWN_ADMIN, project)
    return usage.get(resource, {}).get('in_use', 0)


@pytest.mark.parametrize('version', VERSIONS)
@pytest.mark.parametrize('token', ['u1:p1', ADMIN])
def test_volume_bodies_are_tempests(client, version, token):
    headers = _version(version)
    project = 'p1' if token == 'u1:p1' else 'admin'
    base = f'/v3/{project}'
    created = client.post(base + '/volumes', {'volume': {
        'size': 1, 'name': 'v', 'metadata': {'k': 'v'}}},
        token=token, headers=headers)
    body = conforms(created, 'volumes', 'create_volume')
    assert 'os-vol-tenant-attr:tenant_id' not in body['volume']
    volume_id = body['volume']['id']
    shown = conforms(client.get(f'{base}/volumes/{volume_id}', token=token,
                                headers=headers), 'volumes', 'show_volume')
    assert shown['volume']['os-vol-tenant-attr:tenant_id'] == project
    assert ('os-vol-host-attr:host' in shown['volume']) is (token == ADMIN)
    conforms(client.get(base + '/volumes', token=token, headers=headers),
             'volumes', 'list_volumes_no_detail')
    conforms(client.get(base + '/volumes/detail', token=token,
                        headers=headers),
             'volumes', 'list_volumes_with_detail')
    updated = conforms(client.put(
        f'{base}/volumes/{volume_id}', {'volume': {'name': 'w'}},
        token=token, headers=headers), 'volumes', 'update_volume')
    assert updated['volume']['name'] == 'w'


def test_the_host_a_volume_shows_is_a_pool_get_pools_lists(client):
    pools = client.get('/v3/admin/scheduler-stats/get_pools',
                       token=ADMIN).json['pools']
    shown = client.get(f'/v3/admin/volumes/{OWN}', token=ADMIN).json
    assert shown['volume']['os-vol-host-attr:host'] in {
        pool['name'] for pool in pools}


# Tempest's snapshot schemas stop at 3.13: from 3.14 Cinder adds
# group_snapshot_id, from 3.41 user_id (checked below), which they omit.
@pytest.mark.parametrize('version', ('3.0', '3.12', '3.13'))
def test_snapshot_bodies_are_tempests(client, version):
    headers = _version(version)
    created = conforms(client.post(V3 + '/snapshots', {'snapshot': {
        'volume_id': OWN, 'name': 's', 'metadata': {'a': 'b'}}},
        headers=headers), 'snapshots', 'create_snapshot')
    snapshot_id = created['snapshot']['id']
    assert created['snapshot']['metadata'] == {'a': 'b'}
    shown = conforms(client.get(f'{V3}/snapshots/{snapshot_id}',
                                headers=headers), 'snapshots',
                     'show_snapshot')
    assert shown['snapshot']['metadata'] == {'a': 'b'}
    listed = conforms(client.get(V3 + '/snapshots', headers=headers),
                      'snapshots', 'list_snapshots_no_detail')
    assert not any(key.startswith('os-extended-snapshot-attributes')
                   for item in listed['snapshots'] for key in item)
    conforms(client.get(V3 + '/snapshots/detail', headers=headers),
             'snapshots', 'list_snapshots_with_detail')
    updated = conforms(client.put(
        f'{V3}/snapshots/{snapshot_id}',
        {'snapshot': {'name': 'n', 'description': 'd'}}, headers=headers),
        'snapshots', 'update_snapshot')
    assert (updated['snapshot']['name'],
            updated['snapshot']['description']) == ('n', 'd')
    conforms(client.delete(f'{V3}/snapshots/{snapshot_id}', headers=headers),
             'snapshots', 'delete_snapshot')
    assert client.get(f'{V3}/snapshots/{snapshot_id}').status_code == 404
    invariants.assert_invariants(client.db, world.PROJECTS)


@pytest.mark.parametrize('version, fields', [
    ('3.13', set()), ('3.14', {'group_snapshot_id'}),
    ('3.41', {'group_snapshot_id', 'user_id'})])
def test_snapshot_fields_of_later_microversions(client, version, fields):
    base = conforms(client.get(f'{V3}/snapshots/{SNAP}',
                               headers=_version('3.0')),
                    'snapshots', 'show_snapshot')['snapshot']
    shown = client.get(f'{V3}/snapshots/{SNAP}',
                       headers=_version(version)).json['snapshot']
    assert set(shown) - set(base) == fields


def test_snapshot_of_a_null_or_unknown_volume_is_not_found(client):
    before = invariants.state(client.db, world.PROJECTS)
    for volume_id in (None, 'f0000000-0000-4000-8000-000000000000'):
        response = client.post(V3 + '/snapshots', {'snapshot': {
            'volume_id': volume_id}})
        assert response.status_code == 404, response.json
        assert fault(response)[0] == 'itemNotFound'
    assert invariants.state(client.db, world.PROJECTS) == before


@pytest.mark.parametrize('collection', ['volumes', 'snapshots'])
def test_an_unknown_marker_is_not_found(client, collection):
    response = client.get(f'{V3}/{collection}?marker=nope')
    assert response.status_code == 404
    assert fault(response) == ('itemNotFound',
                               'Marker nope could not be found.')


def test_offset_skips_records_after_the_marker(client):
    for name in ('b', 'a', 'c'):
        _new_volume(client, name=name)
    query = 'sort=name:asc&status=available'
    listed = client.get(f'{V3}/volumes?{query}&offset=1&limit=2').json
    assert [v['name'] for v in listed['volumes']] == ['a', 'b']
    first = client.get(f'{V3}/volumes?{query}&limit=1').json['volumes']
    rest = client.get(f'{V3}/volumes?{query}&offset=1&marker='
                      f"{first[0]['id']}").json['volumes']
    assert [v['name'] for v in rest] == ['b', 'c']
    bad = client.get(f'{V3}/snapshots?offset=x')
    assert bad.status_code == 400 and "'x'" in fault(bad)[1]


@pytest.mark.parametrize('collection', ['volumes', 'snapshots'])
def test_an_admin_lists_one_project_with_project_id(client, collection):
    listed = client.get(f'/v3/admin/{collection}/detail?all_tenants=1'
                        f'&project_id=p2', token=ADMIN).json[collection]
    assert listed and {v['id'] for v in listed} == {
        world.VOLUMES['other'] if collection == 'volumes'
        else world.SNAPSHOTS['other']}


def test_sort_key_display_name_sorts_by_name(client):
    for name in ('b', 'a', 'c'):
        _new_volume(client, name=name)
    listed = client.get(f'{V3}/volumes?sort_key=display_name&sort_dir=asc'
                        f'&status=available').json['volumes']
    assert [v['name'] for v in listed] == [None, 'a', 'b', 'c']


def test_volume_metadata_crud(client):
    base = f'{V3}/volumes/{OWN}/metadata'
    assert conforms(client.post(base, {'metadata': {'a': '1', 'b': '2'}}),
                    'volumes', 'create_volume_metadata') == {
        'metadata': {'a': '1', 'b': '2'}}
    assert conforms(client.post(base, {'metadata': {'c': '3'}}),
                    'volumes', 'create_volume_metadata')['metadata'] == {
        'a': '1', 'b': '2', 'c': '3'}
    assert conforms(client.put(base, {'metadata': {'d': '4'}}), 'volumes',
                    'update_volume_metadata') == {'metadata': {'d': '4'}}
    assert conforms(client.put(base + '/d', {'meta': {'d': '5'}}),
                    'volumes', 'update_volume_metadata_item') == {
        'meta': {'d': '5'}}
    assert conforms(client.get(base + '/d'), 'volumes',
                    'show_volume_metadata_item') == {'meta': {'d': '5'}}
    conforms(client.delete(base + '/d'), 'volumes',
             'delete_volume_metadata_item')
    assert conforms(client.get(base), 'volumes',
                    'show_volume_metadata') == {'metadata': {}}
    assert client.get(base + '/d').status_code == 404
    assert client.delete(base + '/d').status_code == 404


def test_volume_metadata_item_body_must_match_the_url(client):
    base = f'{V3}/volumes/{OWN}/metadata'
    for body in ({'meta': {'x': '1'}}, {'meta': {'d': '1', 'e': '2'}},
                 {'meta': {}}):
        response = client.put(base + '/d', body)
        assert response.status_code == 400, body
    assert client.get(base).json == {'metadata': {}}


def test_snapshot_metadata_crud(client):
    base = f'{V3}/snapshots/{SNAP}/metadata'
    conforms(client.post(base, {'metadata': {'a': '1'}}), 'snapshots',
             'create_snapshot_metadata')
    conforms(client.put(base, {'metadata': {'b': '2'}}), 'snapshots',
             'update_snapshot_metadata')
    conforms(client.put(base + '/b', {'meta': {'b': '3'}}), 'snapshots',
             'update_snapshot_metadata_item')
    assert conforms(client.get(base + '/b'), 'snapshots',
                    'show_snapshot_metadata_item') == {'meta': {'b': '3'}}
    conforms(client.delete(base + '/b'), 'snapshots',
             'delete_snapshot_metadata_item')
    assert conforms(client.get(base), 'snapshots',
                    'show_snapshot_metadata') == {'metadata': {}}


def test_volume_update_changes_name_description_and_metadata(client):
    response = client.put(f'{V3}/volumes/{OWN}', {'volume': {
        'name': 'n', 'description': 'd', 'metadata': {'k': 'v'}}})
    assert response.status_code == 200
    shown = client.get(f'{V3}/volumes/{OWN}').json['volume']
    assert (shown['name'], shown['description'], shown['metadata']) == (
        'n', 'd', {'k': 'v'})
    bad = client.put(f'{V3}/volumes/{OWN}', {'volume': {'size': 9}})
    assert bad.status_code == 400


def test_extend_grows_the_size_and_the_quota(client):
    before = _usage(client, 'gigabytes')
    before_gold = _usage(client, 'gigabytes_gold')
    response = client.post(f'{V3}/volumes/{OWN}/action',
                           {'os-extend': {'new_size': 5}})
    conforms(response, 'volumes', 'extend_volume')
    assert client.get(f'{V3}/volumes/{OWN}').json['volume']['size'] == 5
    assert _usage(client, 'gigabytes') == before + 3
    assert _usage(client, 'gigabytes_gold') == before_gold + 3
    invariants.assert_invariants(client.db, world.PROJECTS)


@pytest.mark.parametrize('volume, new_size, code, words', [
    (OWN, 2, 400, 'greater than current size'),
    (OWN, 1, 400, 'greater than current size'),
    (OWN, 'x', 400, 'new_size'),
    (OWN_ERROR, 5, 400, "'available'"),
    (OWN, 1001, 413, 'gigabytes'),
])
def test_extend_refusals_change_nothing(client, volume, new_size, code,
                                        words):
    before = invariants.state(client.db, world.PROJECTS)
    response = client.post(f'{V3}/volumes/{volume}/action',
                           {'os-extend': {'new_size': new_size}})
    assert response.status_code == code, response.json
    assert words in fault(response)[1]
    assert invariants.state(client.db, world.PROJECTS) == before


def test_extend_over_the_per_volume_limit_is_refused(client,
                                                     conf_override):
    conf_override('per_volume_size_limit', 4)
    before = invariants.state(client.db, world.PROJECTS)
    response = client.post(f'{V3}/volumes/{OWN}/action',
                           {'os-extend': {'new_size': 5}})
    assert response.status_code == 413
    assert invariants.state(client.db, world.PROJECTS) == before


def test_volume_flags_and_admin_actions(client):
    action = f'{V3}/volumes/{OWN}/action'
    conforms(client.post(action, {'os-set_bootable': {'bootable': True}}),
             'volumes', 'set_bootable_volume')
    conforms(client.post(action, {'os-update_readonly_flag': {
        'readonly': True}}), 'volumes', 'update_volume_readonly')
    shown = client.get(f'{V3}/volumes/{OWN}').json['volume']
    assert shown['bootable'] == 'true'
    assert shown['metadata']['readonly'] == 'True'
    conforms(client.post(action, {'os-reserve': None}), 'volumes',
             'reserve_volume')
    assert client.get(f'{V3}/volumes/{OWN}').json['volume'][
        'status'] == 'attaching'
    conforms(client.post(action, {'os-unreserve': None}), 'volumes',
             'unreserve_volume')
    refused = client.post(action, {'os-reset_status': {'status': 'error'}})
    assert refused.status_code == 403
    admin_action = f'/v3/admin/volumes/{OWN}/action'
    conforms(client.post(admin_action, {'os-reset_status': {
        'status': 'error'}}, token=ADMIN), 'volumes', 'reset_volume_status')
    assert client.get(f'{V3}/volumes/{OWN}').json['volume'][
        'status'] == 'error'
    unknown = client.post(action, {'os-nothing': {}})
    assert unknown.status_code == 400
    assert 'os-nothing' in fault(unknown)[1]


def test_retype_within_the_backend_moves_the_per_type_quota(client):
    response = client.post(f'{V3}/volumes/{OWN}/action', {
        'os-retype': {'new_type': '__DEFAULT__'}})
    conforms(response, 'volumes', 'retype_volume')
    shown = client.get(f'{V3}/volumes/{OWN}').json['volume']
    assert shown['volume_type'] == '__DEFAULT__'
    invariants.assert_invariants(client.db, world.PROJECTS)
    again = client.post(f'{V3}/volumes/{OWN}/action', {
        'os-retype': {'new_type': '__DEFAULT__'}})
    assert again.status_code == 400


def test_cascade_delete_deletes_the_snapshots_first(client):
    refused = client.delete(f'{V3}/volumes/{OWN}')
    assert refused.status_code == 400
    response = client.delete(f'{V3}/volumes/{OWN}?cascade=True')
    conforms(response, 'volumes', 'delete_volume')
    assert client.get(f'{V3}/volumes/{OWN}').status_code == 404
    assert client.get(f'{V3}/snapshots/{SNAP}').status_code == 404
    assert _usage(client, 'snapshots') == 0
    invariants.assert_invariants(client.db, world.PROJECTS)


def test_snapshot_actions(client):
    admin = f'/v3/admin/snapshots/{SNAP}/action'
    conforms(client.post(admin, {'os-reset_status': {'status': 'creating'}},
                         token=ADMIN), 'snapshots', 'reset_snapshot_status')
    updated = client.post(f'{V3}/snapshots/{SNAP}/action', {
        'os-update_snapshot_status': {'status': 'error', 'progress': '80%'}})
    conforms(updated, 'snapshots', 'update_snapshot_status')
    shown = client.get(f'{V3}/snapshots/{SNAP}').json['snapshot']
    assert shown['status'] == 'error'
    assert shown['os-extended-snapshot-attributes:progress'] == '80%'
    refused = client.post(f'{V3}/snapshots/{SNAP}/action', {
        'os-update_snapshot_status': {'status': 'available'}})
    assert refused.status_code == 400
    client.post(admin, {'os-reset_status': {'status': 'deleting'}},
                token=ADMIN)
    assert client.delete(f'{V3}/snapshots/{SNAP}').status_code == 400
    conforms(client.post(admin, {'os-force_delete': {}}, token=ADMIN),
             'snapshots', 'force_delete_snapshot')
    assert client.get(f'{V3}/snapshots/{SNAP}').status_code == 404
    invariants.assert_invariants(client.db, world.PROJECTS)


@pytest.mark.parametrize('version, metadata', [('3.12', False),
                                               ('3.36', True)])
def test_volume_summary(client, version, metadata):
    client.put(f'{V3}/volumes/{OWN}/metadata', {'metadata': {'k': 'v'}})
    body = conforms(client.get(V3 + '/volumes/summary',
                               headers=_version(version)),
                    'volumes', 'show_volume_summary')
    summary = body['volume-summary']
    assert (summary['total_count'], summary['total_size']) == (2, 3)
    assert ('metadata' in summary) is metadata
    if metadata:
        assert summary['metadata'] == {'k': ['v']}
    assert client.get(V3 + '/volumes/summary').status_code == 404


def test_volume_image_metadata_actions(client):
    action = f'{V3}/volumes/{OWN}/action'
    metadata = {'image_id': 'i', 'image_name': 'image', 'ramdisk_id': 'r'}
    assert conforms(client.post(action, {'os-set_image_metadata': {
        'metadata': metadata}}), 'volumes',
        'update_volume_image_metadata') == {'metadata': metadata}
    shown = client.get(f'{V3}/volumes/{OWN}').json['volume']
    assert shown['volume_image_metadata'] == metadata
    conforms(client.post(action, {'os-unset_image_metadata': {
        'key': 'ramdisk_id'}}), 'volumes', 'delete_volume_image_metadata')
    assert conforms(client.post(action, {'os-show_image_metadata': {}}),
                    'volumes', 'show_volume_image_metadata') == {
        'metadata': {'image_id': 'i', 'image_name': 'image'}}
    missing = client.post(action, {'os-unset_image_metadata': {
        'key': 'ramdisk_id'}})
    assert missing.status_code == 404


def test_an_action_on_a_volume_that_does_not_exist_is_not_found(client):
    # Even an action volflow does not serve: the volume is looked up first,
    # as Cinder answers os-detach on a missing volume.
    for action in ({'os-detach': {}}, {'os-extend': {'new_size': 2}}):
        response = client.post(f'{V3}/volumes/{uuid.uuid4()}/action', action)
        assert response.status_code == 404, action
    response = client.post(f'{V3}/snapshots/{uuid.uuid4()}/action',
                           {'os-nothing': {}})
    assert response.status_code == 404
