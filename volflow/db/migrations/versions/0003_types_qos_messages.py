"""Private volume types and their access lists, QoS specs, user messages.

Revision ID: 0003_types_qos_messages
Revises: 0002_services

``volume_types`` gains ``is_public`` (existing types stay public),
``qos_specs_id`` (the QoS specs associated with the type) and
``encryption`` (the encryption of its volumes, JSON); new tables
``volume_type_projects`` (the projects that may use a private type),
``quality_of_service_specs`` and ``messages`` (why a request failed after
it was accepted). Like ``0001_initial``, it adds only what is missing, so
a database made before migrations by a release that already had these is
adopted as it is.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003_types_qos_messages'
down_revision = '0002_services'
branch_labels = None
depends_on = None

#: Microseconds kept on MySQL too (its DATETIME keeps whole seconds).
_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')
_MYSQL = {'mysql_charset': 'utf8mb4', 'mysql_collate': 'utf8mb4_bin',
          'mysql_engine': 'InnoDB'}


def _tables():
    yield 'volume_type_projects', lambda: op.create_table(
        'volume_type_projects',
        sa.Column('volume_type_id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), primary_key=True),
        **_MYSQL)
    yield 'quality_of_service_specs', lambda: op.create_table(
        'quality_of_service_specs',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('consumer', sa.String(255), nullable=False),
        sa.Column('specs', sa.JSON),
        sa.Column('created_at', _DATETIME),
        sa.UniqueConstraint('name'),
        **_MYSQL)
    yield 'messages', lambda: op.create_table(
        'messages',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('project_id', sa.String(255), index=True),
        sa.Column('request_id', sa.String(255)),
        sa.Column('resource_type', sa.String(255)),
        sa.Column('resource_uuid', sa.String(36)),
        sa.Column('event_id', sa.String(255)),
        sa.Column('message_level', sa.String(255)),
        sa.Column('action_id', sa.String(10)),
        sa.Column('detail_id', sa.String(10)),
        sa.Column('created_at', _DATETIME, index=True),
        sa.Column('expires_at', _DATETIME),
        **_MYSQL)


def upgrade():
    inspector = sa.inspect(op.get_bind())
    columns = {c['name'] for c in inspector.get_columns('volume_types')}
    if 'is_public' not in columns:
        op.add_column('volume_types', sa.Column(
            'is_public', sa.Boolean, nullable=False,
            server_default=sa.true()))
    if 'qos_specs_id' not in columns:
        op.add_column('volume_types',
                      sa.Column('qos_specs_id', sa.String(36)))
    if 'encryption' not in columns:
        op.add_column('volume_types', sa.Column('encryption', sa.JSON))
    indexes = {i['name'] for i in inspector.get_indexes('volume_types')}
    if 'ix_volume_types_qos_specs_id' not in indexes:
        op.create_index('ix_volume_types_qos_specs_id', 'volume_types',
                        ['qos_specs_id'])
    existing = set(inspector.get_table_names())
    for name, create in _tables():
        if name not in existing:
            create()
