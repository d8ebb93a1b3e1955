"""volflow.message: why an accepted request failed, in Cinder's terms."""

import datetime

from oslo_utils import timeutils

from volflow import context
from volflow.db import fake
from volflow import message

CTX = context.RequestContext(user_id='u1', project_id='p1')


def test_a_message_names_the_resource_action_and_detail():
    db_api = fake.FakeAPI()
    before = timeutils.utcnow()
    recorded = message.record(db_api, CTX,
                              message.SCHEDULE_ALLOCATE_VOLUME,
                              message.NO_BACKEND_AVAILABLE, 'v1', ttl=60)
    assert recorded['event_id'] == 'VOLUME_VOLUME_001_003'
    assert (recorded['project_id'], recorded['resource_uuid'],
            recorded['message_level']) == ('p1', 'v1', 'ERROR')
    assert recorded['request_id'] == CTX.request_id
    assert recorded['expires_at'] >= before + datetime.timedelta(seconds=60)
    assert message.user_message(recorded) == (
        'schedule allocate volume:Could not find any available weighted '
        'backend.')


def test_a_message_that_cannot_be_recorded_is_logged_not_raised(caplog):
    class Broken:
        def message_create(self, context, values):
            raise RuntimeError('database gone')

    assert message.record(Broken(), CTX, message.CREATE_VOLUME_FROM_BACKEND,
                          message.DRIVER_FAILED_CREATE, 'v1') is None
    assert 'VOLUME_VOLUME_008_012' in caplog.text


def test_unknown_ids_read_as_unknown():
    assert message.user_message({'action_id': '999', 'detail_id': '999'}) == (
        'unknown action:An unknown error occurred.')
