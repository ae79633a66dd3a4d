"""person profiles: where names and zones came from, when the platform was asked

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from bot.domain.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("name_source", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
        batch_op.add_column(
            sa.Column("timezone_source", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True)
        )
    with op.batch_alter_table("identity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile_at", UTCDateTime(), nullable=True))
    # A post in a shared space is rendered for the people in it: found by the space's channel.
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pair_space_channel"), ["space_channel"], unique=False)
    with op.batch_alter_table("mentor_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mentor_group_space_channel"), ["space_channel"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mentor_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentor_group_space_channel"))
    with op.batch_alter_table("pair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_space_channel"))
    with op.batch_alter_table("identity", schema=None) as batch_op:
        batch_op.drop_column("profile_at")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("timezone_source")
        batch_op.drop_column("name_source")
