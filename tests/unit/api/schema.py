"""Check a response against Tempest's schema for it, as Tempest does.

``conforms(response, 'quotas', 'show_quota_set')`` asserts that the
webob ``response`` has one of the schema's status codes and a body (or
none, when the schema has no body) valid under
``tempest.lib.api_schema.response.volume.quotas.show_quota_set``, with
Tempest's own validator and format checkers. The microversion is the
one the response says served it (``OpenStack-API-Version``) unless
``version`` is given: the schema is the one of the newest
``v3_<N>`` module with N at most that microversion defining it, else
the base module's, which is how Tempest's clients pick theirs.
"""

import importlib
import pkgutil

import jsonschema
from tempest.lib.api_schema.response import volume as volume_schemas
from tempest.lib.common import jsonschema_validator

_BASE = volume_schemas.__name__


def _minor(version):
    major, _sep, minor = version.partition('.')
    assert major == '3', f'not a 3.x microversion: {version}'
    return int(minor)


def _versioned_packages():
    """``[(minor, package name)]`` of the ``v3_<N>`` packages, newest first."""
    found = []
    for module in pkgutil.iter_modules(volume_schemas.__path__):
        if module.ispkg and module.name.startswith('v3_'):
            found.append((int(module.name[3:]), module.name))
    return sorted(found, reverse=True)


def schema_for(module, name, version='3.0'):
    """Tempest's schema ``module.name`` for microversion ``version``."""
    minor = _minor(version)
    for package_minor, package in _versioned_packages():
        if package_minor > minor:
            continue
        try:
            versioned = importlib.import_module(
                f'{_BASE}.{package}.{module}')
        except ImportError:
            continue
        if hasattr(versioned, name):
            return getattr(versioned, name)
    return getattr(importlib.import_module(f'{_BASE}.{module}'), name)


def served_version(response):
    """The microversion a volflow response says served it."""
    header = response.headers.get('OpenStack-API-Version', 'volume 3.0')
    return header.split()[-1]


def conforms(response, module, name, version=None):
    """Assert ``response`` is valid under Tempest's schema; return body."""
    schema = schema_for(module, name, version or served_version(response))
    assert response.status_code in schema['status_code'], (
        f'{module}.{name}: status {response.status_code}, expected one of '
        f'{schema["status_code"]}: {response.body[:500]!r}')
    body_schema = schema.get('response_body')
    if body_schema is None:
        assert not response.body, (
            f'{module}.{name}: a body where none is expected: '
            f'{response.body[:500]!r}')
        return None
    body = response.json
    jsonschema.validate(body, body_schema,
                        cls=jsonschema_validator.JSONSCHEMA_VALIDATOR,
                        format_checker=jsonschema_validator.FORMAT_CHECKER)
    return body
