"""Version discovery bodies, checked against Tempest's schemas."""

from tests.unit.api import schema


def test_root_conforms(client):
    response = client.get('/', token=None)
    body = schema.conforms(response, 'versions', 'list_versions',
                           version='3.0')
    assert 'v3.0' in [v['id'] for v in body['versions']]


def test_v3_document_conforms(client):
    response = client.get('/v3/', token=None)
    schema.conforms(response, 'versions', 'volume_api_version_details',
                    version='3.0')
