"""conversation references and held files (Microsoft Teams)

Revision ID: 0013
Revises: 0006
Create Date: 2026-12-01 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.domain.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_reference",
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("updated_at", bot.domain.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "channel_id"),
    )
    with op.batch_alter_table("conversation_reference", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_reference_user", ["platform", "workspace", "user_id"], unique=False
        )
    op.create_table(
        "held_file",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("workspace", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("mimetype", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", bot.domain.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("held_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_file_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("held_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_file_user_id"))
    op.drop_table("held_file")
    with op.batch_alter_table("conversation_reference", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_reference_user")
    op.drop_table("conversation_reference")
