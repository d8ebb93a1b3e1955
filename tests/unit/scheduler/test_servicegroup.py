"""volflow.scheduler.servicegroup: services report, the scheduler reads."""

import datetime
import socket
from unittest import mock

from oslo_utils import timeutils
import pytest

from volflow import conf as volflow_conf
from volflow.conf import backend as backend_conf
from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow.scheduler import servicegroup

ADMIN = volflow_context.get_admin_context()
NOW = datetime.datetime(2030, 1, 2, 3, 4, 5)
RECORD = {'host': 'node1@fast', 'binary': 'cinder-volume',
          'topic': 'volflow-volume', 'availability_zone': 'nova'}


@pytest.mark.parametrize('age, up', [(0, True), (60, True), (61, False),
                                     (-60, True), (-61, False)])
def test_up_while_the_last_report_is_within_service_down_time(age, up):
    service = {'created_at': NOW - datetime.timedelta(seconds=600),
               'updated_at': NOW - datetime.timedelta(seconds=age)}
    assert servicegroup.is_up(service, volflow_conf.CONF, now=NOW) is up


def test_a_service_that_never_reported_counts_from_its_creation():
    service = {'created_at': NOW, 'updated_at': None}
    assert servicegroup.is_up(service, volflow_conf.CONF, now=NOW)


def test_the_reporter_registers_then_counts_its_reports(conf_override):
    conf_override('report_interval', 3600)  # reports made by hand below
    db_api = fake_db.FakeAPI()
    reporter = servicegroup.Reporter(db_api, [RECORD], volflow_conf.CONF)
    with mock.patch.object(timeutils, 'utcnow', return_value=NOW):
        reporter.start()
    later = NOW + datetime.timedelta(seconds=10)
    with mock.patch.object(timeutils, 'utcnow', return_value=later):
        reporter.report()
        reporter.report()
    reporter.stop()
    [service] = db_api.service_get_all(ADMIN)
    assert service == dict(RECORD, id=service['id'], report_count=2,
                           disabled=False, disabled_reason=None,
                           created_at=NOW, updated_at=later)


def test_the_reporter_leaves_an_operator_s_disable_alone(conf_override):
    conf_override('report_interval', 3600)
    db_api = fake_db.FakeAPI()
    db_api.service_create(ADMIN, dict(RECORD, disabled=True,
                                      disabled_reason='maintenance'))
    reporter = servicegroup.Reporter(db_api, [RECORD], volflow_conf.CONF)
    reporter.report()
    [service] = db_api.service_get_all(ADMIN)
    assert (service['disabled'], service['disabled_reason'],
            service['report_count']) == (True, 'maintenance', 1)


def test_a_failed_report_is_logged_and_tried_again(conf_override, caplog):
    conf_override('report_interval', 3600)
    db_api = fake_db.FakeAPI()
    reporter = servicegroup.Reporter(db_api, [RECORD], volflow_conf.CONF)
    with mock.patch.object(db_api, 'service_get_by_host_and_binary',
                           side_effect=RuntimeError('database is gone')):
        reporter.report()
    assert db_api.service_get_all(ADMIN) == []
    assert ('Could not report service cinder-volume on host node1@fast: '
            'database is gone') in caplog.text
    reporter.report()
    assert len(db_api.service_get_all(ADMIN)) == 1


@pytest.mark.parametrize('value, matched', [
    ('node1', ['node1', 'node1@fast', 'node1@fast#pool']),
    ('node1@fast', ['node1@fast', 'node1@fast#pool']),
    ('node1@fast#pool', ['node1@fast#pool']),
    ('node', []),
    ('node1@fas', []),
    ('fast', []),
])
def test_the_host_filter_matches_as_cinder_s(value, matched):
    hosts = ['node1', 'node1@fast', 'node1@fast#pool', 'node10@fast',
             'node2@fast']
    assert [h for h in hosts
            if servicegroup.host_matches(h, value)] == matched


def test_one_process_reports_its_scheduler_and_each_backend(conf_override):
    conf = volflow_conf.CONF
    for name, zone in (('fast', 'z1'), ('bulk', None)):
        backend_conf.register_backend(conf, name)
        conf_override('backend_availability_zone', zone, group=name)
    conf_override('enabled_backends', ['fast', 'bulk'])
    host = socket.gethostname()
    assert [(r['binary'], r['host'], r['availability_zone'])
            for r in servicegroup.in_process_records(conf)] == [
        ('cinder-scheduler', host, conf.storage_availability_zone),
        ('cinder-volume', f'{host}@fast', 'z1'),
        ('cinder-volume', f'{host}@bulk', conf.storage_availability_zone)]
