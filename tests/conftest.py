"""Fixtures and helpers shared by every test directory."""

import os
import uuid

import pytest

from tests.fixtures import postgres
from tests.fixtures import rabbitmq
from tests.fixtures import redis as redis_fixture
from volflow import conf as volflow_conf


def in_ci():
    """True under continuous integration (``CI=true``)."""
    return os.environ.get('CI', '').lower() == 'true'


def skip_or_fail(reason):
    """Skip a test whose prerequisite is missing; in CI, fail instead.

    CI machines are set up to run everything, so a missing prerequisite
    there is a broken setup, not a reason to go green.
    """
    if in_ci():
        pytest.fail(f'{reason} (CI=true: prerequisites must be installed)',
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope='session')
def postgres_url():
    """URL of a database on a throwaway PostgreSQL server (one a session).

    Tests that need a database of their own create it with
    ``tests.fixtures.postgres.create_database(postgres_url, name)``.
    """
    try:
        server = postgres.Server()
    except postgres.Unavailable as exc:
        reason = f'PostgreSQL is not available: {exc}'
    else:
        reason = None
    if reason:
        skip_or_fail(reason)
    try:
        yield server.start().url
    finally:
        server.stop()


@pytest.fixture(scope='session')
def rabbitmq_url():
    """Transport URL of a throwaway RabbitMQ node (one a session)."""
    try:
        server = rabbitmq.Server()
    except rabbitmq.Unavailable as exc:
        reason = f'RabbitMQ is not available: {exc}'
    else:
        reason = None
    if reason:
        skip_or_fail(reason)
    try:
        yield server.start().url
    finally:
        server.stop()


@pytest.fixture(scope='session')
def redis_server():
    """A throwaway Redis server (one a session): ``.host``, ``.port``.

    It requires ``.password``. Tests keep out of each other's way with a
    jobboard namespace each.
    """
    try:
        server = redis_fixture.Server(password=f'Rd-{uuid.uuid4().hex}')
    except redis_fixture.Unavailable as exc:
        reason = f'Redis is not available: {exc}'
    else:
        reason = None
    if reason:
        skip_or_fail(reason)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def conf_override():
    """``override(name, value, group=None)``; cleared after the test."""
    conf = volflow_conf.load()
    done = []

    def override(name, value, group=None):
        conf.set_override(name, value, group=group)
        done.append((name, group))

    yield override
    for name, group in reversed(done):
        conf.clear_override(name, group=group)


@pytest.fixture
def conf(conf_override, tmp_path):
    """volflow's CONF with ``state_path`` in the test's own directory."""
    conf_override('state_path', str(tmp_path / 'state'))
    return volflow_conf.CONF
