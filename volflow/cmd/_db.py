"""``db sync`` and ``db version``: the database schema, as operators run it.

``db sync`` upgrades the database (``[database] connection``, else the
embedded default's SQLite file) to this release's schema revision, and
the flow records' database too when ``[taskflow] persistence_connection``
names another one; it is safe to run again and while services run (they
never see a half-made schema: the migrations run under the schema lock).
``db version`` prints the revision (``none`` before any). Neither seeds
nor reads anything else.
"""

from volflow import db


def _urls(conf):
    """The databases to upgrade: volflow's, then the records' if apart."""
    url = conf.database.connection or db.default_connection(conf)
    urls = [url]
    records = conf.taskflow.persistence_connection
    if records and records != url and not records.startswith('memory://'):
        urls.append(records)
    return urls


def _engines(conf):
    from volflow.db.sqlalchemy import _engine  # SQL only, as db does
    for url in _urls(conf):
        if url.startswith('memory://'):
            continue
        engine = _engine.create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def sync(args, api, ctx, conf):
    """Upgrade the schema to this release's revision; print it."""
    from volflow.db.sqlalchemy import migration
    for engine in _engines(conf):
        print(migration.sync(engine))
    return 0


def version(args, api, ctx, conf):
    """Print the database's schema revision (``none`` before any)."""
    from volflow.db.sqlalchemy import migration
    for engine in _engines(conf):
        print(migration.current(engine) or 'none')
    return 0


def add_parser(subparsers):
    """Add ``db`` with its ``sync`` and ``version`` commands."""
    parser = subparsers.add_parser(
        'db', help='Upgrade the database schema or print its revision.',
        description='The database schema: "db sync" upgrades it to this '
                    'release, "db version" prints its revision.')
    commands = parser.add_subparsers(title='db commands', dest='db_command',
                                     metavar='{sync,version}')
    commands.required = True
    sub = commands.add_parser(
        'sync', help="Upgrade the database schema to this release's.",
        description="Upgrade the database schema to this release's "
                    "revision (the flow records' database too when "
                    "[taskflow] persistence_connection names another); "
                    "print the revision.")
    sub.set_defaults(func=sync, needs='nothing')
    sub = commands.add_parser(
        'version', help="Print the database schema's revision.",
        description="Print the database schema's revision ('none' "
                    "before the first migration).")
    sub.set_defaults(func=version, needs='nothing')
