"""``GET /v3/{project_id}/os-services``: Cinder's body, admins only."""

import datetime

from oslo_utils import timeutils
import pytest
from tempest.lib.api_schema.response.volume import services as schemas
from tempest.lib.common import jsonschema_validator

from tests.unit.api import conftest as api_fixtures
from volflow import context as volflow_context

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
    _service(client.db, 'node1', 'volflow-scheduler')
    _service(client.db, 'node1@fast', 'volflow-volume')
    _service(client.db, 'node2@bulk', 'volflow-volume', age=61,
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
        ('volflow-scheduler', 'node1', 'nova', 'enabled', 'up', None),
        ('volflow-volume', 'node1@fast', 'nova', 'enabled', 'up', None),
        ('volflow-volume', 'node2@bulk', 'nova', 'disabled', 'down',
         'maintenance'),
        ('volflow-conductor', 'c1@bulk', 'nova', 'enabled', 'up', None)]
    for service in body['services']:
        assert datetime.datetime.fromisoformat(service['updated_at'])


@pytest.mark.parametrize('query, hosts', [
    ('?binary=volflow-volume', ['node1@fast', 'node2@bulk']),
    ('?host=node1', ['node1']),
    ('?host=node1@fast&binary=volflow-volume', ['node1@fast']),
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
