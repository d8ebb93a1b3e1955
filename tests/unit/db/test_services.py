"""The ``services`` records of every database implementation.

In memory, on a SQLite file and on PostgreSQL: what a service reports and
what ``service-list``, ``os-services`` and the scheduler read back.
"""

import datetime
from unittest import mock

from oslo_utils import timeutils
import pytest

from volflow import context
from volflow.db import api
from volflow import exception

ADMIN = context.get_admin_context()
NOW = datetime.datetime(2030, 1, 2, 3, 4, 5, 678901)


@pytest.fixture
def clock():
    with mock.patch.object(timeutils, 'utcnow', return_value=NOW):
        yield


def _volume_service(db, host='node1@fast', **values):
    return db.service_create(ADMIN, dict(
        {'host': host, 'binary': 'volflow-volume',
         'topic': 'volflow-volume', 'availability_zone': 'nova'}, **values))


def test_service_create_defaults(db, clock):
    service = _volume_service(db)
    assert set(service) == set(api.SERVICE_FIELDS)
    assert isinstance(service['id'], int)
    assert service == dict(
        id=service['id'], host='node1@fast', binary='volflow-volume',
        topic='volflow-volume', availability_zone='nova', report_count=0,
        disabled=False, disabled_reason=None, created_at=NOW,
        updated_at=NOW)
    assert db.service_get_by_host_and_binary(
        ADMIN, 'node1@fast', 'volflow-volume') == service


def test_service_create_twice_is_refused(db):
    first = _volume_service(db)
    with pytest.raises(exception.ServiceExists,
                       match='volflow-volume on host node1@fast'):
        _volume_service(db, report_count=7)
    assert db.service_get_all(ADMIN) == [first]
    # Another binary on the same host is another service.
    other = db.service_create(ADMIN, {'host': 'node1@fast',
                                      'binary': 'volflow-conductor'})
    assert db.service_get_all(ADMIN) == [first, other]


def test_service_get_missing(db):
    _volume_service(db)
    with pytest.raises(exception.ServiceNotFound):
        db.service_get_by_host_and_binary(ADMIN, 'node1@fast',
                                          'volflow-scheduler')
    with pytest.raises(exception.ServiceNotFound):
        db.service_update(ADMIN, 12345, {'report_count': 1})


def test_service_get_all_in_order_and_filtered(db):
    fast = _volume_service(db)
    bulk = _volume_service(db, host='node2@bulk', disabled=True,
                           disabled_reason='maintenance')
    scheduler = db.service_create(ADMIN, {'host': 'node1',
                                          'binary': 'volflow-scheduler'})
    assert db.service_get_all(ADMIN) == [fast, bulk, scheduler]
    assert db.service_get_all(ADMIN, {'binary': 'volflow-volume'}) == [
        fast, bulk]
    assert db.service_get_all(ADMIN, {'host': 'node1'}) == [scheduler]
    assert db.service_get_all(ADMIN, {'disabled': True}) == [bulk]
    assert db.service_get_all(ADMIN, {'host': 'node1',
                                      'binary': 'volflow-volume'}) == []


def test_service_update(db, clock):
    service = _volume_service(db)
    later = NOW + datetime.timedelta(seconds=10)
    updated = db.service_update(ADMIN, service['id'], {
        'report_count': 1, 'updated_at': later, 'id': 99})
    assert updated == dict(service, report_count=1, updated_at=later)
    assert db.service_get_all(ADMIN) == [updated]
