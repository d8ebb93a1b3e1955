"""``GET /extensions``."""

from tests.unit.api import schema


def test_extensions_conform_and_name_hosts(client):
    response = client.get('/v3/p1/extensions')
    extensions = schema.conforms(response, 'extensions',
                                 'list_extensions')['extensions']
    names = [extension['name'] for extension in extensions]
    assert 'Hosts' in names and 'Quotas' in names
    assert len(set(names)) == len(names)
