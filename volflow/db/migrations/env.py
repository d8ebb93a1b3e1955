"""Alembic's environment for volflow's migrations.

``volflow db sync`` (:func:`volflow.db.sqlalchemy.migration.upgrade`)
hands over a connection already in a transaction holding the schema lock;
the ``alembic`` command line (``alembic.ini`` here) connects to its
``sqlalchemy.url``. Offline (``--sql``) mode is not supported.
"""

from alembic import context

from volflow.db.sqlalchemy import _engine
from volflow.db.sqlalchemy import migration

config = context.config


def _run(connection):
    context.configure(connection=connection,
                      target_metadata=migration.target_metadata(),
                      render_as_batch=True,
                      version_table=migration.VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes.get('connection')
    if connection is not None:
        _run(connection)
        return
    engine = _engine.create_engine(config.get_main_option('sqlalchemy.url'))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit('volflow migrations run online only')
run_migrations_online()
