"""``/qos-specs``: Tempest's schemas, Cinder's rules, the create flow."""

import pytest

from tests.unit.api import conftest
from tests.unit.api import schema

ADMIN = 'admin:admin'
AV3 = '/v3/admin'


def _create(client, name='q', **specs):
    response = client.post(AV3 + '/qos-specs',
                           {'qos_specs': dict(specs, name=name)},
                           token=ADMIN)
    return schema.conforms(response, 'qos', 'show_qos')['qos_specs']


def _type(client, name):
    return client.post(AV3 + '/types', {'volume_type': {'name': name}},
                       token=ADMIN).json['volume_type']


def test_create_show_list_delete(client):
    qos = _create(client, consumer='front-end', read_iops_sec='2000')
    assert qos == {'id': qos['id'], 'name': 'q', 'consumer': 'front-end',
                   'specs': {'read_iops_sec': '2000'}}
    assert _create(client, name='other')['consumer'] == 'back-end'
    shown = schema.conforms(client.get(f"{AV3}/qos-specs/{qos['id']}",
                                       token=ADMIN), 'qos', 'show_qos')
    assert shown['qos_specs'] == qos
    listed = schema.conforms(client.get(AV3 + '/qos-specs', token=ADMIN),
                             'qos', 'list_qos')
    assert qos in listed['qos_specs']
    taken = client.post(AV3 + '/qos-specs', {'qos_specs': {'name': 'q'}},
                        token=ADMIN)
    assert conftest.fault(taken)[0] == 'conflict'
    schema.conforms(client.delete(f"{AV3}/qos-specs/{qos['id']}",
                                  token=ADMIN), 'qos', 'delete_qos')
    assert client.get(f"{AV3}/qos-specs/{qos['id']}",
                      token=ADMIN).status_code == 404


@pytest.mark.parametrize('body', [
    {'qos_specs': {'consumer': 'front-end'}},
    {'qos_specs': {'name': 'q', 'consumer': 'sideways'}},
    {'qos_specs': {'name': ' '}},
    {'qos_specs': {'name': 'q', 'iops': 5}},
])
def test_create_refused(client, body):
    response = client.post(AV3 + '/qos-specs', body, token=ADMIN)
    assert conftest.fault(response)[0] == 'badRequest'
    assert client.get(AV3 + '/qos-specs', token=ADMIN).json == {
        'qos_specs': []}


def test_set_and_unset_keys(client):
    qos = _create(client, read_iops_sec='1')
    url = f"{AV3}/qos-specs/{qos['id']}"
    set_ = schema.conforms(client.put(url, {'qos_specs': {
        'iops_bytes': '500'}}, token=ADMIN), 'qos', 'set_qos_key')
    assert set_ == {'qos_specs': {'iops_bytes': '500'}}
    assert client.get(url, token=ADMIN).json['qos_specs']['specs'] == {
        'read_iops_sec': '1', 'iops_bytes': '500'}
    missing = client.put(url + '/delete_keys', {'keys': ['nope']},
                         token=ADMIN)
    assert conftest.fault(missing)[0] == 'badRequest'
    schema.conforms(client.put(url + '/delete_keys', {'keys': [
        'iops_bytes']}, token=ADMIN), 'qos', 'unset_qos_key')
    assert client.get(url, token=ADMIN).json['qos_specs']['specs'] == {
        'read_iops_sec': '1'}


def test_associations(client):
    qos = _create(client)
    other = _create(client, name='other')
    types = [_type(client, f't{i}') for i in range(3)]
    url = f"{AV3}/qos-specs/{qos['id']}"
    for vtype in types:
        schema.conforms(client.get(f"{url}/associate?vol_type_id="
                                   f"{vtype['id']}", token=ADMIN),
                        'qos', 'associate_qos')
    taken = client.get(f"{AV3}/qos-specs/{other['id']}/associate?"
                       f"vol_type_id={types[0]['id']}", token=ADMIN)
    assert conftest.fault(taken)[0] == 'badRequest'
    associations = schema.conforms(client.get(url + '/associations',
                                              token=ADMIN),
                                   'qos', 'show_association_qos')
    assert sorted(a['id'] for a in associations['qos_associations']) == (
        sorted(t['id'] for t in types))
    shown = client.get(f"{AV3}/types/{types[0]['id']}", token=ADMIN).json
    assert shown['volume_type']['qos_specs_id'] == qos['id']
    in_use = client.delete(url, token=ADMIN)
    assert conftest.fault(in_use)[0] == 'badRequest'
    schema.conforms(client.get(f"{url}/disassociate?vol_type_id="
                               f"{types[0]['id']}", token=ADMIN),
                    'qos', 'disassociate_qos')
    assert len(client.get(url + '/associations', token=ADMIN).json[
        'qos_associations']) == 2
    schema.conforms(client.get(url + '/disassociate_all', token=ADMIN),
                    'qos', 'disassociate_all_qos')
    assert client.get(url + '/associations', token=ADMIN).json == {
        'qos_associations': []}
    no_type = client.get(url + '/associate', token=ADMIN)
    assert conftest.fault(no_type)[0] == 'badRequest'


def test_force_delete_disassociates(client):
    qos = _create(client)
    vtype = _type(client, 't')
    client.get(f"{AV3}/qos-specs/{qos['id']}/associate?vol_type_id="
               f"{vtype['id']}", token=ADMIN)
    assert client.delete(f"{AV3}/qos-specs/{qos['id']}?force=True",
                         token=ADMIN).status_code == 202
    shown = client.get(f"{AV3}/types/{vtype['id']}", token=ADMIN).json
    assert shown['volume_type']['qos_specs_id'] is None


def test_admin_only(client):
    for method, path in [('GET', '/qos-specs'), ('POST', '/qos-specs')]:
        response = client.request(method, '/v3/p1' + path,
                                  {'qos_specs': {'name': 'x'}})
        assert conftest.fault(response)[0] == 'forbidden'
