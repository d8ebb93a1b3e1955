"""Fuzzing the HTTP API in process: bodies, headers, tokens, paths.

Every example starts from a fresh ``tests.fuzz_world`` and sends one
request built from what a careless or hostile client could send: odd
JSON (or not JSON at all), bodies of the wrong shape, odd values in every
field of Cinder's create body, odd microversion and token headers, and
the ids of real records of the caller's project and another's. It checks
what a client sees:

* the status is 2xx or 4xx, never 5xx; every 4xx is a Cinder fault
  (``{"<kind>": {"message", "code"}}``) without a traceback;
* a refused request changes nothing (no volume, usage or reservation);
* the invariants (``tests/invariants.py``) hold afterwards.

The default run is short; the ``slow`` run draws
``$VOLFLOW_FUZZ_EXAMPLES`` examples (10,000 unless set).
"""

import json
import urllib.parse

import hypothesis
from hypothesis import strategies as st
import pytest

from tests import fuzz_world as world
from tests import invariants
from tests.unit.api import conftest as api_fixtures
from tests.unit import test_fuzz_api
from volflow.api import app

JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | world.TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        world.TEXT, inner, max_size=3), max_leaves=8)
FIELDS = {
    'size': test_fuzz_api.SIZE.filter(
        lambda value: not isinstance(value, float) or value == value),
    'name': world.maybe(world.TEXT),
    'description': world.maybe(world.TEXT),
    'volume_type': world.mostly(world.maybe(st.sampled_from(
        world.TYPE_NAMES)), JSON_VALUE),
    'availability_zone': world.mostly(world.maybe(st.just('nova')),
                                      JSON_VALUE),
    'snapshot_id': world.ids_or_text(world.SNAPSHOTS),
    'source_volid': world.ids_or_text(world.VOLUMES),
    'imageRef': world.ids_or_text(world.IMAGES),
    'metadata': world.mostly(world.maybe(test_fuzz_api.GOOD_METADATA),
                             JSON_VALUE),
    'multiattach': JSON_VALUE,
    'unknown': JSON_VALUE,
}
VOLUME = st.fixed_dictionaries({}, optional={
    key: value for key, value in FIELDS.items()})
BODY = st.one_of(
    st.builds(lambda volume: {'volume': volume}, VOLUME),
    st.builds(lambda volume, extra: {'volume': volume, **extra}, VOLUME,
              st.dictionaries(world.TEXT, JSON_VALUE, max_size=2)),
    JSON_VALUE)
RAW = st.one_of(
    BODY.map(lambda body: json.dumps(body).encode()),
    BODY.map(lambda body: json.dumps(body).encode()[:-1]),
    st.binary(max_size=40),
    st.just(b'{"volume": {"size": NaN}}'))
HEADERS = st.fixed_dictionaries({}, optional={
    'OpenStack-API-Version': st.one_of(
        st.sampled_from(['volume 3.0', 'volume 3.60', 'volume latest',
                         'volume 3.61', 'volume 2.0', 'compute 2.1',
                         'volume', '', 'volume 3.0, volume 3.1']),
        st.text(alphabet=st.characters(min_codepoint=32,
                                       max_codepoint=126), max_size=20)),
    'X-Roles': st.sampled_from(['', 'member', 'reader']),
    'Content-Type': st.sampled_from(['application/json', 'text/plain']),
})
TOKENS = st.sampled_from(['u1:p1', 'p1', None, 'u2:p2', ':', 'u1:',
                          ':p1', 'u1:p1:x'])
REQUESTS = st.one_of(
    st.tuples(st.just('POST'), st.just('/v3/p1/volumes'), RAW),
    st.tuples(st.just('POST'), st.just('/v3/p1/snapshots'), st.one_of(
        RAW, st.builds(lambda volume_id, name: json.dumps({'snapshot': {
            'volume_id': volume_id, 'name': name}}).encode(),
            world.ids_or_text(world.VOLUMES), world.maybe(world.TEXT)))),
    st.tuples(st.just('PUT'), st.just('/v3/p1/os-quota-sets/p1'), RAW),
    st.tuples(st.sampled_from(['GET', 'DELETE']), st.builds(
        lambda ref: '/v3/p1/volumes/' + urllib.parse.quote(
            ref.encode('utf-8', 'surrogatepass'), safe=''),
        world.ids_or_text(world.VOLUMES)),
        st.just(None)),
    st.tuples(st.just('GET'), st.builds(
        '/v3/p1/volumes/detail?{}'.format, st.sampled_from([
            'limit=1', 'limit=-1', 'sort=name:asc', 'sort=x', 'marker=x',
            'name=a', 'status=available', 'all_tenants=1', 'limit=abc'])),
        st.just(None)),
)


def check_request(client, method, path, raw, headers, token):
    before = invariants.state(client.db, world.PROJECTS)
    response = client.request(method, path, token=token, headers=headers,
                              raw=raw)
    status = response.status_code
    hypothesis.event(f'{method} {status}')
    assert status < 500, response.body
    if status >= 400:
        api_fixtures.fault(response)
        assert invariants.state(client.db, world.PROJECTS) == before
    invariants.assert_invariants(client.db, world.PROJECTS)


class _Current:
    """The volume API of the current example, behind one application.

    Building the application (policy, middleware) once per test, not per
    example, keeps the long run to a couple of minutes.
    """

    def __init__(self):
        self.api = None

    def __getattr__(self, name):
        return getattr(self.api, name)


def _fuzz(conf, tmp_path, settings):
    current = _Current()
    current.api = world.make_api(world.build_world(conf), conf,
                                 str(tmp_path / 'images'))
    application = app.build(conf, api=current)

    @settings
    @hypothesis.given(request=REQUESTS, headers=HEADERS, token=TOKENS)
    def run(request, headers, token):
        db_api = world.build_world(conf)
        current.api = world.make_api(db_api, conf, str(tmp_path / 'images'))
        method, path, raw = request
        check_request(api_fixtures.Client(application, db_api), method,
                      path, raw, headers, token)

    with world.volflow_logs_formatted_and_dropped():
        run()


def test_http_only_answers_2xx_or_cinder_faults(conf, tmp_path):
    _fuzz(conf, tmp_path, world.SHORT)


@pytest.mark.slow
def test_http_fuzz_long_run(conf, tmp_path):
    _fuzz(conf, tmp_path, world.LONG)
