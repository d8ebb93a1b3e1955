"""A volflow deployment in this process, for the benchmarks.

One fake backend (``bench``) with configurable latency, a database chosen
per measurement, and the in-process rpc, all through the public API.
"""

import concurrent.futures
import contextlib
import shutil
import tempfile
import uuid

import sqlalchemy as sa

from volflow import conf as volflow_conf
from volflow.conf import backend as backend_conf
from volflow import context
from volflow import db as volflow_db
from volflow.db.sqlalchemy import models
from volflow import engines
from volflow import executor
from volflow.flows.api import create_volume
from volflow.rpc import local
from volflow.volume import api as volume_api
from volflow.volume import backends

CONF = volflow_conf.CONF
BACKEND = 'bench'
CTX = context.RequestContext(user_id='bench', project_id='bench')


def load_conf():
    volflow_conf.load()
    backend_conf.register_backend(CONF, BACKEND)


@contextlib.contextmanager
def sql_env(connection=None, prefix='volflow-b-'):
    """An :class:`Env` without latency on ``connection``, closed after.

    ``connection`` defaults to a SQLite file in a new state directory,
    removed afterwards.
    """
    state = tempfile.mkdtemp(prefix=prefix)
    env = Env(connection=connection or f'sqlite:///{state}/volflow.sqlite',
              latency=0.0, state_path=state)
    try:
        yield env
    finally:
        env.close()
        shutil.rmtree(state, ignore_errors=True)


class Env:
    """Configuration overrides plus a ready :class:`volume_api.API`."""

    #: The fake driver sleeps once per volume creation.
    driver_calls_per_create = 1

    def __init__(self, connection, latency, max_workers=16,
                 state_path=None):
        self.connection = connection
        self._state = state_path or tempfile.mkdtemp(prefix='volflow-b-')
        self._overrides = [
            ('state_path', self._state, None),
            ('connection', connection, 'database'),
            ('enabled_backends', [BACKEND], None),
            ('volume_driver', 'fake', BACKEND),
            ('fake_latency', latency, BACKEND),
            ('total_capacity_gb', 10 ** 7, BACKEND),
            ('max_workers', max_workers, 'taskflow'),
            ('quota_volumes', -1, None),
            ('quota_gigabytes', -1, None),
        ]
        for name, value, group in self._overrides:
            CONF.set_override(name, value, group=group)
        self.api = volume_api.API()
        self.db = self.api.db

    def close(self):
        local.reset()
        volflow_db.reset_apis()
        executor.shutdown()
        for name, _value, group in self._overrides:
            CONF.clear_override(name, group=group)

    def create_and_wait(self):
        """One create, until its three flows have ended.

        The volume is ``available`` a moment before its manager flow
        ends (the flow's last records): that tail is waited for too, as
        raw taskflow's baseline runs its flows to their end.
        """
        volume = self.api.create(CTX, 1, 'bench', None)
        volume = self.api.wait(CTX, volume['id'], 60)
        assert volume['status'] == 'available', volume
        assert local.wait_idle(60)

    def create_many(self, count, clients=16):
        """``count`` creates from ``clients`` threads; wait for them all."""
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            volumes = list(pool.map(
                lambda _n: self.api.create(CTX, 1, 'bench', None),
                range(count)))
        for volume in volumes:
            done = self.api.wait(CTX, volume['id'], 300)
            assert done['status'] == 'available', done
        assert local.wait_idle(300)

    def api_flow_only(self, db=None):
        """The API flow alone: real quota rows and a real volume row.

        :param db: the database API the flow's tasks call (default: the
            environment's).
        """
        store = {
            'context': CTX, 'raw_size': 1, 'name': 'bench',
            'description': None, 'snapshot': None, 'image_id': None,
            'raw_volume_type': None, 'metadata': None,
            'raw_availability_zone': None, 'source_volume': None,
            'optional_args': {'is_quota_committed': False},
        }
        engine = create_volume.get_flow(
            db or self.db, self.api.image_service,
            backends.availability_zones(), store)
        engines.run_engine(engine)

    def fill(self, count):
        """Put ``count`` available volumes in the database, in bulk."""
        vtype = self.db.volume_type_get_by_name(CTX, CONF.default_volume_type)
        rows = [{'id': str(uuid.uuid4()), 'name': f'filler-{n}', 'size': 1,
                 'status': 'available', 'project_id': CTX.project_id,
                 'user_id': CTX.user_id, 'volume_type_id': vtype['id'],
                 'host': BACKEND,
                 'availability_zone': CONF.storage_availability_zone}
                for n in range(count)]
        with self.db.engine.begin() as conn:
            conn.execute(sa.insert(models.Volume), rows)
