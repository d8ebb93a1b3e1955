"""Fixtures of every flow's unit tests."""

import pytest

from volflow.db import fake as fake_db


@pytest.fixture
def db_api(conf):
    """The in-memory database, seeded as a fresh state is."""
    db_api = fake_db.FakeAPI()
    db_api.seed()
    return db_api
