"""Service records under Cinder's binary names.

Revision ID: 0004_cinder_binary_names
Revises: 0003_types_qos_messages

The scheduler and the volume services now report as ``cinder-scheduler``
and ``cinder-volume`` (the names clients and Tempest look for); the
records written under ``volflow-scheduler`` and ``volflow-volume`` are
renamed, so that an operator's ``disabled`` and its reason carry over. A
record whose new name is already taken on its host (a service of the new
release reported before the upgrade) is left as it is, and ages to down.
Conductors keep ``volflow-conductor``. No column changes.
"""

from alembic import op
import sqlalchemy as sa

revision = '0004_cinder_binary_names'
down_revision = '0003_types_qos_messages'
branch_labels = None
depends_on = None

#: ``(old name, new name)``.
_NAMES = (('volflow-scheduler', 'cinder-scheduler'),
          ('volflow-volume', 'cinder-volume'))

_SERVICES = sa.table('services', sa.column('host', sa.String),
                     sa.column('binary', sa.String))


def _rename(old, new):
    # MySQL refuses a subquery on the table being updated unless derived.
    taken = sa.select(sa.literal_column('t.host')).select_from(
        sa.select(_SERVICES.c.host).where(
            _SERVICES.c.binary == new).subquery('t'))
    op.execute(_SERVICES.update().where(
        _SERVICES.c.binary == old,
        _SERVICES.c.host.not_in(taken)).values(binary=new))


def upgrade():
    for old, new in _NAMES:
        _rename(old, new)


def downgrade():
    for old, new in _NAMES:
        _rename(new, old)
