"""outbox priority: replies someone waits for are claimed before bulk work

The lane index covers unfinished actions only: a claim asks, for each candidate, whether an
older action in its lane is unfinished, and finished ones only slowed that down.

Revision ID: 0010
Revises: 0013
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "done_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index(
            "ix_outbox_urgent",
            ["done_at", "failed_at", "priority", "due_at"],
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )
        batch_op.drop_index("ix_outbox_lane")
        batch_op.create_index(
            "ix_outbox_lane_pending",
            ["lane", "id"],
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_lane_pending",
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )
        batch_op.create_index("ix_outbox_lane", ["lane", "id"], unique=False)
        batch_op.drop_index(
            "ix_outbox_urgent",
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )
        batch_op.drop_column("priority")
