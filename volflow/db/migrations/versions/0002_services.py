"""The ``services`` table: what each long-running service reports.

Revision ID: 0002_services
Revises: 0001_initial

One row per host and binary (Cinder's ``services``): the scheduler, the
volume services and the conductors add one to ``report_count`` and set
``updated_at`` every ``report_interval``; the scheduler of a
multi-process deployment reads them to leave out backends whose services
are down. A new, empty table: nothing to fill.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0002_services'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

#: Microseconds kept on MySQL too (its DATETIME keeps whole seconds).
_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
_MYSQL = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_bin',
          'mysql_engine': 'InnoDB'}


def upgrade():
    if 'services' in sa.inspect(op.get_bind()).get_table_names():
        return  # made on first use before migrations, adopted by 0001
    op.create_table(
        'services',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255)),
        sa.Column('availability_zone', sa.String(255)),
        sa.Column('report_count', sa.Integer, nullable=False),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        sa.Column('created_at', _DATETIME),
        sa.Column('updated_at', _DATETIME),
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'),
        **_MYSQL)
