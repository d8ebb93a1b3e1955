"""Check a response against Tempest's schema for it, as Tempest does.

``conforms(response, 'volumes', 'show_volume')`` asserts that the webob
``response`` has one of the schema's status codes and a body valid under
``tempest.lib.api_schema.response.volume.volumes.show_volume`` (none when
the schema has none), with Tempest's validator and format checkers. The
schema is the newest ``v3_<N>`` one with N at most the microversion that
served the response, else the base module's: how Tempest's clients pick.
"""

import importlib
import pkgutil

import jsonschema
from tempest.lib.api_schema.response import volume as volume_schemas
from tempest.lib.common import jsonschema_validator


def schema_for(module, name, version):
    minor = int(version.split('.')[1])
    packages = sorted(
        (int(info.name[3:]), info.name)
        for info in pkgutil.iter_modules(volume_schemas.__path__)
        if info.ispkg and info.name.startswith('v3_'))
    for package_minor, package in reversed(packages):
        if package_minor > minor:
            continue
        try:
            versioned = importlib.import_module(
                f'{volume_schemas.__name__}.{package}.{module}')
        except ImportError:
            continue
        if hasattr(versioned, name):
            return getattr(versioned, name)
    return getattr(importlib.import_module(
        f'{volume_schemas.__name__}.{module}'), name)


def conforms(response, module, name):
    """Assert ``response`` is valid under Tempest's schema; its body."""
    version = response.headers['OpenStack-API-Version'].split()[-1]
    schema = schema_for(module, name, version)
    assert response.status_code in schema['status_code'], (
        name, response.status_code, response.body[:500])
    body_schema = schema.get('response_body')
    if body_schema is None:
        assert not response.body, (name, response.body[:500])
        return None
    body = response.json
    jsonschema.validate(body, body_schema,
                        cls=jsonschema_validator.JSONSCHEMA_VALIDATOR,
                        format_checker=jsonschema_validator.FORMAT_CHECKER)
    return body
