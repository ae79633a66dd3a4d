"""The demo programme: a coordinator, two mentors, five mentees and two mentor groups.

Used by `maatje demo` (and `maatje run` without a config.toml). Seeding is idempotent. Anna and
Bram have not done their intake yet, so acting as them starts it; the others have finished and
are already matched (Chloé and Daan with Maarten, Eva with Mila): their group and pair spaces
open when the demo starts. Chloé and Daan find their kennismakingsgids waiting there; Mila and
Eva filled theirs in already, so Maatje proposes their first meeting at once. Moving the clock
(`/time +1d`) walks them through confirmation with a calendar invite, reminders, "did you
meet?", a missed meeting, a new time and — the demo programme escalates after one missed
meeting — an escalation that `/status` shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot import spaces
from bot.config.model import ProgrammeConfig, QuietPeriod
from bot.domain import (
    Consent,
    GroupMember,
    Identity,
    IntakeAnswer,
    IntakeState,
    Membership,
    MentorGroup,
    Pair,
    Person,
    Programme,
    Role,
)

PLATFORM = "console"
WORKSPACE = "demo"


@dataclass(frozen=True)
class DemoPerson:
    user_id: str
    name: str
    role: Role
    language: str
    intake_done: bool


PEOPLE = (
    DemoPerson("cora", "Cora", Role.COORDINATOR, "nl", True),
    DemoPerson("maarten", "Maarten", Role.MENTOR, "nl", True),
    DemoPerson("mila", "Mila", Role.MENTOR, "en", True),
    DemoPerson("anna", "Anna", Role.MENTEE, "nl", False),
    DemoPerson("bram", "Bram", Role.MENTEE, "en", False),
    DemoPerson("chloe", "Chloé", Role.MENTEE, "nl", True),
    DemoPerson("daan", "Daan", Role.MENTEE, "nl", True),
    DemoPerson("eva", "Eva", Role.MENTEE, "en", True),
)
GROUPS = {"maarten": ("chloe", "daan"), "mila": ("eva",)}
GUIDE_DONE = {("mila", "eva")}
"""Pairs seeded with a complete kennismakingsgids: their meetings are planned straight away."""
AGREEMENT = {
    "cadence": "weekly",
    "cadence_agreed": True,
    "weekdays": ["tue", "thu"],
    "dayparts": ["afternoon"],
    "dates": [],
    "place": "online",
}


def demo_programme(today: date) -> ProgrammeConfig:
    start = today - timedelta(days=7)
    return ProgrammeConfig(
        name="Maatje demo",
        slug="demo",
        language="nl",
        timezone="Europe/Amsterdam",
        start=start,
        end=start + timedelta(days=150),
        meeting_cadence="biweekly",
        meetings=4,
        quiet_periods=(
            QuietPeriod(start + timedelta(days=60), start + timedelta(days=70), "holiday"),
        ),
        coordinators={"console": ("cora",)},
        referral="Talk to the student counsellor: counsellor@example.org",
        crisis_line="113 Zelfmoordpreventie, 0800-0113 (free, day and night); emergency: 112",
        stalled_missed_in_row=1,
        stalled_step_days=1,
        certificate_criteria={"mentees": 1, "meetings": 1},
    )


def seed(session: Session, now: datetime) -> None:
    programme = session.exec(select(Programme).where(Programme.slug == "demo")).one()
    assert programme.id is not None
    if session.exec(select(Identity).where(Identity.platform == PLATFORM)).first():
        return
    ids: dict[str, int] = {}
    for who in PEOPLE:
        person = Person(display_name=who.name, language=who.language, created_at=now)
        session.add(person)
        session.flush()
        assert person.id is not None
        ids[who.user_id] = person.id
        session.add(
            Identity(
                person_id=person.id, platform=PLATFORM, workspace=WORKSPACE, user_id=who.user_id
            )
        )
        intake = (
            IntakeState.NOT_NEEDED
            if who.role == Role.COORDINATOR
            else IntakeState.COMPLETE
            if who.intake_done
            else IntakeState.NOT_STARTED
        )
        session.add(
            Membership(
                programme_id=programme.id,
                person_id=person.id,
                role=who.role,
                intake=intake,
                joined_at=now,
            )
        )
        if who.intake_done and who.role != Role.COORDINATOR:
            session.add(
                Consent(
                    person_id=person.id,
                    programme_id=programme.id,
                    purpose="intake",
                    text_version=1,
                    given=True,
                    at=now,
                )
            )
            for key, value in _answers(who).items():
                session.add(
                    IntakeAnswer(
                        person_id=person.id,
                        programme_id=programme.id,
                        role=who.role,
                        key=key,
                        value=value,
                    )
                )
    names = {p.user_id: p.name for p in PEOPLE}
    for mentor, mentees in GROUPS.items():
        group = MentorGroup(programme_id=programme.id, mentor_id=ids[mentor], name=names[mentor])
        session.add(group)
        session.flush()
        assert group.id is not None
        pairs = []
        for mentee in mentees:
            session.add(GroupMember(group_id=group.id, person_id=ids[mentee]))
            done = (mentor, mentee) in GUIDE_DONE
            pairs.append(
                Pair(
                    programme_id=programme.id,
                    group_id=group.id,
                    mentor_id=ids[mentor],
                    mentee_id=ids[mentee],
                    matched_at=now,
                    fit=0.8,
                    guide=_guide() if done else {},
                    agreement=dict(AGREEMENT) if done else {},
                )
            )
        session.add_all(pairs)
        session.flush()
        spaces.plan_group(session, group, [ids[mentor], *(ids[m] for m in mentees)], now)
        spaces.plan_pairs(session, pairs, now)
    session.flush()


def _guide() -> dict[str, object]:
    side = {
        "channels": ["chat", "video"],
        "place": "online",
        "cadence": "weekly",
        "weekdays": ["tue", "thu"],
        "dayparts": ["afternoon"],
        "dates": {},
        "content": {"thoughts": "new people", "topics": "planning"},
        "expectations": {"expectations": "honesty"},
        "agreement": {"reply": "within a day", "cancel": "a day ahead", "private": "all"},
    }
    return {"mentor": dict(side), "mentee": dict(side)}


FIELDS = {
    "maarten": "Law",
    "mila": "Psychology",
    "chloe": "Law",
    "daan": "Law",
    "eva": "Psychology",
}


def _answers(who: DemoPerson) -> dict[str, object]:
    common = {
        "weekdays": ["tue", "thu"],
        "dayparts": ["afternoon", "evening"],
        "language": who.language,
        "channels": ["chat", "video"],
        "commitment": True,
    }
    field = FIELDS[who.user_id]
    if who.role == Role.MENTOR:
        return {
            **common,
            "background": {"field": field, "current": "Master student"},
            "expertise": ["planning", "study_skills", "social"],
            "capacity": 3,
        }
    return {
        **common,
        "studies": {"programme": field, "year": 1},
        "topics": ["planning"],
        "motivation": 4,
    }
