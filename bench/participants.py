"""The scripted participants of the simulated programme: who they are, how they behave over
time (stalling, dropping out, saying the match doesn't work) and what they answer.

They answer as a person would: in their own language, within the programme's rules (a goal
that is specific and measurable, dates ahead), and never with words the safety net would take
for a crisis. Which answer is chosen depends only on the question, so that a run is
reproducible from its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine import (
    DateTimeInput,
    FormInput,
    FreeText,
    MultiChoice,
    Number,
    Scale,
    SingleChoice,
    TimeZoneInput,
    YesNo,
)
from bot.replies import FieldKind
from flows.growth.smart import Measure, Specific

ZONE = ZoneInfo("Europe/Amsterdam")

TEXTS = {
    "nl": {
        "what": "Tentamen statistiek halen met minstens een 7",
        "measure": "Het cijfer voor het tentamen en 3 hoofdstukken samengevat",
        "free": "Dat ging goed, we hebben veel besproken.",
        "programme": "Rechten",
        "field": "Bestuurskunde",
        "current": "Masterstudent",
    },
    "en": {
        "what": "Pass the statistics exam with at least a 7",
        "measure": "The exam grade and 3 chapters summarised",
        "free": "That went well, we talked about a lot.",
        "programme": "Law",
        "field": "Public administration",
        "current": "Master's student",
    },
}


@dataclass
class Participant:
    user_id: str
    role: str
    language: str
    drops_at: datetime | None = None
    stall: tuple[datetime, datetime] | None = None
    fails_fit: bool = False
    comments: bool = False
    """A mentor who comments on their mentee's goals."""
    types_zone: bool = False
    """Types a city for the time zone question instead of keeping the suggested zone."""

    def silent(self, now: datetime) -> bool:
        return self.drops_at is not None and now >= self.drops_at

    def stalling(self, now: datetime) -> bool:
        return self.stall is not None and self.stall[0] <= now < self.stall[1]

    def holds_back(self, flow: str, now: datetime) -> bool:
        """A stalling mentee lets meeting business lie for a while."""
        return self.stalling(now) and flow in ("meeting_time", "goals", "checkin")


def plan_behaviour(
    people: list[Participant],
    rng: random.Random,
    start: date,
    stall_fraction: float,
    drop_fraction: float,
    fit_failure_fraction: float,
) -> None:
    """Who will stall, drop out or say the match doesn't work (seeded)."""
    begin = datetime.combine(start, time(9), ZONE)
    for person in people:
        if rng.random() < drop_fraction:
            person.drops_at = begin + timedelta(days=rng.randint(14, 100))
        if person.role == "mentor":
            person.comments = rng.random() < 0.25
            continue
        if rng.random() < stall_fraction:
            first = begin + timedelta(days=rng.randint(25, 60))
            person.stall = (first, first + timedelta(days=rng.randint(14, 28)))
        person.fails_fit = rng.random() < fit_failure_fraction
    for person in people:
        person.types_zone = person.language == "en" and rng.random() < 0.3


def day(now: datetime, days: int) -> str:
    return (now.astimezone(ZONE) + timedelta(days=days)).strftime("%d-%m-%Y")


class Answers:
    """What a participant answers to one question of a conversation."""

    def __init__(self, person: Participant, flow: str, step: str, now: datetime) -> None:
        self.person, self.flow, self.step, self.now = person, flow, step, now
        self.texts = TEXTS[person.language]

    def form(self, accepts: FormInput) -> dict[str, str]:
        values = {}
        for number, f in enumerate(accepts.fields):
            if f.kind is FieldKind.NUMBER:
                values[f.name] = "2"
            elif f.kind is FieldKind.DATE:  # meetings 2 and 3: two and four weeks ahead
                values[f.name] = day(self.now, 14 * (number + 1))
            else:
                values[f.name] = self.texts.get(f.name, self.texts["free"])
        return values

    def text(self, accepts: Any) -> str | None:
        """A typed answer, or None when the question is answered with a button."""
        if isinstance(accepts, Specific):
            return self.texts["what"]
        if isinstance(accepts, Measure):
            return self.texts["measure"]
        if isinstance(accepts, FreeText):
            return self.texts["free"]
        if isinstance(accepts, Number):
            wanted = 6 if self.step == "capacity" else 3
            return str(max(accepts.minimum, min(wanted, accepts.maximum)))
        if isinstance(accepts, DateTimeInput):
            when = day(self.now, 40 if self.flow == "goals" else 3)
            return f"{when} 15:00" if accepts.with_time else when
        if isinstance(accepts, TimeZoneInput) and self.person.types_zone:
            return "London"
        return None

    def choice(self, accepts: Any) -> tuple[str, ...]:
        values = [o.value for o in accepts.options()]
        if isinstance(accepts, YesNo):
            no = self.step in ("support_check", "another", "help")
            return ("no" if no else "yes",)
        if isinstance(accepts, MultiChoice):
            return tuple(values[:2])
        if isinstance(accepts, Scale):
            return (values[len(values) * 3 // 4],)
        if isinstance(accepts, SingleChoice):
            if self.flow == "intake" and self.step == "role":
                return (self.person.role,)
            if self.step == "language":  # mentors are fine with either language
                wanted = "either" if self.person.role == "mentor" else self.person.language
                return (wanted,) if wanted in values else (values[0],)
        return (values[0],) if values else ()

    def button(self, kind: str, values: tuple[str, ...]) -> tuple[str, ...] | None:
        """The answer to a command's buttons (`c:<kind>:…`), or None to leave them."""
        person, now = self.person, self.now
        if kind in ("meet", "met", "groupvote", "groupmet") and person.stalling(now):
            return None
        if kind == "fit":  # a match that doesn't work: the first one only
            failing, person.fails_fit = person.fails_fit, False
            return ("not_working",) if failing else ("good",)
        if kind in ("privacy", "language", "commit"):
            return None
        if kind == "goals" and not person.comments:
            return None
        return (values[0],)
