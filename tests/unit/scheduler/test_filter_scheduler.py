"""FilterScheduler: filters, weigher, retries and race-free placement."""

import datetime
import threading
import time

from oslo_utils import timeutils
import pytest

from volflow import conf as volflow_conf
from volflow import exception
from volflow.scheduler import filter_scheduler
from volflow.scheduler import filters
from volflow.volume import backends


@pytest.mark.parametrize('thin, ratio, reserved, allocated, free', [
    (False, 4.0, 0, 0, 10),        # thick: the ratio does not apply
    (True, 4.0, 0, 0, 40),         # thin: over-subscribed
    (True, 2.0, 50, 3, 7),         # 10 * 2 * 0.5 - 3
    (False, 1.0, 10, 9, 0),        # 10 * 0.9 - 9
    (False, 1.0, 0, 12, -2),       # over-allocated
])
def test_free_capacity(backend, thin, ratio, reserved, allocated, free):
    config = backend('b', thin_provisioning_support=thin,
                     max_over_subscription_ratio=ratio,
                     reserved_percentage=reserved)
    assert backends.free_capacity_gb(config, allocated) == pytest.approx(
        free)


def test_places_on_the_backend_with_most_free_space(world, make_scheduler,
                                                    backend, volume_rpc):
    world.db.volume_update(world.admin, world.volume(size=8)['id'],
                           {'host': 'big', 'status': 'available'})
    volume = world.volume(size=1)
    sched = make_scheduler(backend('small', total=5),
                           backend('big', total=10, az='nova'))
    filter_properties = {}
    assert sched.schedule_create_volume(
        world.ctx, world.spec(volume), filter_properties) == 'small'
    placed = world.db.volume_get(world.admin, volume['id'])
    assert placed['host'] == 'small'
    assert placed['availability_zone'] == 'nova'
    [cast] = volume_rpc.casts
    assert cast['volume']['host'] == 'small'
    assert cast['allow_reschedule'] is True
    assert cast['filter_properties']['retry'] == {'num_attempts': 1,
                                                  'backends': ['small']}


def test_ties_go_to_the_first_configured_backend(world, make_scheduler,
                                                 backend):
    sched = make_scheduler(backend('one'), backend('two'))
    volume = world.volume()
    assert sched.schedule_create_volume(world.ctx, world.spec(volume),
                                        {}) == 'one'


@pytest.mark.parametrize('kwargs, spec, reason', [
    ({'az': 'az2'}, {}, "in availability zone 'az2', not in nova"),
    ({'backend_name': 'slow'},
     {'volume_type': {'name': 'fast',
                      'extra_specs': {'volume_backend_name': 'fast'}}},
     "volume_backend_name is 'slow', the volume type asks for 'fast'"),
    ({'backend_name': 'slow'},
     {'volume_type': {'name': 'fast', 'extra_specs': {
         'capabilities:volume_backend_name': 'fast'}}},
     "the volume type asks for 'fast'"),
    ({'total': 1}, {}, '1G free, 2G requested'),
])
def test_no_valid_backend_names_why(world, make_scheduler, backend,
                                    volume_rpc, kwargs, spec, reason):
    volume = world.volume(size=2)
    sched = make_scheduler(backend('only', **kwargs))
    with pytest.raises(exception.NoValidBackend) as caught:
        sched.schedule_create_volume(world.ctx,
                                     world.spec(volume, **spec), {})
    message = str(caught.value)
    assert message.startswith('No valid backend was found. ')
    assert "'only': " in message and reason in message
    assert volume['id'] in message
    assert world.db.volume_get(world.admin, volume['id'])['host'] is None
    assert volume_rpc.casts == []


def test_the_volume_zone_wins_over_the_zone_list(world, make_scheduler,
                                                 backend):
    volume = world.volume(availability_zone='az2')
    sched = make_scheduler(backend('a', total=100), backend('b', az='az2'))
    assert sched.schedule_create_volume(
        world.ctx, world.spec(volume, zones=['nova', 'az2']), {}) == 'b'


def test_no_backend_configured(world, make_scheduler):
    volume = world.volume()
    with pytest.raises(exception.NoValidBackend, match='No backend is '):
        make_scheduler().schedule_create_volume(world.ctx,
                                                world.spec(volume), {})


def test_a_reschedule_avoids_backends_tried(world, make_scheduler, backend,
                                            volume_rpc):
    volume = world.volume()
    sched = make_scheduler(backend('a', total=100), backend('b'))
    filter_properties = {'retry': {'num_attempts': 1, 'backends': ['a'],
                                   'exc': "backend 'a' failed"}}
    assert sched.schedule_create_volume(world.ctx, world.spec(volume),
                                        filter_properties) == 'b'
    assert volume_rpc.casts[0]['filter_properties']['retry'] == {
        'num_attempts': 2, 'backends': ['a', 'b'],
        'exc': "backend 'a' failed"}


def test_every_backend_tried(world, make_scheduler, backend):
    volume = world.volume()
    sched = make_scheduler(backend('a'))
    filter_properties = {'retry': {'num_attempts': 1, 'backends': ['a'],
                                   'exc': 'disk on fire'}}
    with pytest.raises(exception.NoValidBackend) as caught:
        sched.schedule_create_volume(world.ctx, world.spec(volume),
                                     filter_properties)
    assert "'a': already tried for this volume" in str(caught.value)
    assert str(caught.value).endswith('Last failure: disk on fire')


def test_exceeding_max_attempts(world, make_scheduler, backend,
                                conf_override, volume_rpc):
    conf_override('scheduler_max_attempts', 2)
    volume = world.volume()
    sched = make_scheduler(backend('a'), backend('b'), backend('c'))
    filter_properties = {'retry': {'num_attempts': 2, 'backends': ['a', 'b'],
                                   'exc': 'disk on fire'}}
    with pytest.raises(exception.NoValidBackend) as caught:
        sched.schedule_create_volume(world.ctx, world.spec(volume),
                                     filter_properties)
    assert str(caught.value) == (
        f"No valid backend was found. Exceeded max scheduling attempts 2 "
        f"for volume {volume['id']}. Last failure: disk on fire")
    assert volume_rpc.casts == []


def test_one_attempt_keeps_no_retry(world, make_scheduler, backend,
                                    conf_override, volume_rpc):
    conf_override('scheduler_max_attempts', 1)
    volume = world.volume()
    make_scheduler(backend('a')).schedule_create_volume(
        world.ctx, world.spec(volume), {})
    assert volume_rpc.casts[0]['filter_properties'] == {}


@pytest.mark.parametrize('source', ['snapshot', 'volume'])
def test_snapshots_and_clones_go_where_their_source_is(
        world, make_scheduler, backend, source):
    src = world.db.volume_update(world.admin, world.volume()['id'],
                                 {'status': 'available', 'host': 'b'})
    if source == 'snapshot':
        snap = world.db.snapshot_create(world.ctx, {
            'volume_id': src['id'], 'volume_size': 1, 'status': 'available',
            'project_id': 'p'})
        volume = world.volume(snapshot_id=snap['id'])
    else:
        volume = world.volume(source_volid=src['id'])
    sched = make_scheduler(backend('a', total=100), backend('b'))
    assert sched.schedule_create_volume(world.ctx, world.spec(volume),
                                        {}) == 'b'


def test_a_volume_placed_before_does_not_count_against_itself(
        world, make_scheduler, backend):
    """A resumed schedule finds the volume already on its backend."""
    volume = world.db.volume_update(world.admin, world.volume(size=5)['id'],
                                    {'host': 'a'})
    sched = make_scheduler(backend('a', total=5))
    assert sched.schedule_create_volume(world.ctx, world.spec(volume),
                                        {}) == 'a'


def test_a_volume_no_longer_creating_is_not_placed(world, make_scheduler,
                                                   backend, volume_rpc):
    volume = world.volume()
    world.db.volume_update(world.admin, volume['id'],
                           {'status': 'deleting'})
    with pytest.raises(exception.InvalidVolume):
        make_scheduler(backend('a')).schedule_create_volume(
            world.ctx, world.spec(volume), {})
    assert volume_rpc.casts == []


def test_concurrent_schedules_never_overcommit(world, make_scheduler,
                                               backend, volume_rpc):
    """Twenty requests for 1G race for 5G: exactly five are placed."""
    real = world.db.volume_allocated_by_host

    def slow_allocated(context):
        allocated = real(context)
        time.sleep(0.002)  # widen the window between read and write
        return allocated

    world.db.volume_allocated_by_host = slow_allocated
    sched = make_scheduler(backend('a', total=3), backend('b', total=2))
    volumes = [world.volume() for _ in range(20)]
    refused = []
    start = threading.Barrier(len(volumes))

    def schedule(volume):
        start.wait()
        try:
            sched.schedule_create_volume(world.ctx, world.spec(volume), {})
        except exception.NoValidBackend:
            refused.append(volume['id'])

    threads = [threading.Thread(target=schedule, args=(v,)) for v in volumes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(volume_rpc.casts) == 5
    assert len(refused) == 15
    assert real(world.admin) == {'a': 3, 'b': 2}


def test_request_from_spec_reads_type_zones_and_retry():
    request = filters.Request.from_spec(
        {'volume_properties': {'size': 3, 'availability_zone': None},
         'volume_type': {'extra_specs': {'volume_backend_name': 'x'}},
         'availability_zones': ['nova', 'az2']},
        {'retry': {'num_attempts': 1, 'backends': ['a']}})
    assert (request.size, request.availability_zones, request.backend_name,
            request.tried) == (3, {'nova', 'az2'}, 'x', ['a'])


# Only backends with a live service (several processes) -----------------------
def _report(world, host, binary='cinder-volume', age=0, **values):
    """A service record whose last report is ``age`` seconds old."""
    when = timeutils.utcnow() - datetime.timedelta(seconds=age)
    return world.db.service_create(world.admin, dict(
        {'host': host, 'binary': binary, 'created_at': when,
         'updated_at': when}, **values))


@pytest.fixture
def live_scheduler(world, volume_rpc):
    """``live_scheduler(*backends)``: one that checks the services."""
    def make(*backends):
        return filter_scheduler.FilterScheduler(
            world.db, volume_rpc, volflow_conf.CONF,
            get_backends=lambda conf: list(backends), check_services=True)
    return make


def test_a_backend_whose_service_is_down_gets_nothing(
        world, live_scheduler, backend, volume_rpc):
    """Only fast's service runs: bulk has more space, fast gets them all."""
    _report(world, 'node1@fast')
    _report(world, 'node2@bulk', age=61)  # stopped over a minute ago
    sched = live_scheduler(backend('fast', total=10),
                           backend('bulk', total=100))
    placed = [sched.schedule_create_volume(
        world.ctx, world.spec(world.volume()), {}) for _ in range(5)]
    assert placed == ['fast'] * 5
    assert [c['volume']['host'] for c in volume_rpc.casts] == ['fast'] * 5


@pytest.mark.parametrize('binary', ['cinder-volume', 'volflow-conductor'])
def test_a_volume_service_or_a_conductor_keeps_a_backend_alive(
        world, live_scheduler, backend, binary):
    _report(world, 'node1@fast')
    _report(world, 'c1@bulk', binary=binary, age=59)
    _report(world, 'node3@fast', binary='cinder-scheduler')  # not bulk's
    sched = live_scheduler(backend('fast', total=10),
                           backend('bulk', total=100))
    assert sched.schedule_create_volume(
        world.ctx, world.spec(world.volume()), {}) == 'bulk'


@pytest.mark.parametrize('services, reason', [
    ([], "the volume service of backend 'bulk' is down (no volume service "
         "or conductor of it has ever reported)"),
    ([('node2@bulk', 'cinder-volume', 120, {})],
     "the volume service of backend 'bulk' is down (last report at "),
    ([('node2@bulk', 'cinder-volume', 0,
       {'disabled': True, 'disabled_reason': 'maintenance'})],
     "the volume service of backend 'bulk' is disabled (maintenance)"),
    ([('node2#bulk', 'cinder-volume', 0, {}),       # another backend's
      ('node2@bulk', 'cinder-scheduler', 0, {})],   # not a volume service
     "the volume service of backend 'bulk' is down (no volume service "),
])
def test_no_live_backend_names_the_service_down(
        world, live_scheduler, backend, volume_rpc, services, reason):
    for host, binary, age, values in services:
        _report(world, host, binary=binary, age=age, **values)
    volume = world.volume()
    bulk_type = {'name': 'big',
                 'extra_specs': {'volume_backend_name': 'bulk'}}
    sched = live_scheduler(backend('fast', total=10),
                           backend('bulk', total=100))
    with pytest.raises(exception.NoValidBackend) as caught:
        sched.schedule_create_volume(
            world.ctx, world.spec(volume, volume_type=bulk_type), {})
    message = str(caught.value)
    assert message.startswith('No valid backend was found. ')
    assert f"'bulk': {reason}" in message
    assert ("'fast': volume_backend_name is 'fast', the volume type asks "
            "for 'bulk'") in message
    assert world.db.volume_get(world.admin, volume['id'])['host'] is None
    assert volume_rpc.casts == []


def test_one_process_checks_no_service(world, make_scheduler, backend):
    """The embedded default: the process itself serves every backend."""
    sched = make_scheduler(backend('fast', total=10),
                           backend('bulk', total=100))
    assert sched.check_services is False
    assert sched.schedule_create_volume(
        world.ctx, world.spec(world.volume()), {}) == 'bulk'
    assert world.db.service_get_all(world.admin) == []


@pytest.mark.parametrize('transport_url, jobboard, checks', [
    (None, False, False),
    ('rabbit://guest:guest@127.0.0.1:5672/', False, True),
    (None, True, True),
])
def test_several_processes_check_the_services(
        world, volume_rpc, conf_override, transport_url, jobboard, checks):
    if transport_url:
        conf_override('transport_url', transport_url)
    conf_override('jobboard_enabled', jobboard, group='taskflow')
    sched = filter_scheduler.FilterScheduler(world.db, volume_rpc,
                                             volflow_conf.CONF)
    assert sched.check_services is checks


def test_a_placed_volume_keeps_its_backend_whatever_its_service(
        world, live_scheduler, backend):
    """A scheduling attempt run again after a crash: no second claim."""
    volume = world.volume()
    world.db.volume_update(world.admin, volume['id'], {'host': 'bulk'})
    sched = live_scheduler(backend('fast', total=10),
                           backend('bulk', total=100))
    assert sched.schedule_create_volume(
        world.ctx, world.spec(volume), {}) == 'bulk'
