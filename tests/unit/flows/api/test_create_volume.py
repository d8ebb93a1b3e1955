"""The API flow as a whole: its shape, what it hands on, how it reverts.

Failures are injected through the collaborators ``get_flow`` takes (a db
wrapper, an image service, a scheduler rpcapi), and every test checks
what is left in the database against the module docstring of
``volflow.flows.api.create_volume`` and the invariants.
"""

import pytest
from taskflow.patterns import linear_flow
from taskflow import task

from tests import invariants
from tests import rpcapis
from tests.unit.flows.api import conftest
from volflow import conf as volflow_conf
from volflow import context
from volflow.db import fake
from volflow import engines
from volflow import exception
from volflow.flows.api import create_volume
from volflow import quota

TASKS = ['ExtractVolumeRequestTask', 'QuotaReserveTask', 'EntryCreateTask',
         'QuotaCommitTask', 'VolumeCastTask']


def _task_names(engine):
    engine.compile()
    graph = engine.compilation.execution_graph
    return [node.name for node in graph.topological_sort()
            if graph.nodes[node]['kind'] == 'task']


# Shape (task names, order and store keys are a contract) ----------------

def test_flow_name_and_task_order(env):
    engine = env.engine()
    engine.compile()
    graph = engine.compilation.execution_graph
    flows = [node.name for node in graph.nodes
             if graph.nodes[node]['kind'] == 'flow']
    assert flows == ['volume_create_api']
    names = _task_names(engine)
    assert [name.split(';')[0].rsplit('.', 1)[1] for name in names] == TASKS
    for name, cls in zip(names, TASKS):
        assert cls in name
        assert name.endswith(';volume:create')
        assert name == f'volflow.flows.api.create_volume.{cls};volume:create'


def test_no_cast_task_without_both_rpcapis(env):
    for scheduler, volume_rpc in ((None, None), (env.scheduler, None),
                                  (None, env.volume_rpc)):
        engine = create_volume.get_flow(
            env.db, env.image_service, env.azs, conftest.store(env.ctx),
            scheduler_rpcapi=scheduler, volume_rpcapi=volume_rpc,
            conf=env.conf)
        assert [n.rsplit('.', 1)[1].split(';')[0]
                for n in _task_names(engine)] == TASKS[:-1]


def test_task_names_are_deterministic(env):
    assert _task_names(env.engine()) == _task_names(env.engine())


def test_get_flow_returns_a_loaded_engine_not_run(env):
    before = invariants.state(env.db, ['p1'])
    env.engine()
    assert invariants.state(env.db, ['p1']) == before
    assert env.scheduler.casts == []


def test_extract_rebinds_the_raw_store_keys(env):
    engine = env.engine()
    engine.compile()
    extract = [node for node in engine.compilation.execution_graph.nodes
               if node.name.startswith(
                   'volflow.flows.api.create_volume.ExtractVolumeRequest')][0]
    assert extract.rebind['size'] == 'raw_size'
    assert extract.rebind['availability_zone'] == 'raw_availability_zone'
    assert extract.rebind['volume_type'] == 'raw_volume_type'


# What a successful run leaves ---------------------------------------------

def test_success_without_rpc_leaves_volume_creating(env):
    engine = create_volume.get_flow(env.db, env.image_service, env.azs,
                                    conftest.store(env.ctx, size=2),
                                    conf=env.conf)
    engines.run_engine(engine)
    volume = env.db.volume_get(env.ctx, engine.storage.fetch('volume_id'))
    assert volume['status'] == 'creating'
    assert engine.storage.fetch('quota_committed') is True
    usage = env.usage()
    assert usage['volumes'] == {'in_use': 1, 'reserved': 0}
    assert usage['gigabytes'] == {'in_use': 2, 'reserved': 0}
    assert usage['volumes___DEFAULT__'] == {'in_use': 1, 'reserved': 0}
    assert env.db.reservation_get_all(env.ctx.elevated()) == []


def test_success_casts_request_spec_to_scheduler(env):
    volume = env.create(size=2, name='v', image_id=None)
    assert volume['status'] == 'available'
    (cast,) = env.scheduler.casts
    spec = cast['request_spec']
    assert cast['volume_id'] == volume['id'] == spec['volume_id']
    assert spec['volume_properties']['size'] == 2
    assert spec['volume_properties']['project_id'] == 'p1'
    assert spec['volume_type']['name'] == '__DEFAULT__'
    assert spec['availability_zones'] == ['nova']
    invariants.assert_invariants(env.db, ['p1'])


def test_volume_uuid_from_store_is_used(env):
    create_what = dict(conftest.store(env.ctx), volume_uuid='f' * 32)
    engine = create_volume.get_flow(
        env.db, env.image_service, env.azs, create_what,
        scheduler_rpcapi=env.scheduler, volume_rpcapi=env.volume_rpc,
        conf=env.conf)
    engines.run_engine(engine)
    assert env.db.volume_get(env.ctx, 'f' * 32)['status'] == 'available'


# Revert matrix ------------------------------------------------------------

class FailingDB:
    """Delegates to a real db api; the named method raises instead."""

    def __init__(self, inner, method):
        self._inner = inner
        self._method = method

    def __getattr__(self, name):
        if name == self._method:
            def fail(*args, **kwargs):
                raise RuntimeError(f'injected {name} failure')
            return fail
        return getattr(self._inner, name)


class FailingImages:
    def show(self, context, image_id):
        raise RuntimeError('injected image service failure')


# (failure point, request, collaborators, the error that must propagate)
FAILURES = [
    ('extract-image-service', 'image', None,
     'injected image service failure'),
    ('extract-db', 'db', 'volume_type_get_by_name',
     'injected volume_type_get_by_name failure'),
    ('reserve', 'db', 'quota_reserve', 'injected quota_reserve failure'),
    ('entry-create', 'db', 'volume_create', 'injected volume_create failure'),
    ('commit', 'db', 'reservation_commit',
     'injected reservation_commit failure'),
]


@pytest.mark.parametrize('kind, method, error',
                         [case[1:] for case in FAILURES],
                         ids=[case[0] for case in FAILURES])
def test_failure_reverts_everything(env, kind, method, error):
    """Extract, reserve, entry and commit failures leave nothing behind."""
    env.create(size=1)  # usage rows exist: a leak would show as a change
    before = invariants.state(env.db, ['p1'])
    collaborators = {}
    request = {'size': 2}
    if kind == 'image':
        env.db.image_create(env.ctx, {'id': 'i1', 'size': 1, 'name': 'i',
                                      'project_id': 'p1'})
        collaborators['image_service'] = FailingImages()
        request['image_id'] = 'i1'
    else:
        collaborators['db_api'] = FailingDB(env.db, method)
    engine = env.engine(**collaborators, **request)
    with pytest.raises(RuntimeError, match=error):
        engines.run_engine(engine)
    assert invariants.state(env.db, ['p1']) == before
    assert len(env.scheduler.casts) == 1  # the first volume's only
    invariants.assert_invariants(env.db, ['p1'])


def test_cast_failure_leaves_error_volume_counted(env):
    """The flow succeeds; the volume is ``error`` with the reason."""
    scheduler = rpcapis.Scheduler(
        env.db, fail_with=ConnectionError('scheduler unreachable'))
    engine = env.engine(scheduler=scheduler, size=4)
    engines.run_engine(engine)
    volume = env.db.volume_get(env.ctx, engine.storage.fetch('volume_id'))
    assert volume['status'] == 'error'
    assert 'scheduler unreachable' in volume['reason']
    usage = env.usage()
    assert usage['volumes'] == {'in_use': 1, 'reserved': 0}
    assert usage['gigabytes'] == {'in_use': 4, 'reserved': 0}
    assert usage['gigabytes___DEFAULT__'] == {'in_use': 4, 'reserved': 0}
    invariants.assert_invariants(env.db, ['p1'])


def test_cast_failure_through_the_api_returns_the_error_volume(env):
    env.scheduler.fail_with = ConnectionError('scheduler unreachable')
    volume = env.api().create(env.ctx, 1, 'v', None)
    assert volume['status'] == 'error'
    env.api().delete(env.ctx, volume['id'])
    assert env.db.volume_get_all(env.ctx) == []
    assert env.usage()['volumes'] == {'in_use': 0, 'reserved': 0}
    invariants.assert_invariants(env.db, ['p1'])


def test_cast_failure_whose_error_update_fails_reverts_everything(env):
    """If even ``error`` cannot be recorded, the create is undone."""
    env.create(size=1)
    before = invariants.state(env.db, ['p1'])
    scheduler = rpcapis.Scheduler(env.db, fail_with=ConnectionError('x'))
    engine = env.engine(db_api=FailingDB(env.db, 'volume_update'),
                        scheduler=scheduler)
    with pytest.raises(RuntimeError, match='injected volume_update'):
        engines.run_engine(engine)
    assert invariants.state(env.db, ['p1']) == before
    invariants.assert_invariants(env.db, ['p1'])


# QuotaCommitTask's compensating release -----------------------------------

class _Boom(task.Task):
    """A task after QuotaCommitTask that fails."""

    def execute(self, volume_id):
        raise RuntimeError(f'boom after {volume_id} was committed')


class _ReleaseFails(quota.QuotaEngine):
    def release(self, *args, **kwargs):
        raise RuntimeError('release lost')


def _flow_with_failing_tail(env, db_api=None, quota_engine=None, tail=None):
    db_api = db_api or env.db
    engine_quota = quota_engine or quota.QuotaEngine(db_api, env.conf)
    flow = linear_flow.Flow('volume_create_api')
    flow.add(
        create_volume.ExtractVolumeRequestTask(
            env.image_service, env.azs, db_api, env.conf,
            rebind={'size': 'raw_size',
                    'availability_zone': 'raw_availability_zone',
                    'volume_type': 'raw_volume_type'}),
        create_volume.QuotaReserveTask(engine_quota),
        create_volume.EntryCreateTask(db_api),
        create_volume.QuotaCommitTask(engine_quota),
        tail or _Boom('boom'))
    return flow


def test_commit_revert_releases_when_a_later_task_fails(env):
    env.create(size=1)
    before = invariants.state(env.db, ['p1'])
    assert before['usages']['p1']['gigabytes'] == (1, 0)
    create_what = conftest.store(env.ctx, size=5)
    engine = engines.load_engine(_flow_with_failing_tail(env),
                                 create_what, conf=env.conf)
    with pytest.raises(RuntimeError, match='boom after'):
        engines.run_engine(engine)
    assert invariants.state(env.db, ['p1']) == before
    invariants.assert_invariants(env.db, ['p1'])


def test_commit_revert_is_idempotent(env):
    """A revert run twice (resume is at-least-once) releases once."""
    engine_quota = quota.QuotaEngine(env.db, env.conf)
    commit = create_volume.QuotaCommitTask(engine_quota)
    env.create(size=2)
    volume = env.create(size=3)
    vtype = env.db.volume_type_get_by_name(env.ctx, '__DEFAULT__')
    for _attempt in range(2):
        commit.revert(env.ctx, True, vtype, 3, volume['id'])
    assert env.usage()['gigabytes'] == {'in_use': 2, 'reserved': 0}
    assert env.usage()['volumes'] == {'in_use': 1, 'reserved': 0}


class _SeesTheFlag(task.Task):
    """A failing task after QuotaCommitTask that notes Cinder's flag."""

    def execute(self, optional_args):
        self.seen = dict(optional_args)
        raise RuntimeError('boom after the commit')


def test_cinders_optional_args_flag_follows_the_commit(env):
    """A store with Cinder's ``optional_args`` sees the flag as in Cinder.

    Set by the commit; cleared again when a later task fails and the
    commit's revert releases what it counted.
    """
    flag = {'is_quota_committed': False}
    create_what = dict(conftest.store(env.ctx, size=1), optional_args=flag)
    sees = _SeesTheFlag('sees')
    engine = engines.load_engine(_flow_with_failing_tail(env, tail=sees),
                                 create_what, conf=env.conf)
    with pytest.raises(RuntimeError, match='boom after'):
        engines.run_engine(engine)
    assert sees.seen == {'is_quota_committed': True}
    assert engine.storage.fetch('optional_args') == {
        'is_quota_committed': False}
    invariants.assert_invariants(env.db, ['p1'])


def test_a_commit_revert_that_fails_leaves_committed_state_alone(env):
    """Once committed, only QuotaCommitTask's revert undoes the quota.

    Its revert failing, taskflow reverts nothing before it: the row and
    the usage it counts stay together, where Cinder's reserve and entry
    reverts read a flag to the same end.
    """
    create_what = conftest.store(env.ctx, size=5)
    engine = engines.load_engine(
        _flow_with_failing_tail(env, quota_engine=_ReleaseFails(
            env.db, env.conf)), create_what, conf=env.conf)
    with pytest.raises(RuntimeError, match='release lost'):
        engines.run_engine(engine)
    volume = env.db.volume_get(env.ctx, engine.storage.fetch('volume_id'))
    assert (volume['status'], volume['size']) == ('creating', 5)
    assert env.usage()['gigabytes'] == {'in_use': 5, 'reserved': 0}
    assert env.db.reservation_get_all(env.ctx.elevated()) == []


def test_every_engine_gets_a_flow_of_its_own():
    """No task object is shared between engines (issue 10).

    taskflow registers a running engine's progress callback on the task
    object's notifier: a task shared by two engines running at once
    would report one engine's progress into the other's storage.
    """
    conf = volflow_conf.load()
    db = fake.FakeAPI()
    db.seed()
    ctx = context.RequestContext(user_id='u1', project_id='p1')

    def load():
        return create_volume.get_flow(db, None, ['nova'], {
            'context': ctx, 'raw_size': 1, 'name': None,
            'description': None, 'snapshot': None, 'image_id': None,
            'raw_volume_type': None, 'metadata': None,
            'raw_availability_zone': None, 'source_volume': None},
            conf=conf)

    first, second = load(), load()
    first.compile()
    second.compile()
    atoms = [list(engine.compilation.execution_graph)
             for engine in (first, second)]
    assert not {id(a) for a in atoms[0]} & {id(a) for a in atoms[1]}
    assert [atom.name.split(';')[0].rsplit('.', 1)[-1]
            for atom in first.compilation.execution_graph.topological_sort()
            if hasattr(atom, 'execute')] == [
        'ExtractVolumeRequestTask', 'QuotaReserveTask', 'EntryCreateTask',
        'QuotaCommitTask']


# Volume types: QoS specs and private types --------------------------------

def test_qos_specs_come_from_the_types_associated_qos_specs(env):
    admin = env.ctx.elevated()
    plain = env.db.volume_type_create(admin, 'plain')
    fast = env.db.volume_type_create(admin, 'fast')
    qos = env.db.qos_specs_create(admin, 'q', 'front-end',
                                  {'read_iops_sec': '2000'})
    env.db.volume_type_update(admin, fast['id'], {'qos_specs_id': qos['id']})
    engine = env.engine(volume_type='fast')
    engines.run_engine(engine, logger=conftest.LOG)
    assert engine.storage.fetch('qos_specs') == {'read_iops_sec': '2000'}
    engine = env.engine(volume_type=plain['id'])
    engines.run_engine(engine, logger=conftest.LOG)
    assert engine.storage.fetch('qos_specs') is None


def test_private_type_without_access_is_not_found(env):
    admin = env.ctx.elevated()
    private = env.db.volume_type_create(admin, 'private', is_public=False)
    before = env.usage()
    for ref in (private['id'], 'private'):
        with pytest.raises(exception.VolumeTypeNotFound):
            env.create(volume_type=ref)
    assert env.db.volume_get_all(admin) == []
    assert env.usage() == before
    env.db.volume_type_access_add(admin, private['id'], 'p1')
    assert env.create(volume_type='private')['volume_type'] == 'private'
    with pytest.raises(exception.VolumeTypeNotFound):
        env.create(ctx=env.other_ctx, volume_type=private['id'])
    invariants.assert_invariants(env.db, ['p1', 'p2'])


def test_the_api_returns_the_volume_as_handed_over_not_as_moved_on(env):
    """The receiving flows may finish the volume before the API flow ends.

    The scheduler rpcapi of these tests makes the volume ``available``
    inside the cast, as a fast scheduler and backend can before the API
    flow has recorded its last task; ``API.create`` still returns it as
    the API flow handed it over.
    """
    volume = env.api().create(env.ctx, 1, 'v', None)
    assert (volume['status'], volume['host']) == ('creating', None)
    assert env.db.volume_get(env.ctx, volume['id'])['status'] == (
        'available')
    invariants.assert_invariants(env.db, ['p1'])
