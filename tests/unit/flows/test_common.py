"""volflow.flows.common: what a failed create leaves, in every case.

:func:`volflow.flows.common.after_failure` is the one function deciding
what remains once the tasks' reverts ran. Here: an API flow recorded up
to a task and given up (a real API flow, suspended after the task, on
the in-memory database; its record read back through persistence), a
given-up scheduler or manager flow, a conductor's job broken or ended
with its volume still ``creating``, and a raised API flow. The manager
and scheduler flows that raised are in
``tests/unit/flows/manager/test_after_failure.py``.
"""

import logging

import pytest
from taskflow import states

from tests import invariants
from tests import rpcapis
from volflow import context as volflow_context
from volflow import engines
from volflow.flows.api import create_volume as api_flow
from volflow.flows import common
from volflow.image import fake as fake_image
from volflow import persistence

LOG = logging.getLogger(__name__)


@pytest.fixture
def admin():
    return volflow_context.get_admin_context()


def _store(size=2):
    return {
        'context': volflow_context.RequestContext(user_id='u1',
                                                  project_id='p1'),
        'raw_size': size, 'name': 'v', 'description': None,
        'snapshot': None, 'image_id': None, 'raw_volume_type': None,
        'metadata': None, 'raw_availability_zone': None,
        'source_volume': None}


def _recorded_up_to(db_api, conf, tmp_path, task_class):
    """An API flow run until ``task_class`` is done; its volume, record."""
    engine = api_flow.get_flow(
        db_api, fake_image.FakeImageService(db_api, str(tmp_path / 'img')),
        ['nova'], _store(), scheduler_rpcapi=rpcapis.Scheduler(db_api),
        volume_rpcapi=rpcapis.UnusedVolumeRpc(), conf=conf)
    volume_id = engine.storage.fetch('volume_uuid')
    name = task_class.make_name([api_flow.ACTION])

    def suspend(state, details):
        if details['task_name'] == name:
            engine.suspend()

    engine.atom_notifier.register(states.SUCCESS, suspend)
    engines.run_engine(engine, logger=LOG)
    assert engine.storage.get_flow_state() == states.SUSPENDED
    conn = persistence.get_backend(db_api, conf).get_connection()
    detail = persistence.existing(conn,
                                  persistence.flow_uuid(volume_id, 'api'))
    return volume_id, detail


def _usage(db_api, admin):
    return {res: (usage['in_use'], usage['reserved']) for res, usage in
            db_api.quota_usage_get_all(admin, 'p1').items()
            if res in ('volumes', 'gigabytes')}


def _give_up(db_api, volume_id, detail):
    return common.after_failure(
        db_api, 'api', volume_id, 'it could not be rebuilt: gone',
        given_up=True, recorded=api_flow.recorded_results(detail))


def test_the_record_says_what_the_api_flow_did(db_api, conf, tmp_path,
                                               admin):
    _volume_id, reserved = _recorded_up_to(db_api, conf, tmp_path,
                                           api_flow.QuotaReserveTask)
    outstanding = sorted(r['id'] for r in db_api.reservation_get_all(admin))
    assert outstanding
    found = api_flow.recorded_results(reserved)
    assert (sorted(found['reservations']), found['committed']) == (
        outstanding, False)
    _volume_id, committed = _recorded_up_to(db_api, conf, tmp_path,
                                            api_flow.QuotaCommitTask)
    assert api_flow.recorded_results(committed)['committed'] is True


def test_a_given_up_reservation_is_rolled_back(db_api, conf, tmp_path,
                                               admin):
    volume_id, detail = _recorded_up_to(db_api, conf, tmp_path,
                                        api_flow.QuotaReserveTask)
    assert db_api.reservation_get_all(admin)
    assert _give_up(db_api, volume_id, detail) is False
    assert db_api.reservation_get_all(admin) == []
    assert _usage(db_api, admin) == {'volumes': (0, 0),
                                     'gigabytes': (0, 0)}
    invariants.assert_invariants(db_api, ['p1'])


def test_a_given_up_volume_not_committed_is_destroyed(db_api, conf,
                                                      tmp_path, admin):
    volume_id, detail = _recorded_up_to(db_api, conf, tmp_path,
                                        api_flow.EntryCreateTask)
    assert db_api.volume_get(admin, volume_id)['status'] == 'creating'
    _give_up(db_api, volume_id, detail)
    assert db_api.volume_get_all(admin) == []
    assert db_api.reservation_get_all(admin) == []
    invariants.assert_invariants(db_api, ['p1'])


def test_a_given_up_volume_committed_counts_and_is_errored(db_api, conf,
                                                           tmp_path, admin):
    volume_id, detail = _recorded_up_to(db_api, conf, tmp_path,
                                        api_flow.QuotaCommitTask)
    _give_up(db_api, volume_id, detail)
    volume = db_api.volume_get(admin, volume_id)
    assert (volume['status'], volume['reason']) == (
        'error', 'the api flow could not be resumed: '
                 'it could not be rebuilt: gone')
    assert _usage(db_api, admin) == {'volumes': (1, 0),
                                     'gigabytes': (2, 0)}
    invariants.assert_invariants(db_api, ['p1'])


def test_a_given_up_api_volume_placed_meanwhile_stays(db_api, conf,
                                                      tmp_path, admin):
    volume_id, detail = _recorded_up_to(db_api, conf, tmp_path,
                                        api_flow.EntryCreateTask)
    db_api.volume_update(admin, volume_id, {'host': 'b1'})
    _give_up(db_api, volume_id, detail)
    assert db_api.volume_get(admin, volume_id)['status'] == 'creating'
    assert db_api.reservation_get_all(admin) == []


def _volume(db_api, admin, **values):
    values.setdefault('status', 'creating')
    return db_api.volume_create(admin, dict(
        {'size': 1, 'project_id': 'p1'}, **values))['id']


@pytest.mark.parametrize('kind', ['scheduler', 'manager'])
def test_a_given_up_flow_errors_its_volume_and_keeps_the_host(
        db_api, admin, kind):
    volume_id = _volume(db_api, admin, host='b1')
    common.after_failure(db_api, kind, volume_id, 'it ended FAILURE', 'b1',
                         given_up=True)
    volume = db_api.volume_get(admin, volume_id)
    assert (volume['status'], volume['host'], volume['reason']) == (
        'error', 'b1', f'the {kind} flow could not be resumed: '
                       f'it ended FAILURE')


@pytest.mark.parametrize('given_up, reason', [
    (True, 'The creation job could not be run (step: boom)'),
    (False, 'The creation job ended with the volume still creating '
            '(step: boom)')])
def test_a_job_leaving_its_volume_creating_errors_it(db_api, admin,
                                                     given_up, reason):
    volume_id = _volume(db_api, admin, host='b1')
    assert common.after_failure(db_api, 'job', volume_id, 'step: boom',
                                given_up=given_up) is False
    volume = db_api.volume_get(admin, volume_id)
    assert (volume['status'], volume['reason']) == ('error', reason)


@pytest.mark.parametrize('status', ['available', 'error', 'deleting'])
@pytest.mark.parametrize('given_up', [True, False])
def test_a_job_leaves_a_volume_no_longer_creating_alone(db_api, admin,
                                                        status, given_up):
    volume_id = _volume(db_api, admin, host='b1', status=status)
    common.after_failure(db_api, 'job', volume_id, 'step: boom',
                         given_up=given_up)
    volume = db_api.volume_get(admin, volume_id)
    assert (volume['status'], volume['reason']) == (status, None)


def test_a_job_of_a_volume_gone_does_nothing(db_api, admin):
    assert common.after_failure(db_api, 'job', 'no-such-volume', 'x') is False


def test_a_raised_api_flow_leaves_it_to_its_reverts(db_api, admin):
    volume_id = _volume(db_api, admin)
    assert common.after_failure(db_api, 'api', volume_id,
                                RuntimeError('boom')) is False
    assert db_api.volume_get(admin, volume_id)['status'] == 'creating'
