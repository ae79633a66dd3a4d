"""How many messages are still to be sent: the fault tests' measure of "nothing lost"."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.delivery import SEND
from bot.domain import OutboxItem


def unsent_messages(session: Session) -> int:
    """Send actions neither done nor given up (reminders for later are not messages yet)."""
    return session.exec(
        select(func.count())
        .select_from(OutboxItem)
        .where(
            OutboxItem.kind == SEND,
            col(OutboxItem.done_at).is_(None),
            col(OutboxItem.failed_at).is_(None),
        )
    ).one()
