"""``/types``: bodies as Tempest's schemas say, Cinder's codes and rules."""

import pytest

from tests.unit.api import conftest
from tests.unit.api import schema
from volflow import context

V3 = '/v3/p1'
ADMIN = 'admin:admin'
AV3 = '/v3/admin'


def _create(client, name='silver', **values):
    body = {'volume_type': dict(values, name=name)}
    response = client.post(AV3 + '/types', body, token=ADMIN)
    return schema.conforms(response, 'volume_types',
                           'create_volume_type')['volume_type']


def test_create_show_list_match_tempest_schemas(client):
    made = _create(client, description='d', extra_specs={'k': 'v'})
    assert 'qos_specs_id' not in made
    assert made['os-volume-type-access:is_public'] is True
    shown = schema.conforms(client.get(f"{AV3}/types/{made['id']}",
                                       token=ADMIN),
                            'volume_types', 'show_volume_type')
    assert shown['volume_type'] == dict(made, qos_specs_id=None)
    listed = schema.conforms(client.get(AV3 + '/types', token=ADMIN),
                             'volume_types', 'list_volume_types')
    assert made['id'] in {t['id'] for t in listed['volume_types']}
    schema.conforms(client.get(V3 + '/types/default'), 'volume_types',
                    'show_volume_type')


def test_private_type_is_not_found_by_other_projects(client):
    private = _create(client, **{'os-volume-type-access:is_public': False})
    assert private['is_public'] is False
    assert client.get(f"{V3}/types/{private['id']}").status_code == 404
    assert private['id'] not in {
        t['id'] for t in client.get(V3 + '/types').json['volume_types']}
    # Creating a volume of it: the type does not exist for p1.
    refused = client.post(V3 + '/volumes', {'volume': {
        'size': 1, 'volume_type': private['id']}})
    assert conftest.fault(refused)[0] == 'itemNotFound'
    assert client.db.volume_get_all(
        context.get_admin_context(),
        {'volume_type_id': private['id']}) == []
    # Given access, p1 sees and uses it.
    added = client.post(f"{AV3}/types/{private['id']}/action",
                        {'addProjectAccess': {'project': 'p1'}}, token=ADMIN)
    schema.conforms(added, 'volume_types', 'add_type_access')
    again = client.post(f"{AV3}/types/{private['id']}/action",
                        {'addProjectAccess': {'project': 'p1'}}, token=ADMIN)
    assert conftest.fault(again)[0] == 'conflict'
    access = schema.conforms(
        client.get(f"{AV3}/types/{private['id']}/os-volume-type-access",
                   token=ADMIN), 'volume_types', 'list_type_access')
    assert access['volume_type_access'] == [
        {'volume_type_id': private['id'], 'project_id': 'p1'}]
    made = client.post(V3 + '/volumes', {'volume': {
        'size': 1, 'volume_type': private['id']}})
    assert made.status_code == 202
    assert made.json['volume']['volume_type'] == private['name']
    removed = client.post(f"{AV3}/types/{private['id']}/action",
                          {'removeProjectAccess': {'project': 'p1'}},
                          token=ADMIN)
    schema.conforms(removed, 'volume_types', 'remove_type_access')
    assert client.get(f"{V3}/types/{private['id']}").status_code == 404


def test_access_of_public_type_and_by_non_admin(client):
    public = _create(client)
    listed = client.get(f"{AV3}/types/{public['id']}/os-volume-type-access",
                        token=ADMIN)
    assert conftest.fault(listed)[0] == 'itemNotFound'
    changed = client.post(f"{AV3}/types/{public['id']}/action",
                          {'addProjectAccess': {'project': 'p1'}},
                          token=ADMIN)
    assert conftest.fault(changed)[0] == 'badRequest'
    denied = client.post(f"{V3}/types/{public['id']}/action",
                         {'addProjectAccess': {'project': 'p1'}})
    assert conftest.fault(denied)[0] == 'forbidden'


def test_update(client):
    made = _create(client)
    _create(client, name='taken')
    response = client.put(f"{AV3}/types/{made['id']}", {'volume_type': {
        'name': 'renamed', 'description': 'new', 'is_public': False}},
        token=ADMIN)
    updated = schema.conforms(response, 'volume_types',
                              'update_volume_types')['volume_type']
    assert (updated['name'], updated['description'],
            updated['is_public']) == ('renamed', 'new', False)
    shown = client.get(f"{AV3}/types/{made['id']}", token=ADMIN).json
    assert shown['volume_type']['name'] == 'renamed'
    taken = client.put(f"{AV3}/types/{made['id']}", {'volume_type': {
        'name': 'taken'}}, token=ADMIN)
    assert conftest.fault(taken)[0] == 'conflict'
    empty = client.put(f"{AV3}/types/{made['id']}", {'volume_type': {}},
                       token=ADMIN)
    assert conftest.fault(empty)[0] == 'badRequest'
    denied = client.put(f"{V3}/types/{made['id']}", {'volume_type': {
        'name': 'x'}})
    assert conftest.fault(denied)[0] == 'forbidden'


def test_delete(client):
    made = _create(client)
    deleted = client.delete(f"{AV3}/types/{made['id']}", token=ADMIN)
    schema.conforms(deleted, 'volume_types', 'delete_volume_type')
    assert client.get(f"{AV3}/types/{made['id']}",
                      token=ADMIN).status_code == 404
    assert client.delete(f"{AV3}/types/{made['id']}",
                         token=ADMIN).status_code == 404
    # gold has a volume; __DEFAULT__ is the default type.
    for name in ('gold', '__DEFAULT__'):
        refused = client.delete(f'{AV3}/types/{name}', token=ADMIN)
        assert conftest.fault(refused)[0] == 'badRequest', name
        assert client.get(f'{AV3}/types/{name}',
                          token=ADMIN).status_code == 200


def test_extra_specs(client):
    made = _create(client, extra_specs={'spec1': 'val1'})
    url = f"{AV3}/types/{made['id']}/extra_specs"
    created = schema.conforms(
        client.post(url, {'extra_specs': {'spec2': 'v2'}}, token=ADMIN),
        'volume_types', 'create_volume_types_extra_specs')
    assert created == {'extra_specs': {'spec2': 'v2'}}
    listed = schema.conforms(client.get(url, token=ADMIN), 'volume_types',
                             'list_volume_types_extra_specs')
    assert listed == {'extra_specs': {'spec1': 'val1', 'spec2': 'v2'}}
    updated = schema.conforms(
        client.put(url + '/spec1', {'spec1': 'new'}, token=ADMIN),
        'volume_types', 'update_volume_type_extra_specs')
    assert updated == {'spec1': 'new'}
    shown = schema.conforms(client.get(url + '/spec1', token=ADMIN),
                            'volume_types', 'show_volume_types_extra_specs')
    assert shown == {'spec1': 'new'}
    schema.conforms(client.delete(url + '/spec1', token=ADMIN),
                    'volume_types', 'delete_volume_types_extra_specs')
    assert client.get(url + '/spec1', token=ADMIN).status_code == 404
    assert client.delete(url + '/spec1', token=ADMIN).status_code == 404


@pytest.mark.parametrize('key, body', [
    ('spec1', {'other': 'v'}),          # the body does not set the key
    ('spec1', {'spec1': 'a', 'x': 'b'}),  # more than one key
    ('spec1', None),                     # no body
    ('spec1', {'spec1': 5}),             # not a string
])
def test_extra_spec_update_refused(client, key, body):
    made = _create(client, extra_specs={'spec1': 'val1'})
    url = f"{AV3}/types/{made['id']}/extra_specs/{key}"
    response = client.request('PUT', url, body, token=ADMIN,
                              raw=b'null' if body is None else None)
    assert conftest.fault(response)[0] == 'badRequest'
    assert client.get(f"{AV3}/types/{made['id']}/extra_specs",
                      token=ADMIN).json == {'extra_specs': {'spec1': 'val1'}}


@pytest.mark.parametrize('body', [{'extra_specs': None},
                                  {'extra_specs': ['invalid']}, {}])
def test_extra_specs_create_refused(client, body):
    made = _create(client)
    response = client.post(f"{AV3}/types/{made['id']}/extra_specs", body,
                           token=ADMIN)
    assert conftest.fault(response)[0] == 'badRequest'


def test_unknown_type_is_404_everywhere(client):
    missing = f'{AV3}/types/00000000-0000-4000-8000-000000000000'
    for method, path, body in [
            ('GET', '', None), ('DELETE', '', None),
            ('PUT', '', {'volume_type': {'name': 'x'}}),
            ('GET', '/extra_specs', None),
            ('POST', '/extra_specs', {'extra_specs': {'a': 'b'}}),
            ('GET', '/extra_specs/a', None),
            ('PUT', '/extra_specs/a', {'a': 'b'}),
            ('DELETE', '/extra_specs/a', None)]:
        response = client.request(method, missing + path, body, token=ADMIN)
        assert conftest.fault(response)[0] == 'itemNotFound', (method, path)


def test_encryption_create_show_update_delete(client):
    made = _create(client)
    url = f"{AV3}/types/{made['id']}/encryption"
    assert schema.conforms(client.get(url, token=ADMIN), 'encryption_types',
                           'show_encryption_type') == {}
    wanted = {'provider': 'LuksEncryptor', 'key_size': 256,
              'cipher': 'aes-xts-plain64', 'control_location': 'front-end'}
    created = schema.conforms(
        client.post(url, {'encryption': wanted}, token=ADMIN),
        'encryption_types', 'create_encryption_type')['encryption']
    assert created == dict(wanted, volume_type_id=made['id'],
                           encryption_id=created['encryption_id'])
    again = client.post(url, {'encryption': wanted}, token=ADMIN)
    assert conftest.fault(again)[0] == 'badRequest'
    shown = schema.conforms(client.get(url, token=ADMIN), 'encryption_types',
                            'show_encryption_type')
    assert {k: shown[k] for k in wanted} == wanted
    changed = {'key_size': 128, 'provider': 'SomeProvider',
               'control_location': 'back-end'}
    updated = schema.conforms(client.put(
        f"{url}/{created['encryption_id']}", {'encryption': changed},
        token=ADMIN), 'encryption_types', 'update_encryption_type')
    assert updated == {'encryption': changed}
    item = schema.conforms(client.get(url + '/provider', token=ADMIN),
                           'encryption_types', 'show_encryption_specs_item')
    assert item == {'provider': 'SomeProvider'}
    schema.conforms(client.delete(f"{url}/{created['encryption_id']}",
                                  token=ADMIN),
                    'encryption_types', 'delete_encryption_type')
    assert client.get(url, token=ADMIN).json == {}
    assert client.get(url + '/provider', token=ADMIN).status_code == 404


def test_encryption_refusals(client):
    missing = client.post(
        f'{AV3}/types/00000000-0000-4000-8000-000000000000/encryption',
        {'encryption': {'provider': 'p'}}, token=ADMIN)
    assert conftest.fault(missing)[0] == 'itemNotFound'
    # gold has a volume: its encryption can't change.
    in_use = client.post(f'{AV3}/types/gold/encryption',
                         {'encryption': {'provider': 'p'}}, token=ADMIN)
    assert conftest.fault(in_use)[0] == 'badRequest'
    made = _create(client)
    for body in ({'encryption': {}}, {'encryption': {
            'provider': 'p', 'control_location': 'middle'}}):
        bad = client.post(f"{AV3}/types/{made['id']}/encryption", body,
                          token=ADMIN)
        assert conftest.fault(bad)[0] == 'badRequest'
    denied = client.get(f"/v3/p1/types/{made['id']}/encryption")
    assert conftest.fault(denied)[0] == 'forbidden'
    assert client.get(f"{AV3}/types/{made['id']}/encryption",
                      token=ADMIN).json == {}
