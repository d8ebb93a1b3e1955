"""The schema of volflow before migrations, adopting databases made then.

Revision ID: 0001_initial
Revises: none

volflow's tables, taskflow's persistence tables and the triggers that keep
``host_allocations`` in step with ``volumes``. Before this migration the
schema was made on first use, table by table (``CREATE TABLE`` of those
missing), so a database made then holds some or all of these tables and
no version: this migration creates only the tables missing and installs
the triggers only where they are missing, filling ``host_allocations``
from the volumes when it does. A database made by it is the same as one
it adopted.

On MySQL/MariaDB volflow's tables are ``utf8mb4`` with the binary
collation, so identifiers and host names compare exactly as on SQLite and
PostgreSQL; taskflow's JSON columns are ``LONGTEXT`` there (``TEXT`` holds
64 KiB only), and every DATETIME keeps microseconds (``DATETIME(6)``).
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects import postgresql

revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None

_MYSQL = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_bin',
          'mysql_engine': 'InnoDB'}
#: taskflow's JSON columns: native JSON on PostgreSQL, text elsewhere.
_TASKFLOW_JSON = sa.UnicodeText().with_variant(
    postgresql.JSON(), 'postgresql').with_variant(mysql.LONGTEXT(), 'mysql')
#: Microseconds kept on MySQL too (its DATETIME keeps whole seconds).
_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
_TASKFLOW_MYSQL = {'mysql_charset': 'utf8mb4', 'mysql_engine': 'InnoDB'}


def _volflow_tables():
    yield 'volumes', lambda: op.create_table(
        'volumes',
        sa.Column('seq', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('description', sa.Text),
        sa.Column('size', sa.Integer),
        sa.Column('status', sa.String(255)),
        sa.Column('project_id', sa.String(255), index=True),
        sa.Column('user_id', sa.String(255)),
        sa.Column('volume_type_id', sa.String(36)),
        sa.Column('availability_zone', sa.String(255)),
        sa.Column('host', sa.String(255), index=True),
        sa.Column('snapshot_id', sa.String(36)),
        sa.Column('source_volid', sa.String(36)),
        sa.Column('image_id', sa.String(36)),
        sa.Column('reason', sa.Text),
        sa.Column('multiattach', sa.Boolean, nullable=False),
        sa.Column('metadata', sa.JSON),
        sa.Column('created_at', _DATETIME),
        sa.Column('updated_at', _DATETIME),
        sa.Column('extra', sa.JSON),
        sa.UniqueConstraint('id'),
        **_MYSQL)
    yield 'snapshots', lambda: op.create_table(
        'snapshots',
        sa.Column('seq', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('volume_id', sa.String(36), index=True),
        sa.Column('volume_size', sa.Integer),
        sa.Column('name', sa.String(255)),
        sa.Column('status', sa.String(255)),
        sa.Column('project_id', sa.String(255), index=True),
        sa.Column('created_at', _DATETIME),
        sa.Column('extra', sa.JSON),
        sa.UniqueConstraint('id'),
        **_MYSQL)
    yield 'images', lambda: op.create_table(
        'images',
        sa.Column('seq', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255)),
        sa.Column('size', sa.BigInteger),
        sa.Column('min_disk', sa.Integer),
        sa.Column('status', sa.String(255)),
        sa.Column('project_id', sa.String(255), index=True),
        sa.Column('is_public', sa.Boolean),
        sa.Column('properties', sa.JSON),
        sa.Column('location', sa.Text),
        sa.Column('created_at', _DATETIME),
        sa.Column('extra', sa.JSON),
        sa.UniqueConstraint('id'),
        **_MYSQL)
    yield 'volume_types', lambda: op.create_table(
        'volume_types',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('description', sa.Text),
        sa.Column('extra_specs', sa.JSON),
        sa.UniqueConstraint('name'),
        **_MYSQL)
    yield 'quotas', lambda: op.create_table(
        'quotas',
        sa.Column('project_id', sa.String(255), primary_key=True),
        sa.Column('resource', sa.String(255), primary_key=True),
        sa.Column('hard_limit', sa.Integer, nullable=False),
        **_MYSQL)
    yield 'quota_usages', lambda: op.create_table(
        'quota_usages',
        sa.Column('project_id', sa.String(255), primary_key=True),
        sa.Column('resource', sa.String(255), primary_key=True),
        sa.Column('in_use', sa.Integer, nullable=False),
        sa.Column('reserved', sa.Integer, nullable=False),
        **_MYSQL)
    yield 'reservations', lambda: op.create_table(
        'reservations',
        sa.Column('seq', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('id', sa.String(36), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False, index=True),
        sa.Column('resource', sa.String(255), nullable=False),
        sa.Column('delta', sa.Integer, nullable=False),
        sa.Column('expire', _DATETIME, nullable=False, index=True),
        sa.UniqueConstraint('id'),
        **_MYSQL)
    yield 'committed_reservations', lambda: op.create_table(
        'committed_reservations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('committed_at', _DATETIME, nullable=False, index=True),
        **_MYSQL)
    yield 'backend_locks', lambda: op.create_table(
        'backend_locks',
        sa.Column('name', sa.String(255), primary_key=True),
        **_MYSQL)
    yield 'host_allocations', lambda: op.create_table(
        'host_allocations',
        sa.Column('host', sa.String(255), primary_key=True),
        sa.Column('allocated_gb', sa.BigInteger, nullable=False),
        **_MYSQL)
    yield 'flow_claims', lambda: op.create_table(
        'flow_claims',
        sa.Column('flow_uuid', sa.String(64), primary_key=True),
        sa.Column('owner', sa.String(255), nullable=False, index=True),
        sa.Column('expire', _DATETIME, nullable=False),
        **_MYSQL)


def _uuid_column():
    # taskflow's uuid columns are unique as well as the primary key: a
    # constraint of its own (alembic drops ``unique`` of a primary key).
    return sa.Column('uuid', sa.String(64), primary_key=True,
                     nullable=False)


def _taskflow_tables():
    yield 'logbooks', lambda: op.create_table(
        'logbooks',
        sa.Column('created_at', _DATETIME),
        sa.Column('updated_at', _DATETIME),
        sa.Column('meta', _TASKFLOW_JSON),
        sa.Column('name', sa.String(255)),
        _uuid_column(),
        sa.UniqueConstraint('uuid'),
        **_TASKFLOW_MYSQL)
    yield 'flowdetails', lambda: op.create_table(
        'flowdetails',
        sa.Column('created_at', _DATETIME),
        sa.Column('updated_at', _DATETIME),
        sa.Column('parent_uuid', sa.String(64),
                  sa.ForeignKey('logbooks.uuid', ondelete='CASCADE')),
        sa.Column('meta', _TASKFLOW_JSON),
        sa.Column('name', sa.String(255)),
        sa.Column('state', sa.String(255)),
        _uuid_column(),
        sa.UniqueConstraint('uuid'),
        **_TASKFLOW_MYSQL)
    yield 'atomdetails', lambda: op.create_table(
        'atomdetails',
        sa.Column('created_at', _DATETIME),
        sa.Column('updated_at', _DATETIME),
        sa.Column('meta', _TASKFLOW_JSON),
        sa.Column('parent_uuid', sa.String(64),
                  sa.ForeignKey('flowdetails.uuid', ondelete='CASCADE')),
        sa.Column('name', sa.String(255)),
        sa.Column('version', sa.String(64)),
        sa.Column('state', sa.String(255)),
        _uuid_column(),
        sa.Column('failure', _TASKFLOW_JSON),
        sa.Column('results', _TASKFLOW_JSON),
        sa.Column('revert_results', _TASKFLOW_JSON),
        sa.Column('revert_failure', _TASKFLOW_JSON),
        sa.Column('atom_type', sa.Enum('RETRY_DETAIL', 'TASK_DETAIL',
                                       name='atom_types')),
        sa.Column('intention', sa.Enum('EXECUTE', 'IGNORE', 'REVERT',
                                       'RETRY', name='intentions')),
        sa.UniqueConstraint('uuid'),
        **_TASKFLOW_MYSQL)


# host_allocations kept by triggers on volumes: gigabytes per host string,
# changed by every insert, delete and change of a volume's host or size.
_TRIGGER = 'volumes_host_allocations'
_PLACED = "{row}.host IS NOT NULL AND {row}.host != ''"
_FILL = (f"INSERT INTO host_allocations (host, allocated_gb) "
         f"SELECT host, COALESCE(SUM(size), 0) FROM volumes "
         f"WHERE {_PLACED.format(row='volumes')} GROUP BY host")
_SUBTRACT = ('UPDATE host_allocations SET allocated_gb = allocated_gb - '
             'COALESCE(OLD.size, 0) WHERE host = OLD.host;')
_ADD = ('INSERT INTO host_allocations (host, allocated_gb) '
        'SELECT NEW.host, COALESCE(NEW.size, 0) WHERE {placed} '
        'ON CONFLICT (host) DO UPDATE SET allocated_gb = '
        'host_allocations.allocated_gb + excluded.allocated_gb;')
_ADD_NEW = _ADD.format(placed=_PLACED.format(row='NEW'))
_SQLITE_FOUND = ("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND "
                 f"name = '{_TRIGGER}_insert'")
_SQLITE_TRIGGERS = (
    f'CREATE TRIGGER {_TRIGGER}_insert AFTER INSERT ON volumes BEGIN '
    f'{_ADD_NEW} END',
    f'CREATE TRIGGER {_TRIGGER}_update AFTER UPDATE OF host, size ON '
    f'volumes BEGIN {_SUBTRACT} {_ADD_NEW} END',
    f'CREATE TRIGGER {_TRIGGER}_delete AFTER DELETE ON volumes BEGIN '
    f'{_SUBTRACT} END',
)
_PG_FOUND = (f"SELECT 1 FROM pg_trigger WHERE tgname = '{_TRIGGER}' AND "
             f"tgrelid = 'volumes'::regclass")
_PG_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION {_TRIGGER}() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {_SUBTRACT}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_ADD_NEW}
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
    f'CREATE TRIGGER {_TRIGGER} AFTER INSERT OR DELETE OR UPDATE OF host, '
    f'size ON volumes FOR EACH ROW EXECUTE FUNCTION {_TRIGGER}()',
)
_MYSQL_FOUND = ("SELECT 1 FROM information_schema.triggers WHERE "
                "trigger_schema = DATABASE() AND "
                f"trigger_name = '{_TRIGGER}_insert'")
_MYSQL_ADD = ("IF NEW.host IS NOT NULL AND NEW.host != '' THEN "
              "INSERT INTO host_allocations (host, allocated_gb) "
              "VALUES (NEW.host, COALESCE(NEW.size, 0)) "
              "ON DUPLICATE KEY UPDATE allocated_gb = allocated_gb + "
              "COALESCE(NEW.size, 0); END IF;")
_MYSQL_TRIGGERS = (
    f'CREATE TRIGGER {_TRIGGER}_insert AFTER INSERT ON volumes '
    f'FOR EACH ROW BEGIN {_MYSQL_ADD} END',
    f'CREATE TRIGGER {_TRIGGER}_update AFTER UPDATE ON volumes '
    f'FOR EACH ROW BEGIN IF NOT (OLD.host <=> NEW.host) OR '
    f'NOT (OLD.size <=> NEW.size) THEN {_SUBTRACT} {_MYSQL_ADD} END IF; END',
    f'CREATE TRIGGER {_TRIGGER}_delete AFTER DELETE ON volumes '
    f'FOR EACH ROW {_SUBTRACT.rstrip(";")}',
)
_TRIGGERS = {'sqlite': (_SQLITE_FOUND, _SQLITE_TRIGGERS),
             'postgresql': (_PG_FOUND, _PG_TRIGGERS),
             'mysql': (_MYSQL_FOUND, _MYSQL_TRIGGERS)}


def _install_triggers(bind):
    found, statements = _TRIGGERS[bind.dialect.name]
    if bind.exec_driver_sql(found).first() is not None:
        return
    bind.exec_driver_sql('DELETE FROM host_allocations')
    for statement in statements:
        bind.exec_driver_sql(statement)
    bind.exec_driver_sql(_FILL)


def upgrade():
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for name, create in (*_volflow_tables(), *_taskflow_tables()):
        if name not in existing:
            create()
    _install_triggers(bind)
