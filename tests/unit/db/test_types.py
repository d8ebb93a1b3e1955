"""Volume types, their access lists, QoS specs and user messages.

Every database implementation (in-memory, SQLite, PostgreSQL) answers
alike: what a caller sees, and that a refusal changes nothing.
"""

import pytest

from volflow import context
from volflow import exception

CTX_A = context.RequestContext(user_id='ua', project_id='pa')
CTX_B = context.RequestContext(user_id='ub', project_id='pb')
ADMIN = context.get_admin_context()


@pytest.fixture
def private(db):
    return db.volume_type_create(ADMIN, 'private', {'k': 'v'},
                                 is_public=False)


# Volume types ------------------------------------------------------------
def test_private_type_is_hidden_from_projects_without_access(db, private):
    assert private['is_public'] is False
    for ctx in (CTX_A, CTX_B):
        with pytest.raises(exception.VolumeTypeNotFound):
            db.volume_type_get(ctx, private['id'])
        with pytest.raises(exception.VolumeTypeNotFound):
            db.volume_type_get_by_name(ctx, 'private')
        assert db.volume_type_get_all(ctx) == []
    assert db.volume_type_get(ADMIN, private['id']) == private
    assert db.volume_type_get_all(ADMIN) == [private]


def test_type_access_add_list_remove(db, private):
    db.volume_type_access_add(ADMIN, private['id'], 'pa')
    assert db.volume_type_get(CTX_A, private['id']) == private
    assert db.volume_type_get_all(CTX_A) == [private]
    assert db.volume_type_get_all(CTX_B) == []
    with pytest.raises(exception.VolumeTypeAccessExists):
        db.volume_type_access_add(ADMIN, private['id'], 'pa')
    db.volume_type_access_add(ADMIN, private['id'], 'pc')
    assert db.volume_type_access_get_all(ADMIN, private['id']) == [
        {'volume_type_id': private['id'], 'project_id': 'pa'},
        {'volume_type_id': private['id'], 'project_id': 'pc'}]
    db.volume_type_access_remove(ADMIN, private['id'], 'pa')
    with pytest.raises(exception.VolumeTypeNotFound):
        db.volume_type_get(CTX_A, private['id'])
    with pytest.raises(exception.VolumeTypeAccessNotFound):
        db.volume_type_access_remove(ADMIN, private['id'], 'pa')


def test_type_update(db, private):
    db.volume_type_create(ADMIN, 'other')
    updated = db.volume_type_update(ADMIN, private['id'], {
        'name': 'renamed', 'description': 'd', 'is_public': True})
    assert updated == dict(private, name='renamed', description='d',
                           is_public=True)
    assert db.volume_type_get(CTX_B, private['id']) == updated
    with pytest.raises(exception.VolumeTypeExists, match="'other'"):
        db.volume_type_update(ADMIN, private['id'], {'name': 'other'})
    with pytest.raises(exception.InvalidVolumeType, match='extra_specs'):
        db.volume_type_update(ADMIN, private['id'], {'extra_specs': {}})
    assert db.volume_type_get(ADMIN, private['id']) == updated
    with pytest.raises(exception.VolumeTypeNotFound):
        db.volume_type_update(ADMIN, 'nope', {'name': 'x'})


def test_type_extra_specs_set_and_delete(db, private):
    got = db.volume_type_extra_specs_update(ADMIN, private['id'],
                                            {'k': 'v2', 'k2': 'x'})
    assert got['extra_specs'] == {'k': 'v2', 'k2': 'x'}
    db.volume_type_extra_specs_delete(ADMIN, private['id'], 'k')
    assert db.volume_type_get(ADMIN, private['id'])['extra_specs'] == {
        'k2': 'x'}
    with pytest.raises(exception.VolumeTypeExtraSpecsNotFound, match='k'):
        db.volume_type_extra_specs_delete(ADMIN, private['id'], 'k')


def test_type_destroy_refused_while_a_volume_has_it(db, private):
    db.volume_type_access_add(ADMIN, private['id'], 'pa')
    volume = db.volume_create(CTX_A, {'size': 1, 'project_id': 'pa',
                                      'volume_type_id': private['id']})
    with pytest.raises(exception.VolumeTypeInUse, match=private['id']):
        db.volume_type_destroy(ADMIN, private['id'])
    assert db.volume_type_get(ADMIN, private['id']) == private
    db.volume_destroy(CTX_A, volume['id'])
    db.volume_type_destroy(ADMIN, private['id'])
    with pytest.raises(exception.VolumeTypeNotFound):
        db.volume_type_get(ADMIN, private['id'])
    # Its access list went with it: a new type of that name is private.
    again = db.volume_type_create(ADMIN, 'private', is_public=False)
    with pytest.raises(exception.VolumeTypeNotFound):
        db.volume_type_get(CTX_A, again['id'])


# QoS specs ---------------------------------------------------------------
def test_qos_specs_lifecycle(db, private):
    qos = db.qos_specs_create(ADMIN, 'q', 'front-end', {'read_iops_sec': '1'})
    assert qos == {'id': qos['id'], 'name': 'q', 'consumer': 'front-end',
                   'specs': {'read_iops_sec': '1'},
                   'created_at': qos['created_at']}
    with pytest.raises(exception.QoSSpecsExists):
        db.qos_specs_create(ADMIN, 'q', 'back-end', {})
    assert db.qos_specs_get_all(ADMIN) == [qos]
    qos = db.qos_specs_update(ADMIN, qos['id'], {'iops': '5'})
    assert qos['specs'] == {'read_iops_sec': '1', 'iops': '5'}
    with pytest.raises(exception.QoSSpecsKeyNotFound, match='nope'):
        db.qos_specs_delete_keys(ADMIN, qos['id'], ['iops', 'nope'])
    assert db.qos_specs_get(ADMIN, qos['id']) == qos
    db.qos_specs_delete_keys(ADMIN, qos['id'], ['iops'])
    assert db.qos_specs_get(ADMIN, qos['id'])['specs'] == {
        'read_iops_sec': '1'}
    db.volume_type_update(ADMIN, private['id'], {'qos_specs_id': qos['id']})
    with pytest.raises(exception.QoSSpecsInUse, match=private['id']):
        db.qos_specs_destroy(ADMIN, qos['id'])
    db.qos_specs_destroy(ADMIN, qos['id'], force=True)
    assert db.volume_type_get(ADMIN, private['id'])['qos_specs_id'] is None
    with pytest.raises(exception.QoSSpecsNotFound):
        db.qos_specs_get(ADMIN, qos['id'])


# User messages -----------------------------------------------------------
def test_messages_are_scoped_to_their_project(db):
    message = db.message_create(CTX_A, {
        'project_id': 'pa', 'request_id': 'req-1', 'resource_type': 'VOLUME',
        'resource_uuid': 'v1', 'event_id': 'VOLUME_VOLUME_001_003',
        'message_level': 'ERROR', 'action_id': '001', 'detail_id': '003',
        'expires_at': None})
    assert message['created_at'] is not None
    assert db.message_get(CTX_A, message['id']) == message
    assert db.message_get_all(CTX_A) == [message]
    assert db.message_get_all(ADMIN) == [message]
    assert db.message_get_all(CTX_B) == []
    with pytest.raises(exception.MessageNotFound):
        db.message_get(CTX_B, message['id'])
    with pytest.raises(exception.MessageNotFound):
        db.message_destroy(CTX_B, message['id'])
    db.message_destroy(CTX_A, message['id'])
    assert db.message_get_all(ADMIN) == []


def test_private_type_by_name_for_a_project_given_access(db, private):
    db.volume_type_access_add(ADMIN, private['id'], 'pa')
    assert db.volume_type_get_by_name(CTX_A, 'private') == private
    assert db.volume_type_get_by_name(ADMIN, 'private') == private
    with pytest.raises(exception.VolumeTypeNotFound):
        db.volume_type_get_by_name(CTX_B, 'private')
    db.volume_type_destroy(ADMIN, private['id'])
    with pytest.raises(exception.VolumeTypeNotFound):
        db.volume_type_get_by_name(CTX_A, 'private')
