"""The whole pipeline, end to end, through volflow.volume.api.API.

API flow -> in-process cast -> scheduler flow -> cast -> manager flow, with
the configured backends' real drivers: files on disk under a temporary
``state_path``, checked byte for byte. Every test runs against the
in-memory database and, once it exists, a SQLite file.

After each failure the invariants (``tests/invariants.py``) are checked: usage
equals what the volumes add up to (``error`` ones included), no
reservation is outstanding, nothing is left ``creating``.
"""

from concurrent import futures
import importlib.util
import os
import re
import stat
import threading

from oslo_messaging.notify import _impl_test
import pytest
from taskflow.engines.action_engine import engine as engine_module
from taskflow import storage as storage_module

from tests import invariants
from volflow import conf as volflow_conf
from volflow.conf import backend as backend_conf
from volflow import context as volflow_context
from volflow import db as volflow_db
from volflow.rpc import local
from volflow.volume import api as volume_api

GiB = 1024 ** 3
MiB = 1024 ** 2
#: Where a pattern is written into a source: start, middle, last block.
OFFSETS = (0, 300 * MiB + 17, GiB - 4096)
TIMEOUT = 30

_HAS_SQL = importlib.util.find_spec('volflow.db.sqlalchemy.api') is not None
DATABASES = ['memory', pytest.param('sqlite', marks=pytest.mark.skipif(
    not _HAS_SQL, reason='volflow.db.sqlalchemy.api does not exist yet'))]


def _forget_everything():
    assert local.wait_idle(TIMEOUT), 'flows still running'
    local.reset()
    volflow_db.reset_apis()
    _impl_test.reset()


class Pipeline:
    """One deployment under ``tmp_path``, acting for project ``p1``."""

    def __init__(self, conf_override, tmp_path):
        self.override = conf_override
        self.state_path = str(tmp_path / 'state')
        self.ctx = volflow_context.RequestContext(user_id='u1',
                                                  project_id='p1')
        self.admin = volflow_context.get_admin_context()
        self._api = None

    def use_backends(self, **backends):
        """Replace the seeded ``local`` backend with these sections."""
        conf = volflow_conf.CONF
        for name, options in backends.items():
            backend_conf.register_backend(conf, name)
            for key, value in options.items():
                self.override(key, value, group=name)
        self.override('enabled_backends', list(backends))

    @property
    def api(self):
        if self._api is None:
            self._api = volume_api.API()
        return self._api

    @property
    def db(self):
        return self.api.db

    def create(self, size=1, wait=True, **kwargs):
        volume = self.api.create(self.ctx, size, 'vol', 'a volume',
                                 **kwargs)
        assert volume['status'] == 'creating'
        if wait:
            volume = self.api.wait(self.ctx, volume['id'], TIMEOUT)
        return volume

    def path(self, volume, backend='local'):
        if backend == 'local':
            return os.path.join(self.state_path, 'volumes', volume['id'])
        return os.path.join(self.state_path, 'volumes', backend,
                            volume['id'])

    def notifications(self):
        # The flows notify after they set the status: wait for them to end.
        assert local.wait_idle(TIMEOUT)
        return [(message['publisher_id'], message['event_type'], priority)
                for _ctx, message, priority, _retry
                in _impl_test.NOTIFICATIONS]

    def usage(self):
        usage = self.db.quota_usage_get_all(self.ctx, 'p1')
        return {name: usage[name]['in_use']
                for name in ('volumes', 'gigabytes')}

    def check_invariants(self):
        assert local.wait_idle(TIMEOUT)
        invariants.assert_invariants(self.db, ['p1'])


@pytest.fixture(params=DATABASES)
def pipeline(request, conf_override, tmp_path):
    conf_override('state_path', str(tmp_path / 'state'))
    connection = ('memory://' if request.param == 'memory' else
                  f"sqlite:///{tmp_path / 'volflow.sqlite'}")
    conf_override('connection', connection, group='database')
    conf_override('driver', ['test'], group='oslo_messaging_notifications')
    _forget_everything()
    yield Pipeline(conf_override, tmp_path)
    _forget_everything()


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _write_pattern(path, marker=b'A'):
    with open(path, 'r+b') as f:
        for i, offset in enumerate(OFFSETS):
            f.seek(offset)
            f.write(bytes([marker[0] + i]) * 4096)


def _assert_pattern(path, marker=b'A'):
    with open(path, 'rb') as f:
        for i, offset in enumerate(OFFSETS):
            f.seek(offset)
            assert f.read(4096) == bytes([marker[0] + i]) * 4096, offset
        f.seek(100 * MiB)
        assert f.read(4096) == bytes(4096)


# Creating -------------------------------------------------------------------
def test_raw_volume_is_a_private_sparse_file(pipeline):
    volume = pipeline.create(size=2)
    assert (volume['status'], volume['host']) == ('available', 'local')
    path = pipeline.path(volume)
    info = os.stat(path)
    assert info.st_size == 2 * GiB
    assert info.st_blocks * 512 < MiB
    assert _mode(path) == 0o600
    assert _mode(os.path.dirname(path)) == 0o700
    assert pipeline.notifications() == [
        ('volume.local', 'volume.create.start', 'INFO'),
        ('volume.local', 'volume.create.end', 'INFO')]
    assert pipeline.usage() == {'volumes': 1, 'gigabytes': 2}
    pipeline.check_invariants()


def test_from_snapshot_copies_the_snapshot_data(pipeline):
    source = pipeline.create()
    _write_pattern(pipeline.path(source))
    snapshot = pipeline.api.create_snapshot(pipeline.ctx, source['id'])
    assert os.path.exists(os.path.join(
        pipeline.state_path, 'volumes', f"snapshot-{snapshot['id']}"))
    _write_pattern(pipeline.path(source), marker=b'a')  # after the snapshot
    volume = pipeline.create(size=2, snapshot=snapshot['id'])
    assert volume['status'] == 'available', volume['reason']
    assert os.path.getsize(pipeline.path(volume)) == 2 * GiB
    _assert_pattern(pipeline.path(volume))
    pipeline.check_invariants()


def test_clone_copies_the_source_data(pipeline):
    source = pipeline.create()
    _write_pattern(pipeline.path(source))
    volume = pipeline.create(size=None, source_volume=source['id'])
    assert volume['status'] == 'available', volume['reason']
    assert volume['size'] == 1
    _assert_pattern(pipeline.path(volume))
    pipeline.check_invariants()


def test_from_image_writes_the_image_bytes(pipeline, tmp_path):
    data = os.urandom(3 * MiB + 5)
    image_file = tmp_path / 'image.raw'
    image_file.write_bytes(data)
    image = pipeline.api.image_service.create(pipeline.ctx, 'img',
                                              str(image_file))
    volume = pipeline.create(image_id=image['id'])
    assert volume['status'] == 'available', volume['reason']
    with open(pipeline.path(volume), 'rb') as f:
        assert f.read(len(data)) == data
        assert f.read(4096) == bytes(4096)
    assert os.path.getsize(pipeline.path(volume)) == GiB
    pipeline.check_invariants()


def test_delete_removes_the_file_and_gives_the_quota_back(pipeline):
    volume = pipeline.create(size=3)
    pipeline.api.delete(pipeline.ctx, volume['id'])
    assert not os.path.exists(pipeline.path(volume))
    assert pipeline.db.volume_get_all(pipeline.ctx) == []
    assert pipeline.usage() == {'volumes': 0, 'gigabytes': 0}
    pipeline.check_invariants()


# Failing --------------------------------------------------------------------
def test_reschedules_from_a_failing_backend_to_a_healthy_one(pipeline):
    pipeline.use_backends(
        bad={'volume_driver': 'fake', 'fake_failure_rate': 1.0,
             'total_capacity_gb': 100},   # most free: tried first
        good={'volume_driver': 'file', 'total_capacity_gb': 10})
    volume = pipeline.create()
    assert (volume['status'], volume['host']) == ('available', 'good')
    assert os.path.getsize(pipeline.path(volume, 'good')) == GiB
    assert pipeline.notifications() == [
        ('volume.bad', 'volume.create.start', 'INFO'),
        ('volume.good', 'volume.create.start', 'INFO'),
        ('volume.good', 'volume.create.end', 'INFO')]
    assert local.get_driver('bad').volumes == {}
    pipeline.check_invariants()


def _failing(**options):
    return dict({'volume_driver': 'fake', 'fake_failure_rate': 1.0},
                **options)


@pytest.mark.parametrize('max_attempts, backends, expected', [
    (3, 2, "'b2': already tried for this volume"),
    (3, 3, 'Exceeded max scheduling attempts 3 for volume'),
    (2, 3, 'Exceeded max scheduling attempts 2 for volume'),
])
def test_every_backend_failing_ends_in_error(pipeline, max_attempts,
                                             backends, expected):
    pipeline.override('scheduler_max_attempts', max_attempts)
    pipeline.use_backends(**{f'b{i}': _failing()
                             for i in range(1, backends + 1)})
    volume = pipeline.create(size=2)
    assert volume['status'] == 'error'
    assert volume['host'] is None
    assert volume['reason'].startswith('No valid backend was found.')
    assert expected in volume['reason']
    assert 'Last failure: backend ' in volume['reason']
    assert 'injected failure' in volume['reason']
    assert pipeline.notifications()[-1] == (
        'scheduler', 'scheduler.create_volume', 'ERROR')
    assert [e for _p, e, _x in pipeline.notifications()].count(
        'volume.create.start') == min(max_attempts, backends)
    assert pipeline.usage() == {'volumes': 1, 'gigabytes': 2}
    pipeline.check_invariants()


def test_one_attempt_errors_on_the_first_failure(pipeline):
    pipeline.override('scheduler_max_attempts', 1)
    pipeline.use_backends(b1=_failing(), b2=_failing())
    volume = pipeline.create()
    assert volume['status'] == 'error'
    assert volume['reason'].startswith(
        "backend 'b1' failed to create the volume: ")
    assert pipeline.notifications() == [
        ('volume.b1', 'volume.create.start', 'INFO')]
    pipeline.check_invariants()


def test_no_valid_backend_for_the_type(pipeline):
    pipeline.db.volume_type_create(pipeline.admin, 'remote',
                                   {'volume_backend_name': 'absent'})
    volume = pipeline.create(volume_type='remote')
    assert volume['status'] == 'error'
    assert ("'local': volume_backend_name is 'local', the volume type asks "
            "for 'absent'") in volume['reason']
    assert pipeline.notifications() == [
        ('scheduler', 'scheduler.create_volume', 'ERROR')]
    assert not os.path.exists(pipeline.path(volume))
    assert pipeline.usage() == {'volumes': 1, 'gigabytes': 1}
    pipeline.check_invariants()


def test_capacity_runs_out_across_concurrent_creates(pipeline):
    pipeline.use_backends(small={'volume_driver': 'file',
                                 'total_capacity_gb': 3})
    results = []

    def create():
        results.append(pipeline.create(wait=False))

    threads = [threading.Thread(target=create) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    volumes = [pipeline.api.wait(pipeline.ctx, v['id'], TIMEOUT)
               for v in results]
    statuses = sorted(v['status'] for v in volumes)
    assert statuses == ['available'] * 3 + ['error'] * 2
    for volume in volumes:
        if volume['status'] == 'error':
            # Refused by the filter, or by the claim when another create
            # took the last gigabyte between the two.
            assert re.search(r"'small': 0G free( once claimed by others)?, "
                             r"1G requested", volume['reason'])
            assert not os.path.exists(pipeline.path(volume, 'small'))
    pipeline.check_invariants()
    # Deleting one frees its gigabyte for the next create.
    freed = next(v for v in volumes if v['status'] == 'available')
    pipeline.api.delete(pipeline.ctx, freed['id'])
    assert pipeline.create()['status'] == 'available'
    pipeline.check_invariants()


def test_a_forced_delete_during_creation_leaves_nothing(pipeline):
    pipeline.use_backends(slow={'volume_driver': 'fake',
                                'fake_latency': 0.05})
    volume = pipeline.create(wait=False)
    admin = volflow_context.RequestContext(user_id='u1', project_id='p1',
                                           is_admin=True)
    pipeline.api.delete(admin, volume['id'], force=True)
    pipeline.check_invariants()
    assert pipeline.db.volume_get_all(pipeline.admin) == []
    assert local.get_driver('slow').volumes == {}
    assert pipeline.usage() == {'volumes': 0, 'gigabytes': 0}


def test_parallel_engine_with_many_concurrent_creates(pipeline):
    """Flows run by the in-process rpc never starve the shared executor.

    The API flows' tasks and the scheduler and manager flows share the
    process-wide executor; more concurrent creates than it has workers
    must all finish.
    """
    pipeline.override('engine', 'parallel', group='taskflow')
    pipeline.override('quota_volumes', -1)
    pipeline.use_backends(fast={'volume_driver': 'fake'})
    workers = volflow_conf.CONF.taskflow.max_workers
    results = []

    def create():
        results.append(pipeline.create(wait=False))

    threads = [threading.Thread(target=create, daemon=True)
               for _ in range(2 * workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert len(results) == 2 * workers
    volumes = [pipeline.api.wait(pipeline.ctx, v['id'], TIMEOUT)
               for v in results]
    assert {v['status'] for v in volumes} == {'available'}
    pipeline.check_invariants()


class _ForeignWrites:
    """Counts progress writes into a storage whose engine is not running.

    Each engine runs in one thread (serial engines); a write into an
    engine's storage from a thread running another engine is a write
    that engine did not make: taskflow registers an engine's progress
    callback on the task object's own notifier, so task objects shared
    between engines deliver one engine's progress to all of them.
    """

    def __init__(self, monkeypatch):
        self.running = threading.local()
        self.foreign = 0
        self.writes = 0
        self.engines = []
        self._lock = threading.Lock()
        real_run = engine_module.ActionEngine.run
        real_set = storage_module.Storage.set_task_progress
        counter = self

        def run(engine, *args, **kwargs):
            outer = getattr(counter.running, 'storage', None)
            counter.running.storage = engine.storage
            with counter._lock:
                counter.engines.append(engine)
            try:
                return real_run(engine, *args, **kwargs)
            finally:
                counter.running.storage = outer

        def set_task_progress(storage, *args, **kwargs):
            with counter._lock:
                counter.writes += 1
                if getattr(counter.running, 'storage', None) is not storage:
                    counter.foreign += 1
            return real_set(storage, *args, **kwargs)

        monkeypatch.setattr(engine_module.ActionEngine, 'run', run)
        monkeypatch.setattr(storage_module.Storage, 'set_task_progress',
                            set_task_progress)


def test_concurrent_engines_share_no_task_and_write_only_their_own(
        pipeline, monkeypatch):
    pipeline.override('engine', 'serial', group='taskflow')
    pipeline.override('quota_volumes', 100)
    pipeline.create()  # whatever a first create builds and keeps
    # Its volume is available before its manager flow has ended: count
    # nothing of that flow.
    assert local.wait_idle(TIMEOUT)
    writes = _ForeignWrites(monkeypatch)
    count = 40
    barrier = threading.Barrier(count)

    def create(_index):
        barrier.wait()
        return pipeline.create(wait=False)

    with futures.ThreadPoolExecutor(count) as pool:
        volumes = list(pool.map(create, range(count)))
    for volume in volumes:
        assert pipeline.api.wait(pipeline.ctx, volume['id'],
                                 TIMEOUT)['status'] == 'available'
    pipeline.check_invariants()
    # Three flows a volume, each its own engine with its own tasks.
    assert len(writes.engines) == 3 * count
    assert writes.writes >= 2 * 13 * count  # 0.0 and 1.0, every task
    assert writes.foreign == 0
    seen = {}
    for engine in writes.engines:
        for atom in engine.compilation.execution_graph:
            assert seen.setdefault(id(atom), engine) is engine
