"""The mentors' quarterly self-evaluation, sent on its schedule without a command.

Every `mentor_reflection_months` (default 3) months after the programme's start, at 09:00
programme time, the `mentor-quarterly` questionnaire goes to every mentor who finished intake,
as a poll with names (the poll machinery: invites, reminders, closing), open for 14 days and
never past the programme's last day. One that falls in a quiet period waits until the period is
over; none is sent after the programme's end or once it was closed.

The rows are written with the programme's recurring jobs (`stalled.ensure_daily`, which runs
once pairs plan meetings and then every day): one per moment still ahead, keyed by programme,
period and number, so writing them again changes nothing. A changed period in config.toml gets
its own rows; those of the old period then do nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import outbox
from bot.domain import OutboxItem, Programme, Role
from bot.engine import Outbound
from bot.services import closing, hold, scheduling
from bot.services import polls as poll_store
from flows.evaluation.poll_answers import PollAnswers

DUE = "mentor_reflection.due"
QUESTIONNAIRE = "mentor-quarterly"
OPEN_DAYS = 14
RUN_AT = time(9, 0)


def _months(programme: Programme) -> int:
    return int(programme.settings.get("mentor_reflection_months", 3) or 0)


def moments(programme: Programme) -> list[datetime]:
    """When the questionnaire is due: every N months from the start, up to the last day."""
    months = _months(programme)
    if months <= 0:
        return []
    zone = ZoneInfo(programme.timezone)
    found = []
    number = 1
    while (day := scheduling.add_cadence(programme.start, "monthly", months * number)) <= (
        programme.end
    ):
        found.append(datetime.combine(day, RUN_AT, zone))
        number += 1
    return found


def ensure_scheduled(session: Session, programme: Programme, now: datetime) -> None:
    """Write the rows for the moments still ahead (once each)."""
    months = _months(programme)
    outbox.enqueue_many(
        session,
        (
            {
                "kind": DUE,
                "payload": {"programme": programme.id, "months": months, "number": number},
                "idempotency_key": f"{DUE}:{programme.id}:{months}:{number}",
                "due_at": due,
                "created_at": now,
            }
            for number, due in enumerate(moments(programme), start=1)
            if due > now
        ),
    )


class MentorReflection:
    """The job that sends the questionnaire."""

    def __init__(self, answers: PollAnswers) -> None:
        self.answers = answers

    def jobs(self) -> dict:
        return {DUE: self.due}

    def due(self, session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        programme = session.get(Programme, item.payload["programme"])
        questionnaire = self.answers.questionnaires.get(QUESTIONNAIRE)
        if (
            programme is None
            or questionnaire is None
            or not programme.settings.get("configured", True)
            or item.payload.get("months") != _months(programme)
            or closing.is_closed(session, programme)
        ):
            return []
        zone = ZoneInfo(programme.timezone)
        last = datetime.combine(programme.end + timedelta(days=1), time(0), zone)
        if now >= last or hold.held(session, item, programme, (), now):
            return []
        if not poll_store.audience_people(session, programme.id or 0, Role.MENTOR):
            return []
        today = now.astimezone(zone).date()
        closes = min(datetime.combine(today + timedelta(days=OPEN_DAYS + 1), time(0), zone), last)
        poll, invited = poll_store.create(
            session,
            programme,
            questionnaire.name,
            questionnaire.version,
            Role.MENTOR,
            questionnaire.anonymous,
            closes,
            None,
            now,
        )
        self.answers.schedule(session, poll, invited, now)
        return []
