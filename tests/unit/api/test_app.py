"""The v3 API in process: paths, bodies, status codes, headers, faults."""

import socket

import pytest

from tests import fuzz_world as world
from tests import invariants
from tests.unit.api import conftest as api_fixtures
from volflow.api import microversion

fault = api_fixtures.fault
V3 = '/v3/p1'
OWN = world.VOLUMES['own']
OTHER = world.VOLUMES['other']
ADMIN = 'admin:admin'


def test_root_lists_the_versions_with_the_microversion_range(client):
    response = client.get('/', token=None)
    assert response.status_code == 300
    (v2, version) = response.json['versions']
    assert (version['id'], version['min_version'], version['version'],
            version['status']) == ('v3.0', '3.0', '3.60', 'CURRENT')
    assert (v2['id'], v2['status']) == ('v2.0', 'DEPRECATED')
    assert client.get('/v3/', token=None).json['versions'] == [version]
    assert client.get('/v2/', token=None).json['versions'] == [v2]


def test_healthcheck(client):
    assert client.get('/healthcheck', token=None).status_code == 200


def test_create_is_202_with_cinder_fields_and_headers(client):
    response = client.post(V3 + '/volumes', {'volume': {
        'size': 1, 'name': 'v1', 'description': 'd',
        'metadata': {'tier': 'gold'}}})
    assert response.status_code == 202
    volume = response.json['volume']
    # As the API flow left it; the world's stand-in scheduler is quick.
    assert volume['status'] in ('creating', 'available')
    assert (volume['name'], volume['description'], volume['size'],
            volume['metadata']) == ('v1', 'd', 1, {'tier': 'gold'})
    for field in ('id', 'availability_zone', 'volume_type', 'snapshot_id',
                  'source_volid', 'created_at', 'updated_at', 'user_id',
                  'bootable', 'encrypted', 'multiattach', 'attachments'):
        assert field in volume, field
    assert 'os-vol-host-attr:host' not in volume
    assert volume['links'][0]['href'].endswith(
        f"/v3/p1/volumes/{volume['id']}")
    assert response.headers['OpenStack-API-Version'] == 'volume 3.0'
    assert response.headers['x-openstack-request-id'].startswith('req-')
    shown = client.get(f"{V3}/volumes/{volume['id']}").json['volume']
    assert shown['status'] == 'available'
    invariants.assert_invariants(client.db, world.PROJECTS)


def test_create_from_a_snapshot_inherits_its_size(client):
    response = client.post(V3 + '/volumes', {'volume': {
        'snapshot_id': world.SNAPSHOTS['own']}})
    assert response.status_code == 202, response.json
    assert response.json['volume']['size'] == 2
    assert response.json['volume']['snapshot_id'] == world.SNAPSHOTS['own']


def test_another_projects_volume_is_not_found(client):
    response = client.get(f'{V3}/volumes/{OTHER}')
    assert response.status_code == 404
    assert fault(response) == ('itemNotFound',
                               f'Volume {OTHER} could not be found.')
    assert client.delete(f'{V3}/volumes/{OTHER}').status_code == 404


def test_a_url_project_not_the_callers_is_forbidden(client):
    response = client.get('/v3/p2/volumes', token='u1:p1')
    assert response.status_code == 403
    kind, message = fault(response)
    assert kind == 'forbidden' and "'p2'" in message and "'p1'" in message


def test_an_admin_sees_any_volume_and_its_host(client):
    response = client.get(f'/v3/admin/volumes/{OTHER}', token=ADMIN)
    assert response.status_code == 200
    assert response.json['volume']['os-vol-host-attr:host'] == (
        f'{socket.gethostname()}@local#local')
    assert client.get(f'/v3/p1/volumes/{OTHER}', token='u1:p1',
                      headers={'X-Roles': 'admin'}).status_code == 200


def test_list_and_detail_are_the_projects_own(client):
    listed = client.get(V3 + '/volumes').json['volumes']
    assert sorted(v['id'] for v in listed) == sorted(
        [OWN, world.VOLUMES['own_error']])
    assert set(listed[0]) == {'id', 'name', 'links'}
    detail = client.get(V3 + '/volumes/detail').json['volumes']
    assert {v['os-vol-tenant-attr:tenant_id'] for v in detail} == {'p1'}
    everyone = client.get('/v3/admin/volumes?all_tenants=1',
                          token=ADMIN).json['volumes']
    assert OTHER in {v['id'] for v in everyone}


def test_list_filters_sorts_and_pages(client):
    for name in ('b', 'a', 'c'):
        client.post(V3 + '/volumes', {'volume': {'size': 1, 'name': name}})
    query = 'sort=name:desc&limit=2&status=available'
    page = client.get(f'{V3}/volumes?{query}')
    assert [v['name'] for v in page.json['volumes']] == ['c', 'b']
    (link,) = page.json['volumes_links']
    assert link['rel'] == 'next' and 'marker=' in link['href']
    marker = page.json['volumes'][-1]['id']
    rest = client.get(f'{V3}/volumes?{query}&marker={marker}').json
    # The world's own volume has no name: last in descending order.
    assert [v['name'] for v in rest['volumes']] == ['a', None]
    only = client.get(V3 + '/volumes/detail?name=b').json['volumes']
    assert [v['name'] for v in only] == ['b']


@pytest.mark.parametrize('query, named', [
    ('limit=-1', "'-1'"), ('limit=x', "'x'"), ('sort=nope', "'nope'"),
    ('sort=name:sideways', "'sideways'")])
def test_bad_list_parameters_are_refused(client, query, named):
    response = client.get(f'{V3}/volumes?{query}')
    assert response.status_code == 400
    kind, message = fault(response)
    assert kind == 'badRequest' and named in message


def test_delete_is_202_and_gives_the_quota_back(client):
    created = client.post(V3 + '/volumes', {'volume': {'size': 3}}).json
    volume_id = created['volume']['id']
    assert client.delete(f'{V3}/volumes/{volume_id}').status_code == 202
    assert client.get(f'{V3}/volumes/{volume_id}').status_code == 404
    invariants.assert_invariants(client.db, world.PROJECTS)


def test_delete_of_a_volume_with_snapshots_is_refused(client):
    before = invariants.state(client.db, world.PROJECTS)
    response = client.delete(f'{V3}/volumes/{OWN}')
    assert response.status_code == 400
    assert 'snapshots' in fault(response)[1]
    assert invariants.state(client.db, world.PROJECTS) == before


def test_force_delete_is_for_admins(client):
    response = client.delete(f"{V3}/volumes/{world.VOLUMES['own_error']}"
                             f"?force=true")
    assert response.status_code == 403
    assert fault(response)[0] == 'forbidden'


@pytest.mark.parametrize('raw, named', [
    (b'{"volume": ', 'not valid JSON'),
    (b'[1, 2]', 'JSON object'),
    (b'', 'empty'),
    (b'{"volume": {"size": NaN}}', 'not valid JSON'),
    (b'\xff\xfe', 'not valid JSON'),
    (b'[' * 50000 + b']' * 50000, 'not valid JSON'),
    (b'{"volume": {"size": 1}, "extra": 1}', "'extra'"),
    (b'{"volume": {"size": 1, "metadata": {"k": 1}}}', 'metadata/k'),
    (b'{"volume": {"size": 1, "metadata": ["k"]}}', 'metadata'),
    (b'{"volume": {"size": 1.5}}', 'size'),
    (b'{"volume": {"size": 1, "name": 7}}', 'name'),
    (b'{"volume": "big"}', 'volume'),
    (b'{"volumes": {"size": 1}}', "'volume' is a required property"),
])
def test_bad_bodies_are_refused_and_change_nothing(client, raw, named):
    before = invariants.state(client.db, world.PROJECTS)
    response = client.post(V3 + '/volumes', raw=raw)
    assert response.status_code == 400, response.body
    kind, message = fault(response)
    assert kind == 'badRequest' and named in message, message
    assert invariants.state(client.db, world.PROJECTS) == before


def test_a_body_over_the_limit_is_413(client, conf):
    before = invariants.state(client.db, world.PROJECTS)
    size = conf.api.max_request_body_size
    body = b'{"volume": {"size": 1, "name": "' + b'x' * size + b'"}}'
    response = client.post(V3 + '/volumes', raw=body)
    assert response.status_code == 413
    kind, message = fault(response)
    assert kind == 'overLimit' and str(size) in message
    assert invariants.state(client.db, world.PROJECTS) == before


def test_over_quota_is_413_over_limit(client):
    client.put('/v3/admin/os-quota-sets/p1', {'quota_set': {'volumes': 2}},
               token=ADMIN)
    before = invariants.state(client.db, world.PROJECTS)
    response = client.post(V3 + '/volumes', {'volume': {'size': 1}})
    assert response.status_code == 413
    assert fault(response)[0] == 'overLimit'
    assert invariants.state(client.db, world.PROJECTS) == before


@pytest.mark.parametrize('header, status', [
    ('volume 3.0', 200), ('volume 3.60', 200), ('volume latest', 200),
    ('volume 3.61', 406), ('volume 2.0', 406), ('volume 4.0', 406),
    ('volume three', 400), ('compute 2.90', 200)])
def test_microversions(client, header, status):
    response = client.get(f'{V3}/volumes/{OWN}',
                          headers={'OpenStack-API-Version': header})
    assert response.status_code == status
    if status == 406:
        assert fault(response)[0] == 'notAcceptable'
        assert '3.0' in fault(response)[1] and '3.60' in fault(response)[1]
    if status == 200:
        served = microversion.text(microversion.from_headers(
            {'OpenStack-API-Version': header}))
        assert response.headers['OpenStack-API-Version'] == (
            f'volume {served}')


def test_fields_follow_the_microversion(client):
    old = client.get(f'{V3}/volumes/{OWN}').json['volume']
    new = client.get(f'{V3}/volumes/{OWN}', headers={
        'OpenStack-API-Version': 'volume 3.48'}).json['volume']
    assert 'group_id' not in old and 'shared_targets' not in old
    assert 'group_id' in new and 'shared_targets' in new


def test_unknown_paths_and_methods(client):
    assert fault(client.get(V3 + '/nothing')) == (
        'itemNotFound', 'The resource could not be found.')
    assert fault(client.put(V3 + '/volumes', {}))[0] == 'badMethod'


def test_snapshots(client):
    created = client.post(V3 + '/volumes', {'volume': {'size': 1}}).json
    volume_id = created['volume']['id']
    response = client.post(V3 + '/snapshots', {'snapshot': {
        'volume_id': volume_id, 'name': 's1'}})
    assert response.status_code == 202
    snapshot = response.json['snapshot']
    assert (snapshot['volume_id'], snapshot['name'], snapshot['size']) == (
        volume_id, 's1', 1)
    shown = client.get(f"{V3}/snapshots/{snapshot['id']}").json['snapshot']
    assert shown['id'] == snapshot['id']
    listed = client.get(V3 + '/snapshots/detail').json['snapshots']
    assert snapshot['id'] in {s['id'] for s in listed}
    other = client.get(f"{V3}/snapshots/{world.SNAPSHOTS['other']}")
    assert other.status_code == 404
    refused = client.post(V3 + '/snapshots', {'snapshot': {
        'volume_id': world.VOLUMES['own_error']}})
    assert refused.status_code == 400
    invariants.assert_invariants(client.db, world.PROJECTS)


def test_types(client):
    listed = client.get(V3 + '/types').json['volume_types']
    gold = next(t for t in listed if t['name'] == 'gold')
    assert client.get(f"{V3}/types/{gold['id']}").json['volume_type'][
        'name'] == 'gold'
    bounded = client.get('/v3/admin/types/bounded/extra_specs',
                         token=ADMIN).json
    assert bounded['extra_specs']['provisioning:max_vol_size'] == '5'
    # A project sees the user-visible extra specs only, as in Cinder.
    assert client.get(V3 + '/types/bounded/extra_specs').json == {
        'extra_specs': {}}
    assert client.get(V3 + '/types/default').json['volume_type'][
        'name'] == '__DEFAULT__'
    body = {'volume_type': {'name': 'silver',
                            'extra_specs': {'volume_backend_name': 'x'}}}
    assert fault(client.post(V3 + '/types', body))[0] == 'forbidden'
    made = client.post('/v3/admin/types', body, token=ADMIN)
    assert made.status_code == 200
    assert made.json['volume_type']['extra_specs'] == {
        'volume_backend_name': 'x'}
    again = client.post('/v3/admin/types', body, token=ADMIN)
    assert fault(again)[0] == 'conflict'
    assert client.get(V3 + '/types/nope').status_code == 404


def test_quotas(client):
    shown = client.get(V3 + '/os-quota-sets/p1').json['quota_set']
    assert (shown['id'], shown['volumes'], shown['gigabytes']) == (
        'p1', 10, 1000)
    usage = client.get(V3 + '/os-quota-sets/p1?usage=True').json[
        'quota_set']
    assert usage['volumes'] == {'limit': 10, 'in_use': 2, 'reserved': 0,
                                'allocated': 0}
    assert fault(client.get(V3 + '/os-quota-sets/p2'))[0] == 'forbidden'
    assert fault(client.put(V3 + '/os-quota-sets/p1', {
        'quota_set': {'volumes': 20}}))[0] == 'forbidden'
    updated = client.put('/v3/admin/os-quota-sets/p1', {
        'quota_set': {'volumes': 20, 'gigabytes_gold': '7'}}, token=ADMIN)
    assert updated.status_code == 200
    assert updated.json['quota_set']['volumes'] == 20
    assert updated.json['quota_set']['gigabytes_gold'] == 7
    defaults = client.get(V3 + '/os-quota-sets/p1/defaults').json
    assert defaults['quota_set']['volumes'] == 10


@pytest.mark.parametrize('quota_set, named', [
    ({'volumes': -2}, '-2'), ({'volumes': 'x'}, 'volumes'),
    ({'bogus': 1}, 'bogus'), ({'volumes_nosuchtype': 1}, 'nosuchtype'),
    ({'volumes': 1, 'gigabytes': 2 ** 40}, str(2 ** 40))])
def test_bad_quota_updates_change_nothing(client, quota_set, named):
    before = client.db.quota_get_all(world.OWN_ADMIN, 'p1')
    response = client.put('/v3/admin/os-quota-sets/p1',
                          {'quota_set': quota_set}, token=ADMIN)
    assert response.status_code == 400
    assert named in fault(response)[1]
    assert client.db.quota_get_all(world.OWN_ADMIN, 'p1') == before


def test_zones_and_pools(client):
    zones = client.get(V3 + '/os-availability-zone').json
    assert zones['availabilityZoneInfo'] == [
        {'zoneName': 'nova', 'zoneState': {'available': True}}]
    assert fault(client.get(V3 + '/scheduler-stats/get_pools'))[0] == (
        'forbidden')
    pools = client.get('/v3/admin/scheduler-stats/get_pools?detail=True',
                       token=ADMIN).json['pools']
    assert pools[0]['capabilities']['volume_backend_name'] == 'local'


def test_project_lookup_for_clients(client):
    assert client.get(V3 + '/projects/p1').json['project']['id'] == 'p1'
    assert client.get(V3 + '/projects/p2').status_code == 404


def test_no_traceback_nor_error_log_for_a_clients_mistake(client, caplog):
    caplog.set_level('DEBUG')
    client.post(V3 + '/volumes', raw=b'{')
    client.post(V3 + '/volumes', {'volume': {'size': 0}})
    client.get(V3 + '/volumes/nope')
    assert not [r for r in caplog.records if r.levelname in ('ERROR',
                                                             'CRITICAL')]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize('path', ['/v3/p1/volumes/%ED%B3%BF',
                                  '/v3/p1/volumes?name=%FF'])
def test_a_url_that_is_not_utf8_is_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert fault(response) == ('badRequest',
                               'The request URL is not valid UTF-8.')
