"""Every refusal of the command line's create is a Cinder 4xx over HTTP.

The cases are the command line's own (``tests/functional/
test_cli_refusals.py``). Each is parsed by the command line's parser and
turned into ``API.create`` arguments by the command line's own code; the
same request is then sent as Cinder's body, and refused with the message
``API.create`` gives the command line, and nothing changes. The two
refusals the command line makes before calling the API (a missing size, a
``--metadata`` without ``=``) have their HTTP counterparts.
"""

import argparse

import pytest

from tests.functional import test_cli_refusals as cli_cases
from tests import fuzz_world as world
from tests import invariants
from tests.unit.api import conftest as api_fixtures
from volflow.cmd import _create
from volflow.cmd import _parsers
from volflow import exception

SOURCES = {
    'own_volume': world.VOLUMES['own'],
    'own_snapshot': world.SNAPSHOTS['own'],
    'other_volume': world.VOLUMES['other'],
    'other_snapshot': world.SNAPSHOTS['other'],
}

#: Refused by the command line itself, before the API.
BEFORE_THE_API = {
    'size missing': ({'name': 'sizeless'}, ['size']),
    'metadata without =': ({'size': 1, 'metadata': 'lonely'},
                           ["'lonely'", 'metadata']),
}


def _cli_args(name):
    argv, _named = cli_cases.CASES[name]
    parser = argparse.ArgumentParser()
    _parsers.add_parsers(parser.add_subparsers(dest='command'))
    return parser.parse_args(['create'] + [arg.format(**SOURCES)
                                           for arg in argv])


def _cli_request(name):
    return _create._request(_cli_args(name))


def _body(request):
    volume = {
        'size': request['size'], 'name': request['name'],
        'description': request['description'],
        'snapshot_id': request['snapshot'],
        'source_volid': request['source_volume'],
        'imageRef': request['image_id'],
        'volume_type': request['volume_type'],
        'metadata': request['metadata'],
        'availability_zone': request['availability_zone'],
    }
    return {'volume': {key: value for key, value in volume.items()
                       if value is not None}}


def _api_message(conf, tmp_path, request):
    """What ``API.create`` says to the command line for ``request``."""
    db_api = world.build_world(conf)
    api = world.make_api(db_api, conf, str(tmp_path / 'cli-images'))
    with pytest.raises(exception.VolflowException) as refused:
        _create._call_create(api, world.OWN, request)
    return str(refused.value)


def _check_refused(client, body, named):
    before = invariants.state(client.db, world.PROJECTS)
    response = client.post('/v3/p1/volumes', body)
    assert 400 <= response.status_code < 500, response.body
    kind, message = api_fixtures.fault(response)
    assert kind in ('badRequest', 'itemNotFound', 'overLimit'), kind
    for value in named:
        assert value.format(**SOURCES) in message, message
    assert invariants.state(client.db, world.PROJECTS) == before
    invariants.assert_invariants(client.db, world.PROJECTS)
    return message


#: Refusals of the server's configuration, not of the request.
CONFIGURATION = {'default type missing'}


@pytest.mark.parametrize('name', sorted(set(cli_cases.CASES) -
                                        set(BEFORE_THE_API) -
                                        CONFIGURATION))
def test_cli_refusal_is_the_same_refusal_over_http(client, conf, tmp_path,
                                                   name):
    request = _cli_request(name)
    message = _check_refused(client, _body(request),
                             cli_cases.CASES[name][1])
    assert message == _api_message(conf, tmp_path, request)


@pytest.mark.parametrize('name', sorted(BEFORE_THE_API))
def test_cli_only_refusal_has_an_http_counterpart(client, name):
    # A usage error (exit 2) or a refusal (exit 1), before the API.
    if _create.usage_error(_cli_args(name)) is None:
        with pytest.raises(exception.InvalidInput):
            _cli_request(name)
    volume, named = BEFORE_THE_API[name]
    _check_refused(client, {'volume': volume}, named)


def test_a_missing_default_type_is_the_server_s_fault(client, conf_override):
    """Cinder's VolumeTypeDefaultMisconfiguredError: a 500 that says why."""
    conf_override('default_volume_type', 'missing')
    before = invariants.state(client.db, world.PROJECTS)
    response = client.post('/v3/p1/volumes', {'volume': {'size': 1}})
    assert response.status_code == 500, response.body
    kind, message = api_fixtures.fault(response)
    assert kind == 'computeFault'
    assert "Default volume type 'missing'" in message
    assert 'default_volume_type' in message
    assert invariants.state(client.db, world.PROJECTS) == before
