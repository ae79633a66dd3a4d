"""`status` for coordinators: each programme they coordinate at a glance — participants by
intake state, pairs by state, meetings held, missed and planned, and stalled pairs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot import Turn, outbox
from bot.delivery import SEND
from bot.domain import IntakeState, Meeting, Membership, Pair, PollStatus, Programme, Role
from bot.i18n import Lines, Text, _l, _n
from bot.services import closing, endings, pair_states, people
from bot.services import meetings as store
from bot.services import polls as poll_store
from bot.spaces import OPEN_SPACE
from flows import safeguarding
from flows.contact import stalled
from flows.ending import closed_programme

STATE_LABELS = {
    IntakeState.NOT_STARTED: _l("intake not started"),
    IntakeState.IN_PROGRESS: _l("intake in progress"),
    IntakeState.COMPLETE: _l("intake complete"),
    IntakeState.NOT_COMMITTED: _l("did not commit"),
}
ROLE_LABELS = {Role.MENTEE: _l("Mentees"), Role.MENTOR: _l("Mentors")}
PAIR_STATES = {
    pair_states.PairState.STARTING: _l("filling in the introduction guide"),
    pair_states.PairState.PROPOSED: _l("meeting proposed"),
    pair_states.PairState.PLANNED: _l("meeting planned"),
    pair_states.PairState.WAITING: _l("waiting to hear whether they met"),
    pair_states.PairState.UNPLANNED: _l("no meeting planned"),
    pair_states.PairState.STALLED: _l("stalled"),
    pair_states.PairState.FINISHED: _l("all meetings held"),
    pair_states.PairState.ENDED: _l("ended"),
}
PAIR_COUNTS = {
    pair_states.PairState.STARTING: _n(
        "{count} pair filling in the introduction guide",
        "{count} pairs filling in the introduction guide",
        0,
    ),
    pair_states.PairState.PROPOSED: _n(
        "{count} pair with a meeting proposed", "{count} pairs with a meeting proposed", 0
    ),
    pair_states.PairState.PLANNED: _n(
        "{count} pair with a meeting planned", "{count} pairs with a meeting planned", 0
    ),
    pair_states.PairState.WAITING: _n(
        "{count} pair yet to say whether they met",
        "{count} pairs yet to say whether they met",
        0,
    ),
    pair_states.PairState.UNPLANNED: _n(
        "{count} pair with no meeting planned", "{count} pairs with no meeting planned", 0
    ),
    pair_states.PairState.STALLED: _n("{count} stalled pair", "{count} stalled pairs", 0),
    pair_states.PairState.FINISHED: _n(
        "{count} pair that held all meetings", "{count} pairs that held all meetings", 0
    ),
    pair_states.PairState.ENDED: _n("{count} ended pair", "{count} ended pairs", 0),
}
"""How many pairs are in each state (`replace(text, count=n)` picks the plural)."""


def status(turn: Turn, args: tuple[str, ...]) -> None:
    for programme in people.coordinated_programmes(turn.session, turn.person_id):
        members = turn.session.exec(
            select(Membership).where(Membership.programme_id == programme.id)
        ).all()
        lines: list[Text] = []
        for role, label in ROLE_LABELS.items():
            of_role = [m for m in members if m.role == role]
            counts = Counter(m.intake for m in of_role)
            states = [
                _l("{count} {state}", count=counts[state], state=state_label)
                for state, state_label in STATE_LABELS.items()
                if counts[state]
            ]
            lines.append(
                _l(
                    "{role}: {total} ({states})",
                    role=label,
                    total=len(of_role),
                    states=states or _l("none yet"),
                )
            )
        lines.extend(safeguarding.status_lines(turn.session, programme))
        closed = closing.closed_at(turn.session, programme)
        if closed is None:
            lines.extend(meeting_lines(turn.session, programme, turn.now))
            lines.extend(poll_lines(turn.session, programme))
        else:  # its pairs have ended: the record of what happened
            lines.extend(closed_programme.status_lines(turn.session, programme, closed))
        turn.say(
            _l(
                "{programme} ({start} – {end})\n{lines}",
                programme=programme.name,
                start=programme.start,
                end=programme.end,
                lines=Lines(tuple(lines)),
            )
        )
    work_under_way(turn)


def poll_lines(session: Session, programme: Programme) -> list[Text]:
    """Open polls and how many of those asked have answered."""
    lines = []
    for poll in poll_store.of_programme(session, programme.id or 0):
        if poll.status != PollStatus.OPEN:
            continue
        invited, answered = poll_store.counts(session, poll.id or 0)
        lines.append(
            _l(
                "Poll {name}: {answered} of {invited} answered ({rate}%)",
                name=poll.questionnaire,
                answered=answered,
                invited=invited,
                rate=round(100 * answered / invited) if invited else 0,
            )
        )
    return lines


def work_under_way(turn: Turn) -> None:
    """What Maatje still has to do right now (spaces to open, messages to send): bulk work
    such as opening 200 pair spaces is paced to the platform's limits and takes a while."""
    waiting = outbox.backlog(turn.session, turn.now)
    spaces, messages = waiting.get(OPEN_SPACE, 0), waiting.get(SEND, 0)
    if spaces or messages:
        turn.say(
            _l(
                "Under way: {spaces} and {messages}.",
                spaces=_n("{count} space to open", "{count} spaces to open", spaces),
                messages=_n("{count} message to send", "{count} messages to send", messages),
            )
        )


def meeting_lines(session: Session, programme: Programme, now: datetime) -> list[Text]:
    """Pairs by state, meetings of the last and next four weeks, and the stalled pairs."""
    pairs, meetings = pair_states.active_pair_rows(session, programme.id or 0)  # read, not changed
    states = Counter(pair_states.states_of(programme, pairs, meetings, now).values())
    counted = [
        replace(text, params={"count": states[state]}, count=states[state])
        for state, text in PAIR_COUNTS.items()
        if states[state]
    ]
    numbers = store.counts(session, programme.id or 0, now)
    ending = len(endings.open_requests(session, programme.id or 0, now))
    asked = [_l("Pairs that asked to end: {count} (type 'match' to review)", count=ending)]
    return [
        _l("Pairs: {total} ({states})", total=len(pairs), states=counted or _l("none yet")),
        _l(
            "Meetings in the last four weeks: {held} held, {missed} missed; confirmed for the "
            "next four weeks: {planned}",
            held=numbers.held,
            missed=numbers.missed,
            planned=numbers.planned,
        ),
        _l(
            "Stalled pairs: {pairs}",
            pairs=stalled_lines(session, programme, now, pairs, meetings) or _l("none"),
        ),
        *(asked if ending else []),
    ]


def stalled_lines(
    session: Session,
    programme: Programme,
    now: datetime,
    pairs: Sequence[Pair | Any],
    meetings: dict[int, list[Meeting | Any]],
) -> list[Text]:
    """The stalled ones of the programme's active `pairs`, from their `meetings` (objects, or
    rows as `store.active_pair_rows` reads them)."""
    settings = store.MeetingSettings.of(programme)
    lines = []
    for pair in pairs:
        of_pair = meetings.get(pair.id or 0, [])
        rules = pair_states.stalled_rules(pair, of_pair, settings, now)
        if not rules:
            continue
        steps = pair_states.open_escalations(session, pair, of_pair)
        days = pair_states.stalled_days(pair, of_pair, rules[0], now)
        lines.append(
            _l(
                "{mentor} and {mentee}: {reason} (step {level} of 3)",
                mentor=people.name(session, pair.mentor_id),
                mentee=people.name(session, pair.mentee_id),
                reason=stalled.reason(rules[0], settings, days),
                level=max((s.level for s in steps), default=0),
            )
        )
    return lines
