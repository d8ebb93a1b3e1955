"""What the fuzz tests share: a small deployment, odd values, settings.

:func:`build_world` makes a fresh in-memory deployment in well under a
millisecond, so every example starts from the same state: two projects
(``p1``, ``p2``) with volumes, snapshots, private and public images, and
several volume types. The records have fixed ids (:data:`VOLUMES`...), so
that examples can name real records as well as made-up ones.

:func:`make_api` is a :class:`volflow.volume.api.API` on that world that
runs the API flow only: the rpc stand-ins finish what the scheduler and
the volume manager would (a volume becomes ``available``; a delete gives
the quota back), so the invariants hold after every example.

:data:`SHORT` and :data:`LONG` are the hypothesis settings of the default
run and of the ``slow`` run (``$VOLFLOW_FUZZ_EXAMPLES`` examples, 10,000
unless set). Examples are not stored (``database=None``); a failure
prints the example and a ``@reproduce_failure`` line.
"""

import collections
import contextlib
import logging
import os

import hypothesis
from hypothesis import strategies as st

from tests import rpcapis
from volflow import context as volflow_context
from volflow.db import fake as fake_db
from volflow.image import fake as fake_image
from volflow import quota
from volflow.volume import api as volume_api

GiB = 1024 ** 3

SHORT = hypothesis.settings(
    max_examples=200, deadline=None, database=None, print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.data_too_large])
LONG = hypothesis.settings(
    SHORT, max_examples=int(os.environ.get('VOLFLOW_FUZZ_EXAMPLES',
                                           '10000')))

OWN = volflow_context.RequestContext(user_id='u1', project_id='p1')
OWN_ADMIN = volflow_context.RequestContext(user_id='u1', project_id='p1',
                                           is_admin=True)
OTHER = volflow_context.RequestContext(user_id='u2', project_id='p2')
PROJECTS = ('p1', 'p2')


def _id(n):
    return f'00000000-0000-4000-8000-{n:012d}'


#: Records of the world, by role.
VOLUMES = {'own': _id(1), 'own_error': _id(2), 'other': _id(3)}
SNAPSHOTS = {'own': _id(11), 'own_error': _id(12), 'other': _id(13)}
IMAGES = {'own': _id(21), 'own_queued': _id(22), 'own_big': _id(23),
          'other': _id(24), 'public': _id(25)}
TYPES = {
    'gold': {},
    'bounded': {'provisioning:min_vol_size': '2',
                'provisioning:max_vol_size': '5'},
    'zoned': {'RESKEY:availability_zones': 'elsewhere'},
    'multi': {'multiattach': '<is> True'},
}
TYPE_NAMES = sorted(TYPES) + ['__DEFAULT__']


class TypeRef(collections.namedtuple('TypeRef', 'name by_id')):
    """A volume type of the world, passed by name or by id."""

    def resolve(self, db_api):
        vtype = db_api.volume_type_get_by_name(OWN_ADMIN, self.name)
        return vtype['id'] if self.by_id else vtype['name']


# Strategies ----------------------------------------------------------------
#: Strings that have broken parsers, paths, SQL and logs before.
NASTY = st.sampled_from([
    '', ' ', '\x00', 'a\x00b', '../../../etc/passwd', '/', '..', './x',
    'x' * 255, 'x' * 256, 'y' * 5000, "'); DROP TABLE volumes; --",
    '%s %(name)s {0}', '\u202egnp.exe', '\ufeff', '\n', 'a\nb\r\n',
    '\x1f', '1\x1c', '\udcff', 'a\udcffb', 'nova', '__DEFAULT__', 'None',
    'null', '-1', '0', '1',
    'password=s3cret', 'sqlite:////etc/passwd',
])
TEXT = st.one_of(st.text(max_size=30), NASTY,
                 st.text(min_size=250, max_size=300))


def maybe(strategy):
    """None or ``strategy``."""
    return st.one_of(st.none(), strategy)


@st.composite
def _mostly(draw, usual, odd):
    return draw(usual if draw(st.integers(0, 3)) else odd)


def mostly(usual, odd):
    """``usual`` three times out of four, else ``odd``.

    Most values are well-formed, so that a good share of the examples get
    past validation and reach the quota and the database.
    """
    return _mostly(usual, odd)


def ids_or_text(records, text=TEXT):
    """Mostly the id of a record of the world, else anything."""
    return mostly(st.sampled_from(sorted(records.values())),
                  st.one_of(text, st.uuids().map(str)))


# The world -----------------------------------------------------------------
class VolumeRpc(rpcapis.UnusedVolumeRpc):
    """Volume rpcapi standing for the volume manager's calls."""

    def __init__(self, db_api, conf):
        self.db = db_api
        self.conf = conf
        self.quota = quota.QuotaEngine(db_api, conf)

    def delete_volume(self, ctxt, volume):
        quota.finish_delete(self.db, self.quota, ctxt, volume)

    def create_snapshot(self, ctxt, volume, snapshot):
        """Nothing to copy: the world's volumes have no data."""

    def delete_snapshot(self, ctxt, volume, snapshot):
        quota.finish_snapshot_delete(self.db, self.quota, ctxt, snapshot,
                                     self.conf)

    def extend_volume(self, ctxt, volume, new_size, reservations):
        """No data to grow: the size and the quota move."""
        self.db.volume_update(ctxt.elevated(), volume['id'],
                              {'size': new_size, 'status': 'available'})
        self.quota.commit(ctxt, reservations)


def _volume(db_api, ctx, volume_id, size, status, type_id):
    db_api.volume_create(ctx, {
        'id': volume_id, 'size': size, 'status': status,
        'project_id': ctx.project_id, 'user_id': ctx.user_id,
        'volume_type_id': type_id, 'availability_zone': 'nova',
        'host': 'local'})


def _snapshot(db_api, ctx, snapshot_id, volume_id, size, status, type_id):
    db_api.snapshot_create(ctx, {
        'id': snapshot_id, 'volume_id': volume_id, 'volume_size': size,
        'status': status, 'project_id': ctx.project_id,
        'user_id': ctx.user_id, 'volume_type_id': type_id})


def _image(db_api, ctx, image_id, **values):
    values.setdefault('size', GiB)
    db_api.image_create(ctx, dict(values, id=image_id, name=image_id,
                                  project_id=ctx.project_id))


def build_world(conf, db_api=None):
    """A fresh deployment: what every example starts from.

    :param db_api: an empty database (default: a new in-memory fake).

    The records are inserted directly, then every usage row is created
    from them (a zero reservation, rolled back), as if they had been
    created through the API.
    """
    db_api = db_api or fake_db.FakeAPI()
    db_api.seed()
    for name, specs in TYPES.items():
        db_api.volume_type_create(OWN_ADMIN, name, specs)
    gold = db_api.volume_type_get_by_name(OWN, 'gold')['id']
    default = db_api.volume_type_get_by_name(OWN, '__DEFAULT__')['id']
    _volume(db_api, OWN, VOLUMES['own'], 2, 'available', gold)
    _volume(db_api, OWN, VOLUMES['own_error'], 1, 'error', default)
    _volume(db_api, OTHER, VOLUMES['other'], 1, 'available', default)
    _snapshot(db_api, OWN, SNAPSHOTS['own'], VOLUMES['own'], 2,
              'available', gold)
    _snapshot(db_api, OWN, SNAPSHOTS['own_error'], VOLUMES['own'], 2,
              'error', gold)
    _snapshot(db_api, OTHER, SNAPSHOTS['other'], VOLUMES['other'], 1,
              'available', default)
    _image(db_api, OWN, IMAGES['own'], min_disk=2)
    _image(db_api, OWN, IMAGES['own_queued'], status='queued')
    _image(db_api, OWN, IMAGES['own_big'], size=7 * GiB + 1)
    _image(db_api, OTHER, IMAGES['other'])
    _image(db_api, OTHER, IMAGES['public'], is_public=True,
           properties={'volume_type': 'gold'})
    engine = quota.QuotaEngine(db_api, conf)
    for ctx in (OWN, OTHER):
        deltas = {}
        for name in TYPE_NAMES:
            deltas.update(quota.type_resources(
                name, volumes=0, gigabytes=0, snapshots=0))
        engine.rollback(ctx, engine.reserve(ctx, ctx.project_id, deltas))
    return db_api


def make_api(db_api, conf, images_dir):
    """A volume API on ``db_api`` that runs the API flow only."""
    return volume_api.API(
        db_api=db_api,
        image_service=fake_image.FakeImageService(db_api, images_dir),
        scheduler_rpcapi=rpcapis.Scheduler(db_api),
        volume_rpcapi=VolumeRpc(db_api, conf), conf=conf)


class _Discard(logging.Handler):
    """Formats every record, as a real handler would, then drops it."""

    def emit(self, record):
        self.format(record)


@contextlib.contextmanager
def volflow_logs_formatted_and_dropped():
    """volflow's loggers at DEBUG, each record formatted, none kept.

    Logging stays on so that the flow listener formats and masks every
    odd value the fuzzing passes; nothing is kept, so thousands of
    examples cost no memory.
    """
    logger = logging.getLogger('volflow')
    level, propagate = logger.level, logger.propagate
    handler = _Discard()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
