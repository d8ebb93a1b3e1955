"""Fuzzing ``API.create``: only refusals escape, and they change nothing.

Every argument of :meth:`volflow.volume.api.API.create` is drawn from
what a careless or hostile caller could pass: sizes of every type (huge
ints, floats, NaN, strings, bools, None), names and descriptions with NUL,
path separators and thousands of characters, metadata with non-string and
over-long keys and values, unknown volume types, zones, snapshots, source
volumes and images - and, most of the time, the ids of real ones: the
caller's, another project's, or ones in a state that can't be used.

Each example starts from a fresh deployment (``tests.fuzz_world``) and
checks what a user would see:

* the call returns a volume or raises a ``VolflowException`` subclass,
  never anything else;
* a refused call changes nothing: no volume, no usage, no reservation;
* an accepted one adds exactly its volume, counted in the usage;
* the invariants (``tests/invariants.py``) hold afterwards.

The default run is short (in memory, and on in-memory SQLite); the ``slow``
run draws ``$VOLFLOW_FUZZ_EXAMPLES`` examples (10,000 unless set) in
memory.
"""

import re
import traceback

import hypothesis
from hypothesis import strategies as st
import pytest

from tests import fuzz_world as world
from tests import invariants
from volflow import conf as volflow_conf
from volflow.db.sqlalchemy import api as sql_api
from volflow import exception

#: Examples of the SQL run (each builds a fresh database: a few ms).
SQL_EXAMPLES = 50

#: Every character Python's regular expressions take for ``\s``.
WHITESPACE = [c for c in map(chr, range(0x3001)) if re.fullmatch(r'\s', c)]
#: A number with odd whitespace around it: ``int()`` takes fewer kinds.
SPACED_NUMBER = st.builds('{}{}{}'.format, st.sampled_from(WHITESPACE),
                          st.integers(min_value=-2, max_value=9),
                          st.sampled_from(WHITESPACE + ['']))
SIZE = st.one_of(
    SPACED_NUMBER,
    st.integers(min_value=-5, max_value=20),
    st.integers(),
    st.sampled_from([2 ** 31 - 1, 2 ** 31, 2 ** 63, 10 ** 100, -2 ** 63]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    world.TEXT,
    st.from_regex(r'\A\s{0,2}[-+]?[0-9]{1,25}\s{0,2}\Z'),
    st.sampled_from(['1', '01', ' 2 ', '1.0', '1e3', '0x10', '\u0661',
                     '1_000', '+1', '2\n', '1\x1f']),
)
GOOD_METADATA = st.dictionaries(
    st.one_of(st.text(min_size=1, max_size=20), world.NASTY),
    st.one_of(st.text(max_size=20), world.NASTY), max_size=3)
METADATA_KEY = st.one_of(st.text(max_size=20), world.NASTY, st.integers(),
                         st.none(), st.text(min_size=250, max_size=300))
METADATA_VALUE = st.one_of(st.text(max_size=20), world.NASTY,
                           st.integers(), st.floats(), st.none(),
                           st.booleans(),
                           st.lists(st.integers(), max_size=2),
                           st.text(min_size=250, max_size=300))
METADATA = st.one_of(
    st.dictionaries(METADATA_KEY, METADATA_VALUE, max_size=4),
    st.lists(st.text(max_size=5), max_size=2), st.text(max_size=10),
    st.integers(), st.booleans())
TYPE_REF = st.builds(world.TypeRef, st.sampled_from(world.TYPE_NAMES),
                     st.booleans())


@st.composite
def create_requests(draw):
    """``API.create`` arguments, each one odd now and then."""
    sources = draw(st.sampled_from(
        ['none'] * 6 + ['snapshot', 'source', 'image', 'several']))
    request = {
        'admin': draw(st.booleans()),
        'size': draw(world.mostly(st.integers(min_value=1, max_value=6),
                                  SIZE)),
        'name': draw(world.maybe(world.TEXT)),
        'description': draw(world.maybe(world.TEXT)),
        'metadata': draw(world.mostly(world.maybe(GOOD_METADATA),
                                      METADATA)),
        'volume_type': draw(world.mostly(world.maybe(TYPE_REF),
                                         world.TEXT)),
        'availability_zone': draw(world.mostly(
            world.maybe(st.just('nova')), world.TEXT)),
        'snapshot': None, 'source_volume': None, 'image_id': None,
    }
    if sources in ('snapshot', 'several'):
        request['snapshot'] = draw(world.ids_or_text(world.SNAPSHOTS))
    if sources in ('source', 'several'):
        request['source_volume'] = draw(world.ids_or_text(world.VOLUMES))
    if sources in ('image', 'several'):
        request['image_id'] = draw(world.ids_or_text(world.IMAGES))
    return request


def _call(api, db_api, request):
    request = dict(request)
    ctx = world.OWN_ADMIN if request.pop('admin') else world.OWN
    if isinstance(request['volume_type'], world.TypeRef):
        request['volume_type'] = request['volume_type'].resolve(db_api)
    return api.create(ctx, request.pop('size'), request.pop('name'),
                      request.pop('description'), **request)


def _usage(db_api, resource):
    return db_api.quota_usage_get_all(world.OWN_ADMIN, 'p1').get(
        resource, {}).get('in_use', 0)


def check_create(db_api, api, request):
    """One example: call ``create``, check what a user would see."""
    before = invariants.state(db_api, world.PROJECTS)
    volumes_before = _usage(db_api, 'volumes')
    gigabytes_before = _usage(db_api, 'gigabytes')
    try:
        volume = _call(api, db_api, request)
    except exception.VolflowException as exc:
        hypothesis.event(f'refused: {type(exc).__name__}')
        assert invariants.state(db_api, world.PROJECTS) == before
    except Exception:
        pytest.fail(f'create raised a non-volflow exception:\n'
                    f'{traceback.format_exc()}')
    else:
        hypothesis.event('created')
        # Returned as the API flow handed it over; finished meanwhile.
        assert (volume['status'], volume['project_id']) == ('creating',
                                                            'p1')
        volume = db_api.volume_get(world.OWN_ADMIN, volume['id'])
        assert volume['status'] == 'available'
        after = invariants.state(db_api, world.PROJECTS)
        added = set(after['volumes']) - set(before['volumes'])
        assert added == {(volume['id'], 'available', volume['size'])}
        assert set(before['volumes']) <= set(after['volumes'])
        assert _usage(db_api, 'volumes') == volumes_before + 1
        assert _usage(db_api, 'gigabytes') == (gigabytes_before +
                                               volume['size'])
    invariants.assert_invariants(db_api, world.PROJECTS)


@pytest.fixture
def conf(tmp_path):
    conf = volflow_conf.load()
    conf.set_override('state_path', str(tmp_path / 'state'))
    with world.volflow_logs_formatted_and_dropped():
        yield conf
    conf.clear_override('state_path')


def _fuzz(conf, images_dir, settings, new_db=lambda: None):
    @settings
    @hypothesis.given(request=create_requests())
    def run(request):
        db_api = world.build_world(conf, new_db())
        try:
            check_create(db_api, world.make_api(db_api, conf, images_dir),
                         request)
        finally:
            getattr(db_api, 'dispose', lambda: None)()

    run()


def test_create_only_refuses_and_refusals_change_nothing(conf, tmp_path):
    _fuzz(conf, str(tmp_path / 'images'), world.SHORT)


def test_create_on_sql_only_refuses_and_refusals_change_nothing(conf,
                                                                tmp_path):
    """The same on the SQL implementation (in-memory SQLite).

    What SQL can't store (NUL, undecodable text, huge numbers) must be
    refused there too, not fail.
    """
    _fuzz(conf, str(tmp_path / 'images'),
          hypothesis.settings(world.SHORT, max_examples=SQL_EXAMPLES),
          lambda: sql_api.SQLAPI('sqlite://'))


@pytest.mark.slow
def test_create_fuzz_long_run(conf, tmp_path):
    _fuzz(conf, str(tmp_path / 'images'), world.LONG)
