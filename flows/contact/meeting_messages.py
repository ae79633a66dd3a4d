"""What the meeting conversations share: addressing a pair, the agenda per meeting number, and
calendar invites.

A meeting's time is a `datetime` parameter: it is shown in each reader's own zone and language
at send time (in a shared space, in the zones of everyone there). Invites are rendered when
they are attached, in the reader's language and zone: an `.ics` file cannot be translated
later.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlmodel import Session

from bot.domain import Meeting, Pair, Person, Programme
from bot.engine import Outbound
from bot.events import SpaceKind
from bot.i18n import Text, Translator, _l
from bot.replies import Attachment, Reply
from bot.services import calendar, people
from bot.services import pairs as pair_store
from bot.spaces import space_of

DEFAULT_AGENDA: tuple[tuple[Text, Text], ...] = (
    (
        _l("Getting to know each other: roles, expectations, goals and planning your meetings"),
        _l(
            "Go through the introduction guide together, and each choose one goal for the "
            "coming weeks."
        ),
    ),
    (
        _l("Resilience: your own story and what gives you strength"),
        _l(
            "Each draw a life line with its high and low points, then tell each other about two "
            "turning points and what helped you through them."
        ),
    ),
    (
        _l("Study challenges: what is hard right now, and what could help"),
        _l(
            "Write down the three biggest challenges, pick one, and think up small next steps "
            "and who else could support."
        ),
    ),
    (
        _l("Looking back and ahead: were the expectations and goals met?"),
        _l(
            "Compare where you are now with the goals from your first meeting, and agree "
            "whether and how you will stay in touch."
        ),
    ),
)
CHECK_IN = (
    _l("Check-in: what happened since last time, progress on goals, next steps"),
    _l("Each name one thing that went well and one next step."),
)


def agenda(programme: Programme, number: int) -> tuple[Text | str, Text | str]:
    """The theme and suggested exercise for meeting `number` (1-based)."""
    configured = programme.settings.get("meeting_agenda") or []
    if configured:
        if number <= len(configured):
            item = configured[number - 1]
            return item["theme"], item.get("exercise") or _l("none")
        return CHECK_IN
    return DEFAULT_AGENDA[number - 1] if number <= len(DEFAULT_AGENDA) else CHECK_IN


def in_pair_space(session: Session, pair: Pair, person_id: int, reply: Reply) -> Outbound:
    """A message addressed to one member in the pair's space (their direct chat when the pair
    has no space yet), read in their own language and zone."""
    space = space_of(pair, SpaceKind.PAIR)
    ref = people.ref_on(session, person_id, space.platform) if space else None
    if space is None or ref is None:
        return Outbound(person_id, reply)
    return Outbound(person_id, reply, space, ref)


def to_pair(session: Session, pair: Pair, reply: Reply) -> list[Outbound]:
    """A post for both in the pair space (rendered for both when it is sent), or a direct
    message to each when there is no space."""
    space = space_of(pair, SpaceKind.PAIR)
    if space is None:
        return [Outbound(pair.mentor_id, reply), Outbound(pair.mentee_id, reply)]
    return [Outbound(pair.mentor_id, reply, space)]


@lru_cache(maxsize=1)
def default_translator() -> Translator:
    """For invites made by scheduled jobs, which run without a conversation's translator."""
    return Translator()


def invite(
    session: Session,
    meeting: Meeting,
    pair: Pair,
    person_id: int,
    now: datetime,
    translator: Translator | None = None,
    cancel: bool = False,
) -> Attachment:
    translator = translator or default_translator()
    person = session.get(Person, person_id)
    language, zone = people.reader(session, person) if person else ("en", "UTC")
    programme = session.get(Programme, meeting.programme_id)
    assert programme is not None
    theme, _ = agenda(programme, meeting.number)
    other = people.name(session, pair_store.other_of(pair, person_id))
    summary = _l("Mentoring: meeting {number} with {other}", number=meeting.number, other=other)
    description = _l(
        "Meeting {number} of {total} in {programme}, planned with Maatje. Theme: {theme}",
        number=meeting.number,
        total=programme.meetings,
        programme=programme.name,
        theme=theme,
    )
    return ics_attachment(
        meeting,
        calendar.filename(meeting.number),
        summary,
        description,
        translator,
        language,
        zone,
        now,
        cancel,
    )


def ics_attachment(
    meeting: Meeting,
    filename: str,
    summary: Text,
    description: Text,
    translator: Translator,
    language: str,
    zone: str,
    now: datetime,
    cancel: bool = False,
) -> Attachment:
    """A meeting's `.ics`, its texts rendered for one reader (a file is not translated at send
    time like a message, so it is rendered here)."""
    content = calendar.invite(
        uid=meeting.ics_uid,
        sequence=meeting.ics_sequence,
        starts_at=meeting.starts_at,
        minutes=meeting.duration_minutes,
        summary=translator.render(summary, language, zone),
        description=translator.render(description, language, zone),
        timezone=zone,
        now=now,
        cancel=cancel,
    )
    return Attachment(filename, content, calendar.MIMETYPE)
