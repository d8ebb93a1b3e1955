"""SQL statements and commits per create, on SQLite, PostgreSQL, MariaDB.

Run from a checkout: ``python benchmarks/sql_count.py [--creates N]
[--connection URL] [--verbose]``. Without ``--connection`` it counts on a
SQLite file, then on PostgreSQL and on MariaDB when their servers can be
started here (the tests' throwaway servers; ``--no-postgres``,
``--no-mariadb`` skip them). A SQLAlchemy ``before_cursor_execute``
listener on volflow's engine and on the persistence backend's counts
every statement of N full creates (API, scheduler and manager flows,
fake driver without latency) and of N runs of the API flow alone, waiting
for the pipeline through the in-process rpc rather than by reading the
volume, so that no poll is counted; a ``commit`` listener counts the
commits (a round trip each on a server). ``BEGIN`` / ``BEGIN IMMEDIATE``
(SQLite's, emitted by volflow) are not counted as statements.
``--verbose`` lists the statements, most frequent first.

On PostgreSQL it also counts what the server received per API flow, from
its log (``log_statement = all``): every statement a round trip, with
psycopg2's ``BEGIN``, the commits, rollbacks and pings, and an
``executemany`` as the one statement per row the driver sends.
"""

import argparse
import collections
import os
import sys
import time

import _quiet  # noqa: E402,F401  (first: what follows warns on import)

import psycopg2  # noqa: E402
import sqlalchemy as sa  # noqa: E402

import _setup  # noqa: E402  (benchmarks/ is sys.path[0] when run)
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))  # the checkout, for the tests' server fixtures
from tests.fixtures import mariadb  # noqa: E402,H306
from tests.fixtures import postgres  # noqa: E402,H306
from volflow import persistence  # noqa: E402
from volflow.rpc import local  # noqa: E402


class Counter:
    """Statements seen on some engines while it is on."""

    def __init__(self, engines):
        self.engines = {id(e): e for e in engines}.values()
        self.statements = collections.Counter()
        self.commits = 0

    def _seen(self, conn, cursor, statement, params, context, many):
        self.statements[' '.join(statement.split())[:100]] += 1

    def _commit(self, conn):
        self.commits += 1

    def __enter__(self):
        for engine in self.engines:
            sa.event.listen(engine, 'before_cursor_execute', self._seen)
            sa.event.listen(engine, 'commit', self._commit)
        return self

    def __exit__(self, *exc):
        for engine in self.engines:
            sa.event.remove(engine, 'before_cursor_execute', self._seen)
            sa.event.remove(engine, 'commit', self._commit)

    def summary(self, runs):
        """``(statements, commits)`` per run, SQLite's BEGINs left out."""
        total = sum(c for s, c in self.statements.items()
                    if not s.startswith('BEGIN')) / runs
        return total, self.commits / runs


def count(env, runs, func):
    backend = persistence.get_backend(env.db, _setup.CONF)
    engines = [env.db.engine] + ([backend.engine]
                                 if hasattr(backend, 'engine') else [])
    with Counter(engines) as counter:
        for _ in range(runs):
            func()
            assert local.wait_idle(60)
    return counter


def server_received(server, env, runs):
    """What a PostgreSQL ``server`` received per API flow, from its log.

    :returns: ``(total, {kind: count})`` per run, a kind being the
        statement's first word (``SELECT 1``: the pings).
    """
    log = os.path.join(server.base, 'server.log')
    admin = psycopg2.connect(host='127.0.0.1', port=server.port,
                             user='postgres', dbname='postgres')
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("ALTER SYSTEM SET log_statement = 'all'")
            cursor.execute('SELECT pg_reload_conf()')
        time.sleep(0.5)  # the backends read the new setting
        start = os.path.getsize(log)
        for _ in range(runs):
            env.api_flow_only()
        with admin.cursor() as cursor:
            cursor.execute('ALTER SYSTEM RESET log_statement')
            cursor.execute('SELECT pg_reload_conf()')
    finally:
        admin.close()
    with open(log) as f:
        f.seek(start)
        text = f.read()
    kinds = collections.Counter()
    for line in text.splitlines():
        _before, found, statement = line.partition('LOG:  statement: ')
        if not found or 'log_statement' in statement:
            continue
        words = statement.split()
        kinds['SELECT 1' if words == ['SELECT', '1'] else words[0]] += 1
    return (sum(kinds.values()) / runs,
            {kind: n / runs for kind, n in kinds.most_common()})


def measure(connection, label, creates, verbose, server=None):
    """Print the counts of full creates and API flows on ``connection``.

    ``server``: the tests' PostgreSQL server, whose log tells what it
    received.
    """
    with _setup.sql_env(connection, 'volflow-sql-') as env:
        for _ in range(3):  # warm up: schema, usage rows, managers
            env.create_and_wait()
        full = count(env, creates,
                     lambda: env.api.create(_setup.CTX, 1, 'bench', None))
        api = count(env, creates, env.api_flow_only)
        received = server and server_received(server, env, creates)
    for what, counter in (('full create', full), ('API flow alone', api)):
        total, commits = counter.summary(creates)
        print(f'{label}, {what}: {total:.1f} statements and {commits:.1f} '
              f'commits per run')
        if verbose:
            for statement, n in counter.statements.most_common():
                print(f'  {n / creates:5.1f}  {statement}')
    if received:
        total, kinds = received
        print(f'{label}, API flow alone: the server received {total:.1f} '
              f'statements per run (' + ', '.join(
                  f'{n:.1f} {kind}' for kind, n in kinds.items()) + ')')


def _server(module):
    """A throwaway server of the tests' fixture ``module``, or None."""
    try:
        return module.Server().start()
    except module.Unavailable:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--creates', type=int, default=20)
    parser.add_argument('--connection', default=None,
                        help='database URL (default: SQLite, PostgreSQL, '
                             'MariaDB)')
    parser.add_argument('--no-postgres', action='store_true')
    parser.add_argument('--no-mariadb', action='store_true')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args()
    _setup.load_conf()
    if args.connection:
        measure(args.connection, args.connection.split(':')[0],
                args.creates, args.verbose)
        return 0
    measure(None, 'SQLite', args.creates, args.verbose)
    for module, label, skipped in ((postgres, 'PostgreSQL', args.no_postgres),
                                   (mariadb, 'MariaDB', args.no_mariadb)):
        server = None if skipped else _server(module)
        if server is None:
            print(f'{label}: skipped')
            continue
        try:
            measure(server.url, label, args.creates, args.verbose,
                    server if module is postgres else None)
        finally:
            server.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
