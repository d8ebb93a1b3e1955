"""``/messages`` (3.3): Tempest's schemas, scoping, the microversion."""

from tests.unit.api import conftest
from tests.unit.api import schema
from volflow import context
from volflow import message as volflow_message

V3 = '/v3/p1'
MV = {'OpenStack-API-Version': 'volume 3.3'}
VOLUME = '6f0e2f1c-46f3-4b4e-9f87-0d7f7b1b0a11'


def _record(client, project='p1'):
    ctx = context.RequestContext(user_id='u1', project_id=project)
    return volflow_message.record(
        client.db, ctx, volflow_message.SCHEDULE_ALLOCATE_VOLUME,
        volflow_message.NO_BACKEND_AVAILABLE, VOLUME)


def test_list_show_delete(client):
    mine = _record(client)
    theirs = _record(client, 'p2')
    listed = schema.conforms(client.get(V3 + '/messages', headers=MV),
                             'messages', 'list_messages')
    assert [m['id'] for m in listed['messages']] == [mine['id']]
    shown = schema.conforms(client.get(f"{V3}/messages/{mine['id']}",
                                       headers=MV),
                            'messages', 'show_message')['message']
    assert shown['event_id'] == 'VOLUME_VOLUME_001_003'
    assert shown['user_message'] == (
        'schedule allocate volume:Could not find any available weighted '
        'backend.')
    assert (shown['resource_type'], shown['resource_uuid']) == (
        'VOLUME', VOLUME)
    assert client.get(f"{V3}/messages/{theirs['id']}",
                      headers=MV).status_code == 404
    admin = client.get('/v3/admin/messages', headers=MV, token='admin:admin')
    assert len(admin.json['messages']) == 2
    schema.conforms(client.delete(f"{V3}/messages/{mine['id']}",
                                  headers=MV), 'messages', 'delete_message')
    missing = client.get(f"{V3}/messages/{mine['id']}", headers=MV)
    assert conftest.fault(missing)[0] == 'itemNotFound'


def test_not_before_3_3(client):
    made = _record(client)
    for path in ('/messages', f"/messages/{made['id']}"):
        response = client.get(V3 + path,
                              headers={'OpenStack-API-Version': 'volume 3.2'})
        assert conftest.fault(response)[0] == 'itemNotFound'
    assert client.db.message_get_all(context.get_admin_context())
