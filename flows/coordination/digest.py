"""The weekly digest to coordinators: the meeting part of `status`, on the programme's
`digest_weekday` at 09:00 programme time. An outbox job that schedules its own next run."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import outbox
from bot.config.programme import WEEKDAYS
from bot.domain import OutboxItem, Programme
from bot.engine import Outbound
from bot.i18n import Lines, _l
from bot.replies import Reply
from bot.services import meetings as store
from bot.services import pairs as pair_store
from bot.services import people
from flows.contact import stalled
from flows.coordination.status import meeting_lines

DIGEST = "meetings.digest"


def ensure_digest(session: Session, programme: Programme, now: datetime) -> None:
    weekday = WEEKDAYS.index(store.MeetingSettings.of(programme).digest_weekday)
    due = stalled.next_run(now, programme.timezone, weekday)
    key = f"{DIGEST}:{programme.id}:{due.astimezone(ZoneInfo(programme.timezone)).date()}"
    outbox.enqueue(session, DIGEST, {"programme": programme.id}, key, due, now)


def digest(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    programme = session.get(Programme, item.payload["programme"])
    if programme is None or not programme.settings.get("configured", True):
        return []
    ensure_digest(session, programme, now)
    if not pair_store.has_active_pairs(session, programme.id or 0):
        return []
    text = _l(
        "Your weekly overview of {programme}:\n{lines}\n\nType 'pairs stalled' or "
        "'pair NAME' for more.",
        programme=programme.name,
        lines=Lines(tuple(meeting_lines(session, programme, now))),
    )
    return [
        Outbound(coordinator, Reply(text))
        for coordinator in people.coordinators_of(session, programme.id or 0)
    ]
