"""Coordinator commands about pairs: `pairs [stalled]`, `pair @person`, `remind @person|stalled`.

A pair's timeline shows when things happened — matching, meetings and their outcome,
escalation steps — and nothing of what the pair wrote in their guide. It does show each side's
answers to the two private questions about the match, the fit check and (at closing) keeping in
touch: both were asked with "only the coordinators see your answer".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot import Turn
from bot.domain import EndSource, Identity, MeetingStatus, Pair, PairStatus, Programme
from bot.i18n import Lines, Text, _l, _n
from bot.replies import Option
from bot.services import closing as programme_closing
from bot.services import endings, pair_states, people
from bot.services import meetings as store
from bot.services import pairs as pair_store
from flows import safeguarding
from flows.contact import stalled
from flows.coordination.status import PAIR_STATES
from flows.ending import closed_programme, closing
from flows.matchmaking import pairing

MEETING_STATES = {
    MeetingStatus.PROPOSED: _l("proposed"),
    MeetingStatus.CONFIRMED: _l("confirmed"),
    MeetingStatus.HELD: _l("held"),
    MeetingStatus.MISSED: _l("did not take place"),
    MeetingStatus.CANCELLED: _l("cancelled"),
    MeetingStatus.RESCHEDULED: _l("moved to another time"),
}
RULES = {
    pair_states.Rule.NO_FIRST_MEETING.value: _l("no first meeting"),
    pair_states.Rule.MISSED_IN_ROW.value: _l("missed meetings in a row"),
    pair_states.Rule.SILENCE.value: _l("no answer"),
}
END_SOURCES = {
    EndSource.FIT_CHECK.value: _l("the fit check"),
    EndSource.STALLED.value: _l("stalled after the last step"),
    EndSource.PARTICIPANT.value: _l("asked by a participant"),
}
STALLED_WORDS = ("stalled", "vastgelopen")
_MENTION = re.compile(r"^<@([A-Za-z0-9]+)(?:\|[^>]*)?>$")


def _find_pairs(turn: Turn, programmes: list[Programme], who: str) -> list[Pair]:
    """Pairs (of these programmes) of the person named: a mention, a display name or its
    start, or a person id."""
    ids = [p.id for p in programmes]
    pairs = turn.session.exec(
        select(Pair).where(col(Pair.programme_id).in_(ids)).order_by(col(Pair.id))
    ).all()
    mention = _MENTION.match(who)
    if mention:
        person_ids = set(
            turn.session.exec(
                select(Identity.person_id).where(Identity.user_id == mention[1])
            ).all()
        )
    else:
        wanted = who.lstrip("@").casefold()
        members = {p for pair in pairs for p in (pair.mentor_id, pair.mentee_id)}
        names = {p: people.name(turn.session, p).casefold() for p in members}
        exact = {p for p, n in names.items() if n == wanted or str(p) == wanted}
        person_ids = exact or {p for p, n in names.items() if n.startswith(wanted)}
    found = [p for p in pairs if {p.mentor_id, p.mentee_id} & person_ids]
    active = [p for p in found if p.status == PairStatus.ACTIVE]
    return active or found


def _next_meeting(session: Session, pair: Pair, now: datetime) -> Any:
    """The next meeting ahead: its time when confirmed, marked when only proposed; a time
    already past is never "next"."""
    current = store.open_meeting(session, pair.id or 0)
    if current is None or current.starts_at <= now:
        return _l("none")
    if current.status == MeetingStatus.PROPOSED:
        return _l("{when} (proposed, not yet confirmed)", when=current.starts_at)
    return current.starts_at


def pairs_command(turn: Turn, args: tuple[str, ...]) -> None:
    only_stalled = bool(args) and args[0].lower() in STALLED_WORDS
    for programme in people.coordinated_programmes(turn.session, turn.person_id):
        if not only_stalled and programme_closing.is_closed(turn.session, programme):
            turn.say(closed_programme.pairs_text(turn.session, programme))
            continue
        lines = []
        for pair in pair_store.active_pairs(turn.session, programme.id or 0):
            state = pair_states.state_of(turn.session, pair, turn.now)
            if only_stalled and state is not pair_states.PairState.STALLED:
                continue
            lines.append(
                _l(
                    "{mentor} and {mentee}: {state}; next meeting: {next}",
                    mentor=people.name(turn.session, pair.mentor_id),
                    mentee=people.name(turn.session, pair.mentee_id),
                    state=PAIR_STATES[state],
                    next=_next_meeting(turn.session, pair, turn.now),
                )
            )
        if lines:
            turn.say(
                _l(
                    "Pairs in {programme}:\n{lines}",
                    programme=programme.name,
                    lines=Lines(tuple(lines)),
                )
            )
        elif only_stalled:
            turn.say(_l("No stalled pairs in {programme}.", programme=programme.name))
        else:
            turn.say(_l("No pairs in {programme} yet.", programme=programme.name))


def pair_command(turn: Turn, args: tuple[str, ...]) -> None:
    if not args:
        turn.say(_l("Whose pair? For example: pair Anna."))
        return
    who = " ".join(args)
    pairs = _find_pairs(turn, people.coordinated_programmes(turn.session, turn.person_id), who)
    if not pairs:
        turn.say(_l("I couldn't find a pair with '{name}'.", name=who[:60]))
        return
    for pair in pairs:
        turn.say(timeline(turn.session, pair, turn.now))
        notes = safeguarding.pair_notes(turn.session, pair)
        if notes is not None:
            turn.say(notes)


def timeline(session: Session, pair: Pair, now: datetime) -> Text:
    assert pair.id is not None
    events: list[tuple[datetime, Text]] = [
        (pair.matched_at, _l("{when}: matched", when=pair.matched_at))
    ]
    for meeting in store.meetings_of(session, pair.id):
        events.append(
            (
                meeting.starts_at,
                _l(
                    "{when}: meeting {number}, {state}",
                    when=meeting.starts_at,
                    number=meeting.number,
                    state=MEETING_STATES.get(MeetingStatus(meeting.status), meeting.status),
                ),
            )
        )
    for step in pair_states.escalations_of(session, pair.id):
        if step.level == 0:
            text = _l("{when}: a reminder from a coordinator", when=step.at)
        else:
            text = _l(
                "{when}: escalation step {level} of 3 ({rule})",
                when=step.at,
                level=step.level,
                rule=RULES.get(step.rule, step.rule),
            )
        events.append((step.at, text))
    for request in endings.requests_of(session, pair.id):
        text = _l(
            "{when}: put forward for ending ({source})",
            when=request.at,
            source=END_SOURCES.get(request.source, request.source),
        )
        events.append((request.at, text))
    events.sort(key=lambda e: e[0])
    lines = [text for _, text in events] + private_answers(pair)
    state = pair_states.state_of(session, pair, now)
    return _l(
        "{mentor} (mentor) and {mentee} (mentee) — {state}, introduction guide {guide}:\n{lines}",
        mentor=people.name(session, pair.mentor_id),
        mentee=people.name(session, pair.mentee_id),
        state=PAIR_STATES[state],
        guide=_l("complete")
        if "mentor" in pair.guide and "mentee" in pair.guide
        else _l("not complete yet"),
        lines=Lines(tuple(lines)),
    )


def private_answers(pair: Pair) -> list[Text]:
    """Each side's answers to the fit check and the keep-in-touch question, once asked."""

    def label(options: tuple[Option, ...], value: str | None) -> Any:
        return next((o.label for o in options if o.value == value), _l("no answer"))

    lines = []
    fit = pair.guide.get("fit") or {}
    if fit:
        lines.append(
            _l(
                "Fit check (private answers): mentor: {mentor}; mentee: {mentee}",
                mentor=label(pairing.ANSWERS, fit.get("mentor")),
                mentee=label(pairing.ANSWERS, fit.get("mentee")),
            )
        )
    keep = pair.guide.get("keep_in_touch") or {}
    if keep:
        lines.append(
            _l(
                "Keeping in touch (private answers): mentor: {mentor}; mentee: {mentee}",
                mentor=label(closing.KEEP_OPTIONS, keep.get("mentor")),
                mentee=label(closing.KEEP_OPTIONS, keep.get("mentee")),
            )
        )
    return lines


def remind_command(turn: Turn, args: tuple[str, ...]) -> None:
    if not args:
        turn.say(_l("Whom should I remind? For example: remind Anna, or remind stalled."))
        return
    programmes = people.coordinated_programmes(turn.session, turn.person_id)
    if args[0].lower() in STALLED_WORDS:
        pairs = [
            pair
            for programme in programmes
            for pair in pair_store.active_pairs(turn.session, programme.id or 0)
            if pair_states.is_stalled(turn.session, pair, turn.now)
        ]
    else:
        pairs = [
            p
            for p in _find_pairs(turn, programmes, " ".join(args))
            if p.status == PairStatus.ACTIVE
        ]
    if not pairs:
        turn.say(_l("There is no pair to remind."))
        return
    for pair in pairs:
        turn.outbound.extend(stalled.coordinator_reminder(turn.session, pair, turn.now))
    names = [
        _l(
            "{mentor} and {mentee}",
            mentor=people.name(turn.session, p.mentor_id),
            mentee=people.name(turn.session, p.mentee_id),
        )
        for p in pairs
    ]
    turn.say(
        _n(
            "I sent a reminder to {count} pair: {pairs}.",
            "I sent a reminder to {count} pairs: {pairs}.",
            len(pairs),
            pairs=names,
        )
    )
