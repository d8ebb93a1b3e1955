"""volflow.rpc.messaging and volflow.service without a broker.

What crosses the wire and what a log line may show (what a volume
service does at start is tests/unit/test_recovery.py). The services on
a real broker are tests/functional/test_services.py.
"""

import datetime
import json
import logging
import os

from oslo_config import cfg
import oslo_messaging
import pytest

from volflow import conf as volflow_conf
from volflow.conf import backend as backend_conf
from volflow.conf import core
from volflow import context as volflow_context
from volflow import exception
from volflow import notifier
from volflow import redaction
from volflow.rpc import messaging
from volflow import transport
from volflow.volume import backends

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


@pytest.mark.parametrize('text, masked', [
    ('rabbit://guest:guest@127.0.0.1:5672/',
     'rabbit://guest:***@127.0.0.1:5672/'),
    # Multi-host URLs are masked up to their last credentials: the first
    # hosts go with them, which errs on the safe side.
    ('rabbit://u:p%40ss@h1:5672,u2:pw2@h2:5673/vhost',
     'rabbit://u:***@h2:5673/vhost'),
    ('rabbit://h1:5672,u:secret@h2/', 'rabbit://h1:***@h2/'),
    ('connecting to rabbit://user@host/ now',
     'connecting to rabbit://user@host/ now'),
    ('postgresql+psycopg2://volflow:s3cret@db/volflow',
     'postgresql+psycopg2://volflow:***@db/volflow'),
])
def test_mask_url(text, masked):
    assert redaction.mask_secrets(text) == masked


def test_log_lines_are_masked_whoever_writes_them():
    record = logging.LogRecord(
        'kombu', logging.INFO, __file__, 1, 'url %s, %s',
        ('rabbit://a:b@h/', "password='x'"), None)
    assert redaction.MaskingFilter().filter(record)
    assert record.getMessage() == "url rabbit://a:***@h/, password='***'"


def test_context_and_volume_travel_as_json():
    serializer = messaging.RequestContextSerializer()
    ctx = volflow_context.RequestContext(user_id='u1', project_id='p1')
    wire = json.loads(json.dumps(serializer.serialize_context(ctx)))
    back = serializer.deserialize_context(wire)
    assert isinstance(back, volflow_context.RequestContext)
    assert (back.user_id, back.project_id, back.is_admin,
            back.request_id) == ('u1', 'p1', False, ctx.request_id)
    volume = {'id': 'v1', 'size': 1, 'metadata': {'k': 'v'},
              'created_at': datetime.datetime(2026, 1, 2, 3, 4, 5, 6)}
    entity = serializer.serialize_entity(ctx, volume)
    assert json.loads(json.dumps(entity)) == dict(
        volume, created_at='2026-01-02T03:04:05.000006')


def test_the_services_sample_configures_broker_database_and_backends():
    conf = cfg.ConfigOpts()
    for module in (core, backend_conf):
        module.register_opts(conf)
    notifier.register_opts(conf)
    conf(args=[], default_config_files=[os.path.join(
        ROOT, 'etc', 'volflow', 'volflow-services.conf.sample')])
    assert transport.transport_url(conf).startswith('rabbit://')
    assert conf.database.connection.startswith('postgresql+psycopg2://')
    assert conf.oslo_messaging_notifications.driver == ['messagingv2']
    assert [(b['name'], b['volume_driver'], b['volumes_dir'])
            for b in backends.get_backends(conf)] == [
        ('fast', 'file', '/srv/volflow/fast'),
        ('bulk', 'file', '/srv/volflow/bulk')]


class _Cctxt:
    """A prepared rpc client whose send raises ``error``."""

    def __init__(self, error, server='b1'):
        self.target = oslo_messaging.Target(topic='volflow-volume',
                                            server=server)
        self.error = error

    def cast(self, ctxt, method, **kwargs):
        raise self.error

    call = cast


@pytest.fixture
def transport_url():
    conf = volflow_conf.load()
    transport.transport_url(conf)  # registers the option
    # A client registers oslo.messaging's rpc_response_timeout.
    fake = oslo_messaging.get_rpc_transport(conf, url='fake://')
    messaging.SchedulerAPI(fake)
    conf.set_override('transport_url', 'rabbit://u:secret@h:5672/')
    yield
    conf.clear_override('transport_url')
    fake.cleanup()


@pytest.mark.parametrize('what, error, reason', [
    ('cast', oslo_messaging.MessageUndeliverable(None, 'x', 'k', 'm'),
     'no service ever listened on topic volflow-volume server b1: is it '
     'running?'),
    ('call', oslo_messaging.MessagingTimeout(),
     'no answer to delete_volume from topic volflow-volume server b1 '
     'within rpc_response_timeout (60s): the service is down, or still '
     'at work'),
    ('cast', ConnectionRefusedError(111, 'Connection refused'),
     'could not send delete_volume to topic volflow-volume server b1 '
     'through rabbit://u:***@h:5672/: [Errno 111] Connection refused'),
    ('call', oslo_messaging.MessageDeliveryFailure('broker gone'),
     'could not send delete_volume to topic volflow-volume server b1 '
     'through rabbit://u:***@h:5672/: broker gone'),
])
def test_delivery_failures_name_the_service(transport_url, what, error,
                                            reason):
    with pytest.raises(exception.ServiceUnavailable) as raised:
        messaging._send(_Cctxt(error), 'delete_volume', what, None)
    assert str(raised.value) == f'Service unavailable: {reason}'


@pytest.mark.parametrize('error', [
    exception.VolumeNotFound(volume_id='v1'),
    oslo_messaging.RemoteError('OSError', 'disk full'),
    PermissionError('remote builtin'),
])
def test_a_calls_remote_errors_are_raised_as_they_came(error):
    with pytest.raises(type(error)):
        messaging._send(_Cctxt(error), 'delete_volume', 'call', None)


def test_a_cleared_transport_url_override_is_unset_again():
    """oslo.config keeps reporting a cleared override as set_override.

    A process whose override was cleared again must go back to the
    in-process rpc, not to oslo.messaging's ``rabbit://`` default (issue
    10: one test's fixture switched every later test to RabbitMQ).
    """
    conf = cfg.ConfigOpts()
    conf([], project='volflow-test', default_config_files=[])
    assert transport.transport_url(conf) is None
    conf.set_override('transport_url', 'rabbit://u:secret@h:5672/')
    assert transport.transport_url(conf) == 'rabbit://u:secret@h:5672/'
    conf.clear_override('transport_url')
    assert transport.transport_url(conf) is None
