"""The migration chain: its shape, and models and migrations agreeing.

oslo.db's ``ModelsMigrationsSync`` runs the migrations on an empty
database and compares what they made with the models (volflow's and
taskflow's tables): a model changed without a migration, or a migration
making something no model says, fails it.
"""

import os
import re
import unittest

from alembic import script as alembic_script
from oslo_db.sqlalchemy import test_migrations
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from volflow import context
from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import api as sql_api
from volflow.db.sqlalchemy import migration
from volflow import exception


_TASKFLOW_TABLES = ('logbooks', 'flowdetails', 'atomdetails')


def _scripts():
    return alembic_script.ScriptDirectory(migration._SCRIPTS)


def test_the_chain_is_linear_and_named_by_its_files():
    scripts = _scripts()
    assert scripts.get_heads() == [migration.head()]
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert chain == migration.revisions()
    for script in scripts.walk_revisions():
        name = os.path.basename(script.path)
        assert name == f'{script.revision}.py'
        assert re.fullmatch(r'\d{4}_[a-z0-9_]+', script.revision)
    previous = None
    for revision in chain:
        assert scripts.get_revision(revision).down_revision == previous
        previous = revision


class _Sync(test_migrations.ModelsMigrationsSync):
    """Run by the backend's test case below, on its own empty database."""

    url = None

    def setUp(self):
        super().setUp()
        self.engine = _engine.create_engine(self.url)
        self.addCleanup(self.engine.dispose)

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return migration.target_metadata()

    def db_sync(self, engine):
        migration.sync(engine)

    def include_object(self, object_, name, type_, reflected, compare_to):
        return not (type_ == 'table' and name == migration.VERSION_TABLE)

    def filter_metadata_diff(self, diff):
        # PostgreSQL keeps no UNIQUE constraint on a primary key's columns
        # (taskflow's uuid columns say both), made by migration or not.
        return [entry for entry in diff if not (
            self.engine.dialect.name == 'postgresql' and
            entry[0] == 'add_constraint' and
            isinstance(entry[1], sa.UniqueConstraint) and
            entry[1].table.name in _TASKFLOW_TABLES and
            list(entry[1].columns.keys()) == ['uuid'])]

    def compare_type(self, ctxt, insp_col, meta_col, insp_type, meta_type):
        # taskflow's JSON columns are LONGTEXT on MySQL, its type says TEXT.
        if (ctxt.dialect.name == 'mysql' and
                meta_col.table.name in _TASKFLOW_TABLES and
                isinstance(insp_type, mysql.LONGTEXT)):
            return False
        return super().compare_type(ctxt, insp_col, meta_col, insp_type,
                                    meta_type)


def test_models_and_migrations_agree(sql_url):
    case = type('Case', (_Sync, unittest.TestCase), {'url': sql_url})(
        'test_models_sync')
    result = unittest.TestResult()
    case.run(result)
    problems = result.failures + result.errors
    assert not problems, problems[0][1]


def test_a_configured_database_behind_is_refused(tmp_path):
    url = f'sqlite:///{tmp_path}/old.sqlite'
    db = sql_api.SQLAPI(url)
    db.seed()
    with db.engine.begin() as conn:  # as if made by an older release
        conn.execute(sa.text("UPDATE alembic_version SET version_num = "
                             "'0000_older'"))
    db.dispose()
    db = sql_api.SQLAPI(url)
    try:
        with pytest.raises(exception.DatabaseNotSynced,
                           match="run 'volflow db sync'|upgrade volflow"):
            db.seed()
    finally:
        db.dispose()


def test_0003_keeps_the_types_of_an_older_database_public(tmp_path):
    url = f'sqlite:///{tmp_path}/at-0001.sqlite'
    engine = _engine.create_engine(url)
    try:
        migration.upgrade(engine, revision='0001_initial')
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO volume_types (id, name, extra_specs) VALUES "
                "('t1', 'gold', '{}')"))
        migration.upgrade(engine)
        assert migration.current(engine) == migration.head()
    finally:
        engine.dispose()
    db = sql_api.SQLAPI(url)
    try:
        member = context.RequestContext(user_id='u', project_id='p')
        gold = db.volume_type_get(member, 't1')
        assert (gold['is_public'], gold['qos_specs_id']) == (True, None)
        assert db.qos_specs_get_all(member) == []
        assert db.message_get_all(member) == []
    finally:
        db.dispose()


def test_0004_renames_the_binaries_keeping_a_disable(tmp_path):
    url = f'sqlite:///{tmp_path}/at-0003.sqlite'
    engine = _engine.create_engine(url)
    rows = [('n1', 'volflow-scheduler', False, None),
            ('n1@fast', 'volflow-volume', True, 'new disks'),
            ('n2@bulk', 'volflow-volume', False, None),
            ('n2@bulk', 'cinder-volume', False, None),  # already reported
            ('c1@fast', 'volflow-conductor', False, None)]
    try:
        migration.upgrade(engine, revision='0003_types_qos_messages')
        with engine.begin() as conn:
            for host, binary, disabled, reason in rows:
                conn.execute(sa.text(
                    "INSERT INTO services (host, \"binary\", topic, "
                    "availability_zone, disabled, disabled_reason, "
                    "report_count, created_at) VALUES (:h, :b, 't', 'nova',"
                    " :d, :r, 0, '2030-01-01 00:00:00')"),
                    {'h': host, 'b': binary, 'd': disabled, 'r': reason})
        migration.upgrade(engine)
        assert migration.current(engine) == migration.head()
        with engine.begin() as conn:
            found = sorted(tuple(r) for r in conn.execute(sa.text(
                'SELECT host, "binary", disabled, disabled_reason '
                'FROM services')))
        assert found == [
            ('c1@fast', 'volflow-conductor', False, None),
            ('n1', 'cinder-scheduler', False, None),
            ('n1@fast', 'cinder-volume', True, 'new disks'),
            ('n2@bulk', 'cinder-volume', False, None),
            ('n2@bulk', 'volflow-volume', False, None)]
    finally:
        engine.dispose()
