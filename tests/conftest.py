"""Fixtures and helpers shared by every test directory."""

import contextlib
import os
import uuid

import pytest

from tests.fixtures import mariadb
from tests.fixtures import postgres
from tests.fixtures import rabbitmq
from tests.fixtures import redis as redis_fixture
from volflow import conf as volflow_conf
from volflow import notifier


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


@contextlib.contextmanager
def running(module, what, **kwargs):
    """A started ``module.Server(**kwargs)``, stopped after the block.

    Skips the test (fails it under CI) when ``module`` says the server
    cannot run here (``module.Unavailable``).
    """
    try:
        server = module.Server(**kwargs)
    except module.Unavailable as exc:
        reason = f'{what} is not available: {exc}'
    else:
        reason = None
    if reason:
        skip_or_fail(reason)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope='session')
def postgres_url():
    """URL of a database on a throwaway PostgreSQL server (one a session).

    Tests that need a database of their own create it with
    ``tests.fixtures.postgres.create_database(postgres_url, name)``.
    """
    with running(postgres, 'PostgreSQL') as server:
        yield server.url


@pytest.fixture(scope='session')
def mariadb_url():
    """URL of a database on a throwaway MariaDB server (one a session).

    Tests that need a database of their own create it with
    ``tests.fixtures.mariadb.create_database(mariadb_url, name)``.
    """
    with running(mariadb, 'MariaDB') as server:
        yield server.url


@pytest.fixture(scope='session')
def rabbitmq_url():
    """Transport URL of a throwaway RabbitMQ node (one a session)."""
    with running(rabbitmq, 'RabbitMQ') as server:
        yield server.url


@pytest.fixture(scope='session')
def redis_server():
    """A throwaway Redis server (one a session): ``.host``, ``.port``.

    It requires ``.password``. Tests keep out of each other's way with a
    jobboard namespace each.
    """
    with running(redis_fixture, 'Redis',
                 password=f'Rd-{uuid.uuid4().hex}') as server:
        yield server


def _overrides(conf):
    """Every override and changed default of ``conf``, by option.

    oslo.config has no public listing of them, so this reads its option
    tables; a test helper, never product code.
    """
    found = {}
    tables = [(None, conf._opts)] + [(name, group._opts)
                                     for name, group in conf._groups.items()]
    for group, opts in tables:
        for name, info in opts.items():
            override = info.get('override')
            default = info.get('default')
            if override is not None or default is not None:
                found[(group, name)] = (repr(override), repr(default))
    return found


@pytest.fixture(autouse=True)
def _no_configuration_left_behind():
    """Fail a test that leaves an override or a default set.

    Tests run in a random order (pytest-randomly): a test that changes
    the process's configuration and does not restore it breaks whichever
    test runs next. Use :func:`conf_override`.
    """
    before = _overrides(volflow_conf.CONF)
    yield
    after = _overrides(volflow_conf.CONF)
    left = sorted(f'[{group or "DEFAULT"}] {name}'
                  for (group, name), value in after.items()
                  if before.get((group, name)) != value)
    if left:
        pytest.fail(f'the test left configuration behind: {", ".join(left)}',
                    pytrace=False)


@pytest.fixture
def conf_override():
    """``override(name, value, group=None)``; cleared after the test."""
    conf = volflow_conf.load()
    notifier.register_opts(conf)
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
