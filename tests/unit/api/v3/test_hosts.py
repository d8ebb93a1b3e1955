"""``os-hosts`` and ``capabilities/{host}``: Tempest's schemas, admin only."""

from tests.unit.api import conftest
from tests.unit.api import schema

AV3 = '/v3/admin'
ADMIN = 'admin:admin'


def test_hosts_list_and_show(client):
    hosts = schema.conforms(client.get(AV3 + '/os-hosts', token=ADMIN),
                            'hosts', 'list_hosts')['hosts']
    assert len(hosts) >= 2
    volume_hosts = [h['host_name'] for h in hosts
                    if h['service'] == 'cinder-volume']
    assert volume_hosts
    shown = schema.conforms(client.get(f'{AV3}/os-hosts/{volume_hosts[0]}',
                                       token=ADMIN), 'hosts', 'show_host')
    assert shown['host'][0]['resource']['project'] == '(total)'
    missing = client.get(AV3 + '/os-hosts/nowhere', token=ADMIN)
    assert conftest.fault(missing)[0] == 'itemNotFound'
    assert conftest.fault(client.get('/v3/p1/os-hosts'))[0] == 'forbidden'


def test_capabilities_match_the_pools(client):
    pools = client.get(AV3 + '/scheduler-stats/get_pools?detail=True',
                       token=ADMIN).json['pools']
    for pool in pools:
        host = pool['name'].split('#')[0]
        shown = schema.conforms(client.get(f'{AV3}/capabilities/{host}',
                                           token=ADMIN),
                                'capabilities', 'show_backend_capabilities')
        for key in ('vendor_name', 'volume_backend_name',
                    'storage_protocol'):
            assert shown[key] == pool['capabilities'][key], key
    missing = client.get(AV3 + '/capabilities/nowhere', token=ADMIN)
    assert conftest.fault(missing)[0] == 'itemNotFound'
    denied = client.get('/v3/p1/capabilities/local')
    assert conftest.fault(denied)[0] == 'forbidden'
