"""The database fixture of the db tests: each implementation, fresh."""

import uuid

import pytest

from tests.fixtures import mariadb
from tests.fixtures import postgres
from volflow import context
from volflow.db import fake
from volflow.db.sqlalchemy import api as sql_api
from volflow.db.sqlalchemy import models


def _server_api(request, server, module):
    server_url = request.getfixturevalue(server)
    name = f'db_{uuid.uuid4().hex[:12]}'
    db = sql_api.SQLAPI(module.create_database(server_url, name))
    yield db
    db.dispose()
    module.drop_database(server_url, name)


@pytest.fixture(scope='module')
def _pg_api(request):
    """One PostgreSQL database a module, emptied before each test."""
    yield from _server_api(request, 'postgres_url', postgres)


@pytest.fixture(scope='module')
def _mysql_api(request):
    """One MariaDB database a module, emptied before each test."""
    yield from _server_api(request, 'mariadb_url', mariadb)


def _fresh(request, tmp_path):
    """A fresh, empty database of the kind ``request.param`` names."""
    if request.param == 'memory':
        yield fake.FakeAPI()
    elif request.param == 'sqlite':
        # A directory that does not exist yet, like a fresh state_path.
        db = sql_api.SQLAPI(f'sqlite:///{tmp_path}/state/volflow.sqlite')
        yield db
        db.dispose()
    else:
        db = request.getfixturevalue(
            '_pg_api' if request.param == 'postgresql' else '_mysql_api')
        db.quota_get_all(context.get_admin_context(), 'none')  # the schema
        with db.engine.begin() as conn:
            for table in reversed(models.Base.metadata.sorted_tables):
                conn.execute(table.delete())
        yield db


@pytest.fixture(params=['memory', 'sqlite', 'postgresql', 'mysql'])
def db(request, tmp_path):
    """A fresh, empty database of each kind."""
    yield from _fresh(request, tmp_path)


@pytest.fixture(params=['sqlite', 'postgresql', 'mysql'])
def sql_db(request, tmp_path):
    """A fresh, empty SQL database of each kind."""
    yield from _fresh(request, tmp_path)


@pytest.fixture(params=['sqlite', 'postgresql', 'mysql'])
def sql_url(request, tmp_path):
    """The URL of a new, empty SQL database of each kind."""
    if request.param == 'sqlite':
        yield f'sqlite:///{tmp_path}/empty.sqlite'
        return
    server, module = {'postgresql': ('postgres_url', postgres),
                      'mysql': ('mariadb_url', mariadb)}[request.param]
    server_url = request.getfixturevalue(server)
    name = f'db_{uuid.uuid4().hex[:12]}'
    yield module.create_database(server_url, name)
    module.drop_database(server_url, name)
