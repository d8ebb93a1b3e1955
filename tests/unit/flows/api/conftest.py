"""Fixtures of the API flow tests: a seeded in-memory db and a world.

``env.create(...)`` runs the API flow the way :class:`volflow.volume.api.API`
does, through ``get_flow`` and ``engines.run_engine``, but with the
availability zones of the test and injected collaborators. The scheduler
rpcapi stands for the rest of the pipeline: it records the cast and marks
the volume ``available``, so that the invariant "no volume stays in
``creating`` once its flows have ended" can be checked after each test.
"""

import logging

import pytest

from tests import rpcapis
from volflow import context as volflow_context
from volflow import engines
from volflow.flows.api import create_volume
from volflow.image import fake as fake_image
from volflow.volume import api as volume_api

LOG = logging.getLogger('tests.flows.api')

GiB = 1024 ** 3


def store(ctx, size=1, name='vol', description=None, snapshot=None,
          image_id=None, volume_type=None, metadata=None,
          availability_zone=None, source_volume=None):
    """The API flow's store, as ``API.create`` builds it."""
    return {
        'context': ctx,
        'raw_size': size,
        'name': name,
        'description': description,
        'snapshot': snapshot,
        'image_id': image_id,
        'raw_volume_type': volume_type,
        'metadata': metadata,
        'raw_availability_zone': availability_zone,
        'source_volume': source_volume,
    }


class Env:
    """One project's view of a fresh deployment with two zones."""

    def __init__(self, conf, db_api, image_service, ctx, other_ctx):
        self.conf = conf
        self.db = db_api
        self.image_service = image_service
        self.ctx = ctx
        self.other_ctx = other_ctx
        self.azs = ['az2', 'nova']
        self.scheduler = rpcapis.Scheduler(db_api)
        self.volume_rpc = rpcapis.UnusedVolumeRpc()

    def engine(self, ctx=None, db_api=None, image_service=None,
               scheduler=None, **request):
        """The API flow's engine for ``request``, loaded, not run."""
        return create_volume.get_flow(
            db_api or self.db, image_service or self.image_service,
            self.azs, store(ctx or self.ctx, **request),
            scheduler_rpcapi=scheduler or self.scheduler,
            volume_rpcapi=self.volume_rpc, conf=self.conf)

    def create(self, **request):
        """Run the API flow; return the volume as the db now has it."""
        engine = self.engine(**request)
        engines.run_engine(engine, logger=LOG)
        volume = engine.storage.fetch('volume')
        return self.db.volume_get(request.get('ctx') or self.ctx,
                                  volume['id'])

    def api(self):
        return volume_api.API(db_api=self.db,
                              image_service=self.image_service,
                              scheduler_rpcapi=self.scheduler,
                              volume_rpcapi=self.volume_rpc,
                              conf=self.conf)

    def usage(self, ctx=None):
        ctx = ctx or self.ctx
        return self.db.quota_usage_get_all(ctx, ctx.project_id)


@pytest.fixture
def ctx():
    return volflow_context.RequestContext(user_id='u1', project_id='p1')


@pytest.fixture
def other_ctx():
    return volflow_context.RequestContext(user_id='u2', project_id='p2')


@pytest.fixture
def image_service(db_api, tmp_path):
    return fake_image.FakeImageService(db_api, str(tmp_path / 'images'))


@pytest.fixture
def env(conf, db_api, image_service, ctx, other_ctx):
    return Env(conf, db_api, image_service, ctx, other_ctx)


def _image(env, name, ctx=None, **values):
    values.setdefault('size', GiB)
    values.setdefault('status', 'active')
    ctx = ctx or env.ctx
    return env.db.image_create(ctx, dict(values, name=name,
                                         project_id=ctx.project_id))


@pytest.fixture
def world(env):
    """Types, volumes, snapshots and images the requests refer to.

    Everything is made through the API flow, so quota usage is consistent
    from the start. Values are records, refreshed at build time.
    """
    db, ctx = env.db, env.ctx
    admin = volflow_context.get_admin_context()
    for name, specs in (
            ('gold', {}),
            ('silver', {}),
            ('bounded', {'provisioning:min_vol_size': '2',
                         'provisioning:max_vol_size': '5'}),
            ('multi', {'multiattach': '<is> True'}),
            ('zoned', {'RESKEY:availability_zones': 'az2'}),
            ('nowhere', {'RESKEY:availability_zones': 'az7, az8'})):
        db.volume_type_create(admin, name, specs)
    vapi = env.api()
    w = {}
    w['source'] = env.create(size=3, name='source', volume_type='silver')
    w['source_az2'] = env.create(size=1, name='source-az2',
                                 availability_zone='az2')
    snap_volume = env.create(size=3, name='snapped', volume_type='gold')
    w['snap'] = vapi.create_snapshot(ctx, snap_volume['id'], name='snap')
    broken = env.create(size=1, name='broken')
    w['broken'] = db.volume_update(ctx, broken['id'], {'status': 'error'})
    bad_snap = vapi.create_snapshot(ctx, snap_volume['id'], name='bad')
    w['bad_snap'] = db.snapshot_update(ctx, bad_snap['id'],
                                       {'status': 'error'})
    w['img'] = _image(env, 'img')
    w['img_queued'] = _image(env, 'queued', status='queued')
    w['img_big'] = _image(env, 'big', size=3 * GiB + 1)
    w['img_mindisk'] = _image(env, 'mindisk', min_disk=5)
    w['img_typed'] = _image(env, 'typed', properties={'volume_type': 'gold'})
    w['img_other'] = _image(env, 'private', ctx=env.other_ctx)
    w['other_vol'] = env.create(ctx=env.other_ctx, size=1, name='theirs')
    w['other_snap'] = vapi.create_snapshot(env.other_ctx,
                                           w['other_vol']['id'])
    w['types'] = {t['name']: t for t in db.volume_type_get_all(admin)}
    return w
