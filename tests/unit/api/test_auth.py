"""Authentication strategies and the WSGI entry point."""

import base64

import bcrypt
from keystonemiddleware import fixture as ksm_fixture
import pytest

from tests import fuzz_world as world
from tests.unit.api import conftest as api_fixtures
from volflow.api import wsgi
from volflow.conf import api as api_conf
from volflow import exception
from volflow import opts

fault = api_fixtures.fault
OWN = world.VOLUMES['own']


@pytest.fixture
def basic_client(conf, conf_override, tmp_path):
    htpasswd = tmp_path / 'htpasswd'
    lines = [f"{user}:{bcrypt.hashpw(password, bcrypt.gensalt(4)).decode()}"
             for user, password in (('p1', b'secret1'), ('admin', b'adm'))]
    htpasswd.write_text('\n'.join(lines) + '\n')
    conf_override('auth_strategy', 'http_basic', group='api')
    conf_override('http_basic_auth_user_file', str(htpasswd), group='api')
    return api_fixtures.build_client(conf, tmp_path)


def _basic(user, password):
    token = base64.b64encode(f'{user}:{password}'.encode()).decode()
    return {'Authorization': f'Basic {token}'}


def test_http_basic_lets_a_user_act_for_its_project(basic_client):
    response = basic_client.get(f'/v3/p1/volumes/{OWN}', token=None,
                                headers=_basic('p1', 'secret1'))
    assert response.status_code == 200
    assert 'os-vol-host-attr:host' not in response.json['volume']


@pytest.mark.parametrize('headers', [
    {}, _basic('p1', 'wrong'), _basic('nobody', 'x'),
    {'Authorization': 'Basic !!!'}, {'Authorization': 'Bearer x'}])
def test_http_basic_refuses_bad_credentials_with_401(basic_client,
                                                     headers):
    response = basic_client.get(f'/v3/p1/volumes/{OWN}', token=None,
                                headers=headers)
    assert response.status_code == 401
    assert fault(response)[0] == 'unauthorized'


def test_http_basic_ignores_caller_headers_a_client_sends(basic_client):
    headers = dict(_basic('p1', 'secret1'), **{
        'X-Roles': 'admin', 'X-Project-Id': 'p2'})
    response = basic_client.get(f"/v3/p1/volumes/{world.VOLUMES['other']}",
                                token=None, headers=headers)
    assert response.status_code == 404


def test_http_basic_admin(basic_client):
    response = basic_client.get('/v3/admin/scheduler-stats/get_pools',
                                token=None, headers=_basic('admin', 'adm'))
    assert response.status_code == 200


def test_http_basic_with_a_missing_file_refuses_to_start(conf, tmp_path,
                                                         conf_override):
    conf_override('auth_strategy', 'http_basic', group='api')
    conf_override('http_basic_auth_user_file', str(tmp_path / 'none'),
                  group='api')
    with pytest.raises(exception.ConfigError, match='none'):
        api_fixtures.build_client(conf, tmp_path)


@pytest.fixture
def keystone_client(conf, conf_override, tmp_path):
    conf_override('auth_strategy', 'keystone', group='api')
    conf_override('www_authenticate_uri', 'http://keystone.invalid/v3',
                  group='keystone_authtoken')
    with ksm_fixture.AuthTokenFixture() as tokens:
        tokens.add_token_data(token_id='tok-p1', user_id='u1',
                              project_id='p1', role_list=['member'])
        tokens.add_token_data(token_id='tok-admin', user_id='a',
                              project_id='admin', role_list=['admin'])
        yield api_fixtures.build_client(conf, tmp_path)


def test_keystone_tokens(keystone_client):
    client = keystone_client
    assert client.get(f'/v3/p1/volumes/{OWN}',
                      token='tok-p1').status_code == 200
    assert client.get(f"/v3/p1/volumes/{world.VOLUMES['other']}",
                      token='tok-p1').status_code == 404
    assert client.get('/v3/p2/volumes', token='tok-p1').status_code == 403
    assert client.get('/v3/admin/scheduler-stats/get_pools',
                      token='tok-admin').status_code == 200
    refused = client.get(f'/v3/p1/volumes/{OWN}', token='forged')
    assert refused.status_code == 401
    assert fault(refused)[0] == 'unauthorized'
    assert client.get('/v3/', token=None).status_code == 200


def test_noauth_token_forms(client):
    assert client.get(f'/v3/p1/volumes/{OWN}',
                      token='p1').status_code == 200
    assert client.get(f'/v3/p1/volumes/{OWN}',
                      token=None).status_code == 200
    assert client.get(f'/v3/p1/volumes/{OWN}',
                      token='u2:p2').status_code == 403


def test_api_options_are_listed_with_sentences():
    listed = {(getattr(group, 'name', group), opt.name)
              for group, group_opts in opts.list_opts()
              for opt in group_opts}
    for opt in api_conf.api_opts:
        assert ('api', opt.name) in listed
        assert opt.help.endswith('.')
    defaults = {opt.name: opt.default for opt in api_conf.api_opts}
    assert (defaults['bind_host'], defaults['bind_port'],
            defaults['auth_strategy'], defaults['max_request_body_size'],
            defaults['max_limit']) == ('127.0.0.1', 8776, 'noauth', 114688,
                                       1000)


def test_wsgi_entry_point_builds_on_first_request(conf, monkeypatch):
    monkeypatch.setenv('VOLFLOW_CONFIG_FILES', '')
    application = wsgi._Lazy()
    responses = []

    def start_response(status, headers, exc_info=None):
        responses.append(status)

    body = b''.join(application({'REQUEST_METHOD': 'GET', 'PATH_INFO': '/v3/',
                                 'SERVER_NAME': 'h', 'SERVER_PORT': '80',
                                 'wsgi.url_scheme': 'http'},
                                start_response))
    assert responses == ['200 OK'] and b'"3.60"' in body
    assert callable(wsgi.application)
