"""What follows a failed flow: one function for managers, resume, conductors.

:func:`volflow.flows.common.after_failure` is run here on the manager
flow of backend ``a`` (``env``) and on bare volumes; the managers,
``volflow resume`` and the conductors all call it after a flow raised.
"""

import logging

import pytest

from volflow import engines
from volflow import exception
from volflow.flows import common
from volflow.flows.manager import create_volume

LOG = logging.getLogger(__name__)


def _failed_engine(env, volume, **kwargs):
    """The manager flow of ``volume`` run to a driver failure."""
    env.driver.fail_create = True
    engine = env.engine(volume, **kwargs)
    with pytest.raises(exception.VolumeBackendAPIException) as caught:
        engines.run_engine(engine, logger=LOG)
    return engine, caught.value


def test_a_rescheduled_volume_is_left_to_the_scheduler(env):
    volume = env.volume()
    engine, exc = _failed_engine(env, volume)
    assert create_volume.rescheduled(engine)
    # The scheduler placed it on this backend again meanwhile.
    env.db.volume_update(env.admin, volume['id'], {'host': 'a'})
    assert common.after_failure(env.db, 'manager', volume['id'], exc, 'a',
                                create_volume.rescheduled(engine)) is True
    assert (env.get(volume)['status'], env.get(volume)['host']) == (
        'creating', 'a')


def test_a_volume_the_flow_could_not_error_is_errored(env):
    volume = env.volume()
    engine, exc = _failed_engine(env, volume, allow_reschedule=False)
    assert not create_volume.rescheduled(engine)
    env.db.volume_update(env.admin, volume['id'],
                         {'status': 'creating', 'host': 'a'})
    assert common.after_failure(env.db, 'manager', volume['id'], exc, 'a',
                                create_volume.rescheduled(engine)) is False
    after = env.get(volume)
    assert (after['status'], after['host']) == ('error', None)
    assert after['reason'] == common.backend_failed('a', common.one_line(exc))


def test_a_volume_on_another_backend_is_left_alone(env):
    volume = env.volume(host='b@b#b')
    common.after_failure(env.db, 'manager', volume['id'],
                         RuntimeError('boom'), 'a')
    assert env.get(volume)['status'] == 'creating'


def test_a_failed_scheduling_errors_the_volume(env):
    volume = env.volume(host=None)
    common.after_failure(env.db, 'scheduler', volume['id'],
                         exception.VolumeTypeNotFound(volume_type='x'))
    after = env.get(volume)
    assert after['status'] == 'error'
    assert after['reason'] == (
        'Scheduling failed: Volume type x could not be found.')


@pytest.mark.parametrize('status', ['available', 'deleting'])
def test_a_volume_no_longer_creating_is_left_alone(env, status):
    volume = env.volume(status=status)
    for kind in ('api', 'scheduler', 'manager'):
        common.after_failure(env.db, kind, volume['id'],
                             RuntimeError('boom'), 'a')
    assert env.get(volume)['status'] == status
