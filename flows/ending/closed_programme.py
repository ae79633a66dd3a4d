"""What coordinators see of a closed programme (`status`, `pairs`).

Closing ends every pair, so the views of a running programme — its active pairs and the last
and next four weeks — would show nothing. A closed programme is shown as a record instead:
every pair it had, the meetings they held, each side's keep-in-touch answer (only coordinators
see these; the pair was told so) and how many answered each poll, the final evaluation among
them.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.domain import Meeting, MeetingStatus, Pair, PollStatus, Programme
from bot.i18n import Lines, Text, _l, _n
from bot.services import people
from bot.services import polls as poll_store

KEEP_ANSWERS = {
    "yes": _l("yes"),
    "would_like": _l("no, but would like to"),
    "no": _l("no"),
}


def _pairs(session: Session, programme: Programme) -> list[Pair]:
    return list(
        session.exec(
            select(Pair).where(Pair.programme_id == programme.id).order_by(col(Pair.id))
        ).all()
    )


def _held_and_missed(session: Session, programme: Programme) -> tuple[Counter, Counter]:
    """Per pair id: meetings held, and meetings that did not take place."""
    rows = session.exec(
        select(Meeting.pair_id, Meeting.status).where(
            Meeting.programme_id == programme.id, col(Meeting.pair_id).is_not(None)
        )
    ).all()
    held = Counter(pair for pair, status in rows if status == MeetingStatus.HELD)
    missed = Counter(pair for pair, status in rows if status == MeetingStatus.MISSED)
    return held, missed


def _ended_at_closing(pair: Pair) -> bool:
    return "closed_at" in pair.guide


def status_lines(session: Session, programme: Programme, closed: datetime) -> list[Text]:
    """`status` of a closed programme: its pairs, meetings, keep-in-touch answers and polls."""
    pairs = _pairs(session, programme)
    at_closing = [p for p in pairs if _ended_at_closing(p)]
    states = [
        _n(
            "{count} ended when the programme closed",
            "{count} ended when the programme closed",
            len(at_closing),
        )
    ]
    if len(pairs) > len(at_closing):
        states.append(
            _n("{count} ended earlier", "{count} ended earlier", len(pairs) - len(at_closing))
        )
    held, missed = _held_and_missed(session, programme)
    answers = Counter(
        p.guide.get("keep_in_touch", {}).get(side, "none")
        for p in at_closing
        for side in ("mentor", "mentee")
    )
    counted = (
        _l("Pairs: {total} ({states})", total=len(pairs), states=states)
        if pairs
        else _l("Pairs: none")
    )
    lines: list[Text] = [
        _l("Closed on {date}", date=closed.astimezone(ZoneInfo(programme.timezone)).date()),
        counted,
        _l(
            "Meetings held: {held}; did not take place: {missed}; pairs that met at least "
            "once: {met} of {total}",
            held=sum(held.values()),
            missed=sum(missed.values()),
            met=sum(1 for p in pairs if held[p.id]),
            total=len(pairs),
        ),
        _l(
            "Keeping in touch (each side's own answer): {yes} yes, {would_like} no but would "
            "like to, {no} no, {none} no answer",
            yes=answers["yes"],
            would_like=answers["would_like"],
            no=answers["no"],
            none=answers["none"],
        ),
    ]
    for poll in poll_store.of_programme(session, programme.id or 0):
        invited, answered = poll_store.counts(session, poll.id or 0)
        state = _l("open") if poll.status == PollStatus.OPEN else _l("closed")
        lines.append(
            _l(
                "Poll {name}: {answered} of {invited} answered ({state})",
                name=poll.questionnaire,
                answered=answered,
                invited=invited,
                state=state,
            )
        )
    return lines


def _keep(session: Session, pair: Pair) -> Text:
    given = pair.guide.get("keep_in_touch", {})
    sides = [
        _l(
            "{name}: {answer}",
            name=people.name(session, person_id),
            answer=KEEP_ANSWERS.get(given.get(side, ""), _l("no answer")),
        )
        for side, person_id in (("mentor", pair.mentor_id), ("mentee", pair.mentee_id))
    ]
    return _l("keeping in touch — {sides}", sides=sides)


def pairs_text(session: Session, programme: Programme) -> Text:
    """`pairs` of a closed programme: every pair, its meetings and its keep-in-touch answers."""
    held, _ = _held_and_missed(session, programme)
    lines = []
    for pair in _pairs(session, programme):
        if _ended_at_closing(pair):
            ended, keep = _l("ended when the programme closed"), _keep(session, pair)
        else:
            ended, keep = _l("ended earlier"), _l("not asked about keeping in touch")
        lines.append(
            _l(
                "{mentor} and {mentee}: {ended}; {meetings}; {keep}",
                mentor=people.name(session, pair.mentor_id),
                mentee=people.name(session, pair.mentee_id),
                ended=ended,
                meetings=_n("{count} meeting held", "{count} meetings held", held[pair.id]),
                keep=keep,
            )
        )
    if not lines:
        return _l("{programme} has closed; it had no pairs.", programme=programme.name)
    return _l(
        "Pairs of {programme}, which has closed:\n{lines}",
        programme=programme.name,
        lines=Lines(tuple(lines)),
    )
