"""privacy: sent messages keep no content

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-01 10:00:00

From now on a sent message's outbox row keeps only its idempotency key
(bot.outbox.complete_sent); this forgets the content, recipient and lane of messages sent
before. docs/privacy.md.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE outbox SET payload = '{}', lane = NULL "
            "WHERE kind = 'send' AND done_at IS NOT NULL"
        )
    )


def downgrade() -> None:
    """What was forgotten stays forgotten."""
