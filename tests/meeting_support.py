"""Helpers for the meeting tests: a matched pair with a complete kennismakingsgids, set up
directly in the store, and the texts and files a person received."""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar
from sqlmodel import select

from bot.delivery import enqueue_outbound
from bot.domain import (
    Consent,
    GroupMember,
    Identity,
    IntakeState,
    Meeting,
    MeetingStatus,
    Membership,
    MentorGroup,
    Pair,
    Person,
    Programme,
    Role,
)
from bot.testing import Conversation
from flows.contact import meetings

GUIDE = {"mentor": {"cadence": "weekly"}, "mentee": {"cadence": "weekly"}}
AGREEMENT = {"cadence": "weekly", "weekdays": ["tue"], "dayparts": ["evening"], "dates": []}


def person(session, programme: Programme, who: str, role: Role, now: datetime, **fields) -> int:
    row = Person(display_name=who.capitalize(), created_at=now, **fields)
    session.add(row)
    session.flush()
    session.add(Identity(person_id=row.id, platform="console", workspace="test", user_id=who))
    session.add(
        Membership(
            programme_id=programme.id,
            person_id=row.id,
            role=role,
            intake=IntakeState.COMPLETE,
            joined_at=now,
        )
    )
    session.add(
        Consent(
            person_id=row.id,
            programme_id=programme.id,
            purpose="intake",
            text_version=1,
            given=True,
            at=now,
        )
    )
    return row.id


def make_pair(
    session,
    now: datetime,
    mentor: str = "maarten",
    mentee: str = "anna",
    agreement: dict | None = None,
    mentor_fields: dict | None = None,
    mentee_fields: dict | None = None,
    space: bool = True,
) -> Pair:
    programme = session.exec(select(Programme)).first()
    mentor_id = person(session, programme, mentor, Role.MENTOR, now, **(mentor_fields or {}))
    mentee_id = person(session, programme, mentee, Role.MENTEE, now, **(mentee_fields or {}))
    group = MentorGroup(programme_id=programme.id, mentor_id=mentor_id, name=mentor)
    session.add(group)
    session.flush()
    session.add(GroupMember(group_id=group.id, person_id=mentee_id))
    pair = Pair(
        programme_id=programme.id,
        group_id=group.id,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        matched_at=now,
        guide=dict(GUIDE),
        agreement=dict(agreement or AGREEMENT),
    )
    if space:
        pair.space_platform, pair.space_workspace = "console", "test"
        pair.space_channel = f"pair-test-{mentor}-{mentee}"
    session.add(pair)
    session.flush()
    return pair


def plant_pairs(
    session, now: datetime, plans: dict, spread: timedelta = timedelta(0)
) -> dict[str, Pair]:
    """Pairs as `plans` describes them, by mentee: (days since matching, guide complete,
    meetings as (status, start[, confirmations])); meeting n starts n × `spread` later than
    its start says."""
    pairs = {}
    for mentee, (matched_days, guide, planned) in plans.items():
        pair = pairs[mentee] = make_pair(session, now, mentor=f"mentor-{mentee}", mentee=mentee)
        pair.matched_at = now - timedelta(days=matched_days)
        if not guide:
            pair.guide = {}
        for number, (status, starts_at, *confirmations) in enumerate(planned, start=1):
            session.add(
                Meeting(
                    programme_id=pair.programme_id,
                    pair_id=pair.id,
                    number=number,
                    starts_at=starts_at + spread * number,
                    status=status,
                    confirmations=confirmations[0] if confirmations else {},
                    ics_uid=f"{mentee}-{number}",
                    created_at=now,
                )
            )
    return pairs


def held(session, pair: Pair, starts_at: datetime, number: int = 1) -> Meeting:
    """A meeting of the pair that took place (both said so)."""
    meeting = Meeting(
        programme_id=pair.programme_id,
        pair_id=pair.id,
        number=number,
        starts_at=starts_at,
        status=MeetingStatus.HELD,
        ics_uid=f"held-{pair.id}-{number}@test",
        created_at=starts_at,
    )
    session.add(meeting)
    return meeting


async def planned_pair(app, now: datetime, **options) -> int:
    """A pair whose guide is complete and whose first meeting has just been proposed."""
    with app.store.session() as session:
        pair = make_pair(session, now, **options)
        enqueue_outbound(session, meetings.start_plan(session, pair, now), f"plan:{pair.id}", now)
        pair_id = pair.id
    await app.core.dispatcher.run_due()
    return pair_id


def open_meeting(app, pair_id: int) -> Meeting:
    from bot.services import meetings as store

    with app.store.session() as session:
        meeting = store.open_meeting(session, pair_id)
        assert meeting is not None
        return meeting


def invites(chat: Conversation, who: str) -> list[Calendar]:
    return [
        Calendar.from_ical(f.content)
        for m in chat.messages(who)
        for f in m.files
        if f.filename.endswith(".ics")
    ]


async def answer(chat: Conversation, who: str, value: str, kind: str = "") -> None:
    """Click `value` under the most recent message to `who` with buttons (whose token starts
    with `c:<kind>:` when given: "meet" for proposals, "met" for "did you meet?")."""
    prefix = f"c:{kind}:" if kind else ""
    message = next(
        m
        for m in reversed(chat.messages(who))
        if m.choice_token and m.choice_token.startswith(prefix)
    )
    await chat.click(who, value, token=message.choice_token)


def pair_posts(chat: Conversation, mentor: str = "maarten", mentee: str = "anna") -> list[str]:
    return [m.text for m in chat.messages(f"#pair-test-{mentor}-{mentee}")]


def enter_pair(chat: Conversation, *who: str) -> None:
    for name in who:
        chat.enter(name, "pair-test-")
