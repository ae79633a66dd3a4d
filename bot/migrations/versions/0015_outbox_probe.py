"""outbox claims found by kind: indexes that carry `claimed_until`

`ix_outbox_claimable` leads with the kind: the claims' look (`bot.claims.look`) walks
the kinds of unfinished actions and asks each for one claimable row, and a claim takes the
rows of the kinds it wants in due order. `ix_outbox_urgent` is rebuilt the same way on
`priority`. Both carry `claimed_until`, so rows claimed already are passed over without
reading them (at a burst, half of what is due is claimed), and `done_at` and `failed_at`, so
that SQLite checks the condition in the index too; both are partial on
`coalesce(done_at, failed_at) IS NULL`, the claims' spelling of "unfinished": with
`done_at IS NULL` in the statement SQLite (without statistics) preferred ix_outbox_pending,
and PostgreSQL drops what the index's condition implies from the search, so an index that
led with `done_at` was read from its start. `ix_outbox_due` served only the old claims:
`next_due` is served by ix_outbox_pending.

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
UNFINISHED = "coalesce(done_at, failed_at) IS NULL"
_CARRIED = ["due_at", "id", "claimed_until", "done_at", "failed_at"]


def _where(condition: str) -> dict:
    return {"postgresql_where": text(condition), "sqlite_where": text(condition)}


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_urgent", **_where(PENDING))
        batch_op.drop_index("ix_outbox_due", **_where(PENDING))
        batch_op.create_index("ix_outbox_urgent", ["priority", *_CARRIED], **_where(UNFINISHED))
        batch_op.create_index("ix_outbox_claimable", ["kind", *_CARRIED], **_where(UNFINISHED))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_claimable", **_where(UNFINISHED))
        batch_op.drop_index("ix_outbox_urgent", **_where(UNFINISHED))
        nulls = ["done_at", "failed_at"]
        batch_op.create_index("ix_outbox_urgent", [*nulls, "priority", "due_at"], **_where(PENDING))
        batch_op.create_index("ix_outbox_due", ["due_at", "id"], **_where(PENDING))
