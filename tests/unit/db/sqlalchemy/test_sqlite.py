"""volflow.db.sqlalchemy._sqlite: what a SQLite connection is given.

(How each transaction begins is tested with the transactions, in
``test_engine.py``.)
"""

import sqlalchemy as sa

from volflow.db.sqlalchemy import _engine


def _pragmas(engine):
    with engine.connect() as conn:
        return [conn.exec_driver_sql(f'PRAGMA {name}').scalar()
                for name in ('journal_mode', 'busy_timeout', 'synchronous')]


def test_a_connection_runs_in_wal_with_a_busy_timeout(tmp_path):
    engine = _engine.create_engine(f'sqlite:///{tmp_path}/x.sqlite')
    try:
        # synchronous 1 is NORMAL (oslo.db's own would be 0, OFF).
        assert _pragmas(engine) == ['wal', 30000, 1]
    finally:
        engine.dispose()


def test_sqlite_synchronous_off_leaves_oslo_db_s(tmp_path):
    engine = _engine.create_engine(f'sqlite:///{tmp_path}/x.sqlite',
                                   sqlite_synchronous=False)
    try:
        assert _pragmas(engine)[2] == 0
    finally:
        engine.dispose()


def test_the_mode_stays_in_the_file(tmp_path):
    url = f'sqlite:///{tmp_path}/x.sqlite'
    engine = _engine.create_engine(url)
    _pragmas(engine)
    engine.dispose()
    plain = sa.create_engine(url)
    try:
        with plain.connect() as conn:
            assert conn.exec_driver_sql('PRAGMA journal_mode').scalar() == (
                'wal')
    finally:
        plain.dispose()
