"""outbox claims found by kind: indexes that carry `claimed_until`

`ix_outbox_claimable` leads with the kind (after `done_at` and `failed_at`, NULL in every row, so
that SQLite, without statistics, prefers it to ix_outbox_pending): the claims' look
(`bot.claims.claimable`) walks the
kinds of unfinished actions and asks each for one claimable row, and a claim takes the rows of
the kinds it wants in due order. Both indexes carry `claimed_until`, so rows claimed already
are passed over without reading them (at a burst, half of what is due is claimed).
`ix_outbox_due` served only the claims before: `next_due` is served by ix_outbox_pending.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:40:00.000000
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "done_at IS NULL AND failed_at IS NULL"
_NULLS = ["done_at", "failed_at"]  # NULL in every row: so SQLite prefers these indexes
_CARRIED = ["due_at", "id", "claimed_until"]
_WHERE = {"postgresql_where": text(PENDING), "sqlite_where": text(PENDING)}


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_urgent", **_WHERE)
        batch_op.drop_index("ix_outbox_due", **_WHERE)
        batch_op.create_index("ix_outbox_urgent", [*_NULLS, "priority", *_CARRIED], **_WHERE)
        batch_op.create_index("ix_outbox_claimable", [*_NULLS, "kind", *_CARRIED], **_WHERE)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_claimable", **_WHERE)
        batch_op.drop_index("ix_outbox_urgent", **_WHERE)
        batch_op.create_index("ix_outbox_urgent", [*_NULLS, "priority", "due_at"], **_WHERE)
        batch_op.create_index("ix_outbox_due", ["due_at", "id"], **_WHERE)
