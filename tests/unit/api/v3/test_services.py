"""``/v3/{project_id}/os-services``: Cinder's bodies, admins only."""

import datetime

from oslo_utils import timeutils
import pytest
from tempest.lib.api_schema.response.volume import services as schemas
from tempest.lib.common import jsonschema_validator

from tests.unit.api import conftest as api_fixtures
from tests.unit.api import schema
from volflow import context as volflow_context
from volflow.scheduler import servicegroup

fault = api_fixtures.fault
ADMIN = 'admin:admin'
PATH = '/v3/admin/os-services'


def _validate(body):
    """Tempest's schema, with Tempest's format checker (dates)."""
    jsonschema_validator.JSONSCHEMA_VALIDATOR(
        schemas.list_services['response_body'],
        format_checker=jsonschema_validator.FORMAT_CHECKER).validate(body)


def _service(db, host, binary, age=0, **values):
    when = timeutils.utcnow() - datetime.timedelta(seconds=age)
    return db.service_create(volflow_context.get_admin_context(), dict(
        {'host': host, 'binary': binary, 'topic': binary,
         'availability_zone': 'nova', 'created_at': when,
         'updated_at': when}, **values))


@pytest.fixture
def services(client):
    _service(client.db, 'node1', 'cinder-scheduler')
    _service(client.db, 'node1@fast', 'cinder-volume')
    _service(client.db, 'node2@bulk', 'cinder-volume', age=61,
             disabled=True, disabled_reason='maintenance')
    _service(client.db, 'c1@bulk', 'volflow-conductor', age=30)
    return client


def test_admins_list_the_services_as_cinder_does(services):
    response = services.get(PATH, token=ADMIN)
    assert response.status_code == 200
    body = response.json
    _validate(body)
    assert [(s['binary'], s['host'], s['zone'], s['status'], s['state'],
             s['disabled_reason']) for s in body['services']] == [
        ('cinder-scheduler', 'node1', 'nova', 'enabled', 'up', None),
        ('cinder-volume', 'node1@fast', 'nova', 'enabled', 'up', None),
        ('cinder-volume', 'node2@bulk', 'nova', 'disabled', 'down',
         'maintenance'),
        ('volflow-conductor', 'c1@bulk', 'nova', 'enabled', 'up', None)]
    for service in body['services']:
        assert datetime.datetime.fromisoformat(service['updated_at'])


@pytest.mark.parametrize('query, hosts', [
    ('?binary=cinder-volume', ['node1@fast', 'node2@bulk']),
    ('?host=node1', ['node1', 'node1@fast']),
    ('?host=node1&binary=cinder-volume', ['node1@fast']),
    ('?host=node1@fast', ['node1@fast']),
    ('?host=node1@fast%23fast', []),
    ('?host=node', []),
    ('?host=node1@fas', []),
    ('?host=node1@fast&binary=cinder-volume', ['node1@fast']),
    ('?binary=cinder-backup', []),
])
def test_cinder_s_filters_binary_and_host(services, query, hosts):
    response = services.get(PATH + query, token=ADMIN)
    assert response.status_code == 200
    _validate(response.json)
    assert [s['host'] for s in response.json['services']] == hosts


def test_none_yet_is_an_empty_list(client):
    body = client.get(PATH, token=ADMIN).json
    _validate(body)
    assert body == {'services': []}


def test_non_admins_are_refused(services):
    response = services.get('/v3/p1/os-services')
    assert response.status_code == 403
    assert fault(response) == (
        'forbidden',
        "Policy doesn't allow volume_extension:services:index to be "
        "performed.")


def _stored(client, host, binary):
    return client.db.service_get_by_host_and_binary(
        volflow_context.get_admin_context(), host, binary)


def test_disable_with_a_reason_then_enable(services):
    response = services.put(PATH + '/disable-log-reason', {
        'host': 'node1@fast', 'binary': 'cinder-volume',
        'disabled_reason': 'new disks'}, token=ADMIN)
    assert schema.conforms(response, 'services', 'disable_log_reason') == {
        'host': 'node1@fast', 'service': 'cinder-volume',
        'binary': 'cinder-volume', 'disabled': True, 'status': 'disabled',
        'disabled_reason': 'new disks'}
    stored = _stored(services, 'node1@fast', 'cinder-volume')
    assert (stored['disabled'], stored['disabled_reason']) == (
        True, 'new disks')
    listed = services.get(PATH + '?host=node1@fast', token=ADMIN).json
    assert [(s['status'], s['disabled_reason'])
            for s in listed['services']] == [('disabled', 'new disks')]

    response = services.put(PATH + '/enable', {
        'host': 'node1@fast', 'binary': 'cinder-volume'}, token=ADMIN)
    assert schema.conforms(response, 'services', 'enable_service') == {
        'host': 'node1@fast', 'service': 'cinder-volume',
        'binary': 'cinder-volume', 'disabled': False, 'status': 'enabled',
        'disabled_reason': None}
    stored = _stored(services, 'node1@fast', 'cinder-volume')
    assert (stored['disabled'], stored['disabled_reason']) == (False, None)


def test_disable_keeps_the_record_and_the_scheduler_sees_it(services, conf):
    response = services.put(PATH + '/disable', {
        'host': 'node1@fast', 'binary': 'cinder-volume'}, token=ADMIN)
    assert schema.conforms(response, 'services', 'disable_service') == {
        'host': 'node1@fast', 'service': 'cinder-volume',
        'binary': 'cinder-volume', 'disabled': True, 'status': 'disabled'}
    assert servicegroup.backends_down(
        services.db, volflow_context.get_admin_context(), conf,
        ['fast']) == {'fast': "the volume service of backend 'fast' is "
                              "disabled (no reason given)"}


@pytest.mark.parametrize('action, body', [
    ('enable', {'host': 'invalid_host', 'binary': 'cinder-volume'}),
    ('disable', {'host': 'node1@fast', 'binary': 'invalid_binary'}),
    ('disable-log-reason', {'host': 'node1', 'binary': 'cinder-volume',
                            'disabled_reason': 'x'}),
    ('frobnicate', {'host': 'node1', 'binary': 'cinder-scheduler'}),
])
def test_an_unknown_service_or_action_is_not_found(services, action, body):
    response = services.put(f'{PATH}/{action}', body, token=ADMIN)
    assert response.status_code == 404
    assert fault(response)[0] == 'itemNotFound'
    assert not _stored(services, 'node1', 'cinder-scheduler')['disabled']


@pytest.mark.parametrize('action, body', [
    ('disable-log-reason', {'host': 'node1', 'binary': 'cinder-scheduler',
                            'disabled_reason': None}),
    ('disable-log-reason', {'host': 'node1', 'binary': 'cinder-scheduler'}),
    ('disable-log-reason', {'host': 'node1', 'binary': 'cinder-scheduler',
                            'disabled_reason': ''}),
    ('disable', {'host': 'node1'}),
    ('disable', {'binary': 'cinder-scheduler'}),
    ('freeze', {'host': 'invalid_host'}),
    ('thaw', {'host': 'invalid_host'}),
    ('freeze', {'host': 'node1@fas'}),
    ('thaw', {}),
])
def test_bad_bodies_and_hosts_are_refused(services, action, body):
    response = services.put(f'{PATH}/{action}', body, token=ADMIN)
    assert response.status_code == 400
    assert fault(response)[0] == 'badRequest'
    assert not _stored(services, 'node1', 'cinder-scheduler')['disabled']


@pytest.mark.parametrize('action', ['freeze', 'thaw'])
@pytest.mark.parametrize('host', ['node1', 'node1@fast', 'node2@bulk'])
def test_freeze_and_thaw_a_volume_host(services, action, host):
    response = services.put(f'{PATH}/{action}', {'host': host},
                            token=ADMIN)
    schema.conforms(response, 'services', f'{action}_host')


def test_non_admins_may_not_disable(services):
    response = services.put('/v3/p1/os-services/disable', {
        'host': 'node1@fast', 'binary': 'cinder-volume'})
    assert response.status_code == 403
    assert not _stored(services, 'node1@fast', 'cinder-volume')['disabled']
