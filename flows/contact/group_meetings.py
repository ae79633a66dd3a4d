"""A chosen group meeting: its calendar invite, and the reminders and "did you meet?" that
are planned for it.

A meeting's slot is chosen in `group_poll_votes`; the reminders and the follow-up are outbox
rows keyed by meeting, written here and run by `group_meeting_changes.remind` and `.followup`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot import outbox
from bot.domain import Meeting, MentorGroup, Person, Programme
from bot.i18n import Translator, _l
from bot.replies import Attachment
from bot.services import meetings as store
from bot.services import people, scheduling
from flows.contact import meeting_messages as msg
from flows.contact import meeting_nudges

REMIND = "meeting.group_nudge"
FOLLOWUP = "meeting.group_followup"


def schedule(session: Session, meeting: Meeting, programme: Programme, now: datetime) -> None:
    """Reminders before a chosen group meeting, at the programme's `nudge_hours` (one due in a
    quiet period comes at its end, if that is still before the meeting), and "did you meet?"
    for the mentor after it, as the pairs' follow-up (`meeting_nudges.FOLLOWUP_AFTER`)."""
    settings = store.MeetingSettings.of(programme)
    for hours in settings.nudge_hours:
        due = scheduling.after_quiet(
            meeting.starts_at - timedelta(hours=hours), settings.quiet, programme.timezone
        )
        if now < due < meeting.starts_at:
            outbox.enqueue(
                session,
                REMIND,
                {"meeting": meeting.id},
                f"group-meeting:{meeting.id}:nudge:{hours}",
                due,
                now,
            )
    end = meeting.starts_at + timedelta(minutes=meeting.duration_minutes)
    outbox.enqueue(
        session,
        FOLLOWUP,
        {"meeting": meeting.id},
        f"group-meeting:{meeting.id}:followup",
        scheduling.after_quiet(
            max(end + meeting_nudges.FOLLOWUP_AFTER, now), settings.quiet, programme.timezone
        ),
        now,
    )


def invite(
    session: Session,
    meeting: Meeting,
    group: MentorGroup,
    programme: Programme,
    person_id: int,
    now: datetime,
    translator: Translator | None = None,
    cancel: bool = False,
) -> Attachment:
    """The group meeting's `.ics` in this member's language and zone (a CANCEL with
    `cancel`)."""
    translator = translator or msg.default_translator()
    person = session.get(Person, person_id)
    language, zone = people.reader(session, person) if person else ("en", "UTC")
    summary = _l("Mentoring: group meeting of {group}", group=group.name)
    description = _l(
        "Group meeting {number} of {group} in {programme}, planned with Maatje.",
        number=meeting.number,
        group=group.name,
        programme=programme.name,
    )
    return msg.ics_attachment(
        meeting,
        f"maatje-group-meeting-{meeting.number}.ics",
        summary,
        description,
        translator,
        language,
        zone,
        now,
        cancel,
    )
