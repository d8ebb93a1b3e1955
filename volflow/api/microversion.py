"""Microversions: ``OpenStack-API-Version: volume 3.X``, 3.0 to 3.60.

The version a request asks for is read with microversion-parse; none
means the minimum, ``latest`` the maximum. One outside the range is
refused with 406 and Cinder's message, naming the range. Every response
of the v3 API says which version served it.

What changes with the version (as in Cinder): ``group_id`` from 3.13,
``provider_id`` (admins) from 3.21, ``service_uuid`` and
``shared_targets`` from 3.48 in volume views; ``group_snapshot_id`` from
3.14 and ``user_id`` from 3.41 in snapshot views.
"""

import microversion_parse

from volflow.api import faults

SERVICE_TYPE = 'volume'
HEADER = 'OpenStack-API-Version'
MIN_VERSION = microversion_parse.Version(3, 0)
MAX_VERSION = microversion_parse.Version(3, 60)
ENVIRON_KEY = 'volflow.api_version'


def text(version):
    """``'3.X'``."""
    return f'{version.major}.{version.minor}'


def _bad_version(requested):
    return faults.HTTPError(
        406, f'Version {requested} is not supported by the API. Minimum '
             f'is {text(MIN_VERSION)} and maximum is {text(MAX_VERSION)}.')


def from_headers(headers):
    """The version a request asks for; 406 if it cannot be served."""
    try:
        requested = microversion_parse.get_version(
            headers, service_type=SERVICE_TYPE)
    except (TypeError, ValueError):
        raise faults.HTTPError(
            400, 'Invalid OpenStack-API-Version header: it must be '
                 '"volume 3.X".')
    if requested is None:
        return MIN_VERSION
    if requested.strip().lower() == 'latest':
        return MAX_VERSION
    try:
        version = microversion_parse.parse_version_string(requested)
    except (TypeError, ValueError):
        raise faults.HTTPError(
            400, f'API Version String {requested} is of invalid format. '
                 f'Must be of format MajorNum.MinorNum.')
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise _bad_version(requested)
    return version


def of(req):
    """The version the request is being served at."""
    return req.environ.get(ENVIRON_KEY, MIN_VERSION)


def at_least(req, major, minor):
    """True when the request's version is at least ``major.minor``."""
    return of(req) >= microversion_parse.Version(major, minor)


def stamp(response, version):
    """Say which version served ``response``."""
    response.headers[HEADER] = f'{SERVICE_TYPE} {text(version)}'
    response.headers.add('Vary', HEADER)
    return response
