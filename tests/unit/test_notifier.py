"""volflow.notifier: Cinder's notifications through oslo.messaging."""

import datetime

from oslo_messaging.notify import _impl_test
import pytest

from volflow import notifier


@pytest.fixture
def sent(conf, conf_override):
    notifier.reset()
    notifier.register_opts(conf)
    conf_override('driver', ['test'], group='oslo_messaging_notifications')
    _impl_test.reset()
    yield _impl_test.NOTIFICATIONS
    notifier.reset()
    _impl_test.reset()


VOLUME = {
    'id': 'v1', 'project_id': 'p1', 'user_id': 'u1', 'name': 'data',
    'size': 2, 'volume_type_id': 't1', 'availability_zone': 'nova',
    'host': 'node@b1#b1', 'status': 'available', 'snapshot_id': None,
    'source_volid': None, 'image_id': None,
    'created_at': datetime.datetime(2026, 12, 7, 8, 0, 0),
    'metadata': {'k': 'v'},
}


def test_a_notification_goes_out_with_its_publisher_and_event(sent):
    notifier.get_notifier('volume.b1').info(
        {}, 'volume.create.end', notifier.volume_usage(VOLUME))
    [(_ctxt, message, priority, _retry)] = [n[:4] for n in sent]
    assert message['publisher_id'] == 'volume.b1'
    assert message['event_type'] == 'volume.create.end'
    assert priority == 'INFO'
    assert message['payload']['volume_id'] == 'v1'


def test_one_transport_for_every_publisher_until_reset(sent):
    first = notifier.get_notifier('scheduler')
    second = notifier.get_notifier('volume.b1')
    assert first.transport is second.transport
    notifier.reset()
    assert notifier.get_notifier('scheduler').transport is not (
        first.transport)


def test_the_usage_payload_has_cinders_fields():
    payload = notifier.volume_usage(VOLUME, reason='why')
    assert payload == {
        'tenant_id': 'p1', 'user_id': 'u1', 'volume_id': 'v1',
        'display_name': 'data', 'size': 2, 'volume_type': 't1',
        'availability_zone': 'nova', 'host': 'node@b1#b1',
        'status': 'available', 'snapshot_id': None, 'source_volid': None,
        'image_id': None, 'created_at': '2026-12-07 08:00:00',
        'metadata': {'k': 'v'}, 'reason': 'why'}
    assert payload['metadata'] is not VOLUME['metadata']
