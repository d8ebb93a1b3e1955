"""Engines from oslo.db's ``[database]`` options; deadlocks retried."""

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from tests.fixtures import databases
from volflow.db.sqlalchemy import _engine


class _DriverError(Exception):
    def __init__(self, *args, pgcode=None):
        super().__init__(*args)
        self.pgcode = pgcode


def _dbapi_error(orig):
    return sa_exc.OperationalError('UPDATE ...', {}, orig)


@pytest.mark.parametrize('orig', [
    _DriverError('deadlock detected', pgcode='40P01'),
    _DriverError('could not serialize access', pgcode='40001'),
    _DriverError(1213, 'Deadlock found when trying to get lock')])
def test_a_lost_deadlock_is_run_again(orig):
    calls = []

    @_engine.retry_on_deadlock
    def write():
        calls.append(1)
        if len(calls) < 3:
            raise _dbapi_error(orig)
        return 'done'

    assert write() == 'done'
    assert len(calls) == 3


def test_other_errors_and_the_last_attempt_are_raised():
    calls = []

    @_engine.retry_on_deadlock
    def duplicate():
        calls.append(1)
        raise _dbapi_error(_DriverError(1062, 'Duplicate entry'))

    with pytest.raises(sa_exc.OperationalError):
        duplicate()
    assert len(calls) == 1

    @_engine.retry_on_deadlock
    def always():
        calls.append(1)
        raise _dbapi_error(_DriverError('deadlock', pgcode='40P01'))

    with pytest.raises(sa_exc.OperationalError):
        always()
    assert len(calls) == 1 + _engine._MAX_ATTEMPTS


def test_the_pool_follows_the_database_options(conf, conf_override):
    conf_override('max_pool_size', 7, group='database')
    conf_override('max_overflow', 3, group='database')
    conf_override('connection_recycle_time', 600, group='database')
    engine = _engine.create_engine(
        'postgresql+psycopg2://u@127.0.0.1:9/x',
        **_engine.engine_options(conf))
    assert (engine.pool.size(), engine.pool._max_overflow,
            engine.pool._recycle) == (7, 3, 600)
    sqlite = _engine.create_engine('sqlite://',
                                   **_engine.engine_options(conf))
    assert sqlite.pool._recycle == 600


def test_mysql_sessions_run_in_the_configured_sql_mode(conf, request):
    url = databases.fresh_url(request, 'mysql', 'mode')
    engine = _engine.create_engine(url, **_engine.engine_options(conf))
    try:
        with engine.connect() as conn:
            mode = conn.execute(sa.text('SELECT @@SESSION.sql_mode')).scalar()
            level = conn.execute(sa.text(
                'SELECT @@SESSION.tx_isolation')).scalar()
    finally:
        engine.dispose()
    assert 'STRICT_ALL_TABLES' in mode.split(',')  # part of TRADITIONAL
    assert level == 'READ-COMMITTED'
