"""volflow.scheduler.manager: one scheduler flow per request.

On a seeded in-memory database, with the filter scheduler over backends
given by the test and a volume rpcapi that records its casts.
"""

import pytest

from volflow.scheduler import manager


@pytest.fixture
def scheduler(world, make_scheduler, backend, conf):
    return manager.SchedulerManager(
        world.db, make_scheduler(backend('small', total=1),
                                 backend('big', total=50)), conf=conf)


def test_a_volume_goes_to_the_backend_that_fits(world, scheduler,
                                                volume_rpc):
    volume = world.volume(size=5)
    scheduler.create_volume(world.ctx, volume,
                            request_spec=world.spec(volume),
                            filter_properties={})
    [cast] = volume_rpc.casts
    assert cast['volume']['id'] == volume['id']
    placed = world.db.volume_get(world.admin, volume['id'])
    assert placed['host'].split('#')[0].endswith('big')
    assert placed['status'] == 'creating'  # the volume manager's turn


def test_no_backend_that_fits_errors_the_volume_with_the_reason(
        world, scheduler, volume_rpc):
    volume = world.volume(size=500)
    scheduler.create_volume(world.ctx, volume,
                            request_spec=world.spec(volume),
                            filter_properties={})
    assert volume_rpc.casts == []
    errored = world.db.volume_get(world.admin, volume['id'])
    assert errored['status'] == 'error'
    assert 'No valid backend' in errored['reason']


def test_prepare_loads_the_flow_and_runs_nothing_yet(
        world, scheduler, volume_rpc):
    volume = world.volume(size=5)
    run = scheduler.prepare_create_volume(
        world.ctx, volume, request_spec=world.spec(volume),
        filter_properties={})
    assert volume_rpc.casts == []
    assert world.db.volume_get(world.admin, volume['id'])['host'] is None
    run()
    assert len(volume_rpc.casts) == 1
