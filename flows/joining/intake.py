"""Intake: consent first, then what matching needs to know, then an explicit commitment.

Mentees tell us about their studies, hopes, topics, availability, language, channels, how they
learn, whether they need more help than mentoring gives, and their motivation. Mentors tell us
their background, what they can help with, how many mentees they can take and what they want to
learn. Both are asked their time zone when their platform did not report one (the programme's
is the suggested answer). Nothing is stored before the consent question is answered with yes.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam
from sqlmodel import select

from bot import outbox, profiles
from bot.domain import Consent, IntakeAnswer, IntakeState, Membership, Role, Source
from bot.engine import (
    CANCEL,
    STOP,
    DateTimeInput,
    Flow,
    FlowContext,
    FormInput,
    FreeText,
    MultiChoice,
    Number,
    Scale,
    SingleChoice,
    Step,
    TimeZoneInput,
    YesNo,
)
from bot.i18n import _l
from bot.replies import Field, FieldKind, Option, Reply
from bot.services import people
from bot.services import safeguarding as alerts
from flows.everyone import vocabulary as v
from flows.joining import commitment

CONSENT_VERSION = 1
FORGET_KIND = "person.forget"


_MEMBERSHIP = select(Membership).where(  # built once: most intake steps look it up
    Membership.programme_id == bindparam("programme"),
    Membership.person_id == bindparam("person"),
    Membership.role != Role.COORDINATOR,
)
_MEMBERSHIP_KEY = "intake.membership"
_ANSWERS = select(IntakeAnswer).where(
    IntakeAnswer.person_id == bindparam("person"),
    IntakeAnswer.programme_id == bindparam("programme"),
)


def _membership(ctx: FlowContext) -> Membership | None:
    """The person's membership of the programme, looked up once per turn (every step's skip
    predicate asks for the role; a newcomer's is known to be none, `people.joined_none`);
    `_after_role` makes it."""
    assert ctx.programme is not None and ctx.person.id is not None
    programme, person = ctx.programme.id, ctx.person.id

    def read() -> Membership | None:
        if people.joined_none(ctx.session, person):
            return None
        params = {"programme": programme, "person": person}
        return ctx.session.exec(_MEMBERSHIP, params=params).first()

    return ctx.remember(_MEMBERSHIP_KEY, read)


def _role(ctx: FlowContext) -> str | None:
    membership = _membership(ctx)
    return membership.role if membership else ctx.answers.get("role")


def _is(role: Role):
    return lambda ctx: _role(ctx) != role


# -- consent ---------------------------------------------------------------------------------


def _consent_prompt(ctx: FlowContext):
    assert ctx.programme is not None
    return _l(
        "Welcome to {programme}! I'm Maatje, the programme's assistant.\n\n"
        "Before we start: to find you a good match I will ask about your studies or work, "
        "what you hope for, when you are available and how you like to keep in touch. "
        "I store your answers so that the coordinators of {programme} can match you and follow "
        "how the programme goes. Only they and, once matched, your mentor or mentee see what is "
        "needed for that. You can see, download or erase everything at any time with "
        "'privacy'.\n\n"
        "May I store your answers for this programme?",
        programme=ctx.programme.name,
    )


def _after_consent(ctx: FlowContext) -> None:
    assert ctx.programme is not None and ctx.programme.id is not None and ctx.person.id
    if not ctx.answer:
        ctx.say(
            _l(
                "No problem: I have not stored your answers, and I will forget this "
                "conversation. If you change your mind, just send me a message."
            )
        )
        outbox.enqueue(
            ctx.session,
            FORGET_KIND,
            {"person": ctx.person.id},
            f"forget:{ctx.person.id}:{ctx.run.id}",
            ctx.now + timedelta(hours=1),
            ctx.now,
        )
        return
    membership = _membership(ctx)
    people.give_consent(
        ctx.session,
        Consent(
            person_id=ctx.person.id,
            programme_id=ctx.programme.id,
            purpose="intake",
            text_version=CONSENT_VERSION,
            given=True,
            at=ctx.now,
        ),
    )
    if membership is not None:
        membership.intake = IntakeState.IN_PROGRESS
        ctx.session.add(membership)


def _after_role(ctx: FlowContext) -> None:
    assert ctx.programme is not None and ctx.programme.id is not None and ctx.person.id
    ctx.memo[_MEMBERSHIP_KEY] = people.join(
        ctx.session,
        Membership(
            programme_id=ctx.programme.id,
            person_id=ctx.person.id,
            role=Role(ctx.answer),
            intake=IntakeState.IN_PROGRESS,
            joined_at=ctx.now,
        ),
        ctx.programme,
    )


# -- support check and commitment ------------------------------------------------------------


def _after_support_check(ctx: FlowContext) -> None:
    if not ctx.answer:
        return
    assert ctx.programme is not None and ctx.programme.id is not None
    referral = ctx.programme.referral or _l("Please contact the programme's coordinators.")
    ctx.say(
        _l(
            "Thank you for telling me. A mentor is there for study-related questions, "
            "not for heavier problems, and you deserve proper help with those. {referral}\n\n"
            "I have let the coordinators know, so they can get in touch with you. "
            "Let's continue with the intake.",
            referral=referral,
        )
    )
    membership = _membership(ctx)
    if membership is not None:
        membership.needs_referral = True
        ctx.session.add(membership)
    for coordinator in people.coordinators_of(ctx.session, ctx.programme.id):
        ctx.tell(
            coordinator,
            Reply(
                _l(
                    "{person} said during the intake for {programme} that they may need more "
                    "help than mentoring can give. They were shown the referral text. Please "
                    "get in touch with them ('status' lists everyone who said so).",
                    person=alerts.name_of(ctx.session, ctx.person.id or 0),
                    programme=ctx.programme.name,
                )
            ),
        )


def _timezone_prompt(ctx: FlowContext):
    assert ctx.programme is not None
    return _l(
        "Which time zone are you in? I'll show every date and time in it. I have "
        "{zone}, the programme's: is that right? If not, type a large city in your zone, "
        "like New York, or the zone's name, like America/New_York.",
        zone=ctx.programme.timezone,
    )


def _after_timezone(ctx: FlowContext) -> None:
    profiles.set_timezone(ctx.person, ctx.answer, Source.SELF)
    ctx.session.add(ctx.person)


def _commitment_prompt(ctx: FlowContext):
    assert ctx.programme is not None
    return _l(
        "Last question. {programme} runs from {start} to {end}, with {meetings} meetings, "
        "about {cadence}. It only works if both sides show up.\n\n"
        "Do you commit to taking part in these meetings?",
        programme=ctx.programme.name,
        start=ctx.programme.start,
        end=ctx.programme.end,
        meetings=ctx.programme.meetings,
        cadence=v.CADENCES.get(ctx.programme.meeting_cadence, ctx.programme.meeting_cadence),
    )


def _finish(ctx: FlowContext) -> None:
    assert ctx.programme is not None and ctx.programme.id is not None and ctx.person.id
    role = _role(ctx) or Role.MENTEE
    stored = {  # the answers of an earlier intake for this programme are updated
        row.key: row
        for row in ctx.session.exec(
            _ANSWERS, params={"person": ctx.person.id, "programme": ctx.programme.id}
        )
    }
    for key, value in ctx.answers.items():
        if key in ("consent", "role", "timezone"):  # not intake answers: kept elsewhere
            continue
        row = stored.get(key) or IntakeAnswer(
            person_id=ctx.person.id, programme_id=ctx.programme.id, role=role, key=key, value=value
        )
        row.value = value
        ctx.session.add(row)
    committed = bool(ctx.answers.get("commitment"))
    membership = _membership(ctx)
    if membership is not None:
        membership.intake = IntakeState.COMPLETE if committed else IntakeState.NOT_COMMITTED
        ctx.session.add(membership)
    if committed:
        ctx.say(
            _l(
                "Thank you, your intake is complete! The coordinators will now look for a "
                "good match. I'll let you know as soon as there is news. Type 'help' to see "
                "what else I can do."
            )
        )
    else:
        ctx.say(
            _l(
                "Thank you for being honest. Without that commitment I can't put you forward "
                "for a match yet. The coordinators will see your answers and may contact "
                "you. If things change, tap the button or type 'commit'."
            ),
            choices=commitment.BUTTON,
            choice_token=commitment.TOKEN,
        )


def _expired(ctx: FlowContext) -> None:
    ctx.say(
        _l(
            "I've paused your intake because it has been quiet for a while. Your answers "
            "so far are saved; send me a message when you want to continue."
        )
    )


def _remind_after(ctx: FlowContext) -> timedelta | None:
    hours = ctx.programme.settings.get("intake_reminder_hours", 48) if ctx.programme else 48
    return timedelta(hours=hours) if hours else None


def _expires_after(ctx: FlowContext) -> timedelta | None:
    days = ctx.programme.settings.get("intake_expiry_days", 21) if ctx.programme else 21
    return timedelta(days=days) if days else None


INTAKE = Flow(
    "intake",
    version=2,
    title=_l("Finish your intake"),
    remind_after=_remind_after,
    expires_after=_expires_after,
    on_finish=_finish,
    on_expire=_expired,
    steps=(
        Step(
            "consent",
            ask=_consent_prompt,
            accepts=YesNo(),
            on_answer=_after_consent,
            next=lambda ctx: "role" if ctx.answer else CANCEL,
        ),
        Step(
            "role",
            ask=_l("Are you joining as a mentee (you'd like a mentor) or as a mentor?"),
            accepts=SingleChoice(
                (Option("mentee", _l("As a mentee")), Option("mentor", _l("As a mentor")))
            ),
            skip_if=lambda ctx: _membership(ctx) is not None,
            on_answer=_after_role,
        ),
        # mentees
        Step(
            "studies",
            ask=_l("Let's start with your studies: what do you study, and in which year are you?"),
            accepts=FormInput(
                title=_l("Your studies"),
                fields=(
                    Field("programme", _l("Study programme"), max_length=150),
                    Field("year", _l("Year of study (1-10)"), FieldKind.NUMBER, max_length=2),
                ),
                numbers={"year": (1, 10)},
            ),
            skip_if=_is(Role.MENTEE),
        ),
        Step(
            "hopes",
            ask=_l("What do you hope to get out of having a mentor?"),
            accepts=FreeText(),
            skip_if=_is(Role.MENTEE),
        ),
        Step(
            "topics",
            ask=_l("Which topics would you like to work on? Choose one or more."),
            accepts=MultiChoice(v.TOPICS),
            skip_if=_is(Role.MENTEE),
        ),
        # mentors
        Step(
            "background",
            ask=_l("Tell me about your background: your field, and what you study or do now."),
            accepts=FormInput(
                title=_l("Your background"),
                fields=(
                    Field("field", _l("Field of study or work"), max_length=150),
                    Field("current", _l("Current study year or job"), max_length=150),
                ),
            ),
            skip_if=_is(Role.MENTOR),
        ),
        Step(
            "expertise",
            ask=_l("Which topics could you help a mentee with? Choose one or more."),
            accepts=MultiChoice(v.TOPICS),
            skip_if=_is(Role.MENTOR),
        ),
        Step(
            "capacity",
            ask=_l("How many mentees could you take on (1-8)?"),
            accepts=Number(1, 8),
            skip_if=_is(Role.MENTOR),
        ),
        # both
        Step(
            "weekdays",
            ask=_l("On which days could you usually meet? Choose all that apply."),
            accepts=MultiChoice(v.WEEKDAYS),
        ),
        Step("dayparts", ask=_l("And at what time of day?"), accepts=MultiChoice(v.DAYPARTS)),
        Step(
            "available_from",
            ask=_l("From which date could you have a first meeting? (for example 14-03-2027)"),
            accepts=DateTimeInput(),
        ),
        Step(
            "language",
            ask=_l("In which language would you like to be mentored or to mentor?"),
            accepts=SingleChoice(v.LANGUAGE_PREFERENCES),
        ),
        Step(
            "channels",
            ask=_l("How do you like to keep in touch? Choose one or more."),
            accepts=MultiChoice(v.CHANNELS),
        ),
        Step(
            "learning",
            ask=_l("How do you learn best?"),
            accepts=SingleChoice(v.LEARNING),
            skip_if=_is(Role.MENTEE),
        ),
        Step(
            "support_check",
            ask=_l(
                "Is something weighing on you right now that you would need more help with "
                "than a fellow student can give (for example health, money or family "
                "worries)? Your answer goes only to the coordinators."
            ),
            accepts=YesNo(),
            on_answer=_after_support_check,
            skip_if=_is(Role.MENTEE),
        ),
        Step(
            "motivation",
            ask=_l("How motivated are you to take part?"),
            accepts=Scale(low=_l("not really"), high=_l("very motivated")),
            skip_if=_is(Role.MENTEE),
        ),
        Step(
            "motivation_why",
            ask=_l("In a sentence or two: why do you want to take part?"),
            accepts=FreeText(max_length=600),
            skip_if=_is(Role.MENTEE),
        ),
        Step(
            "learn_wish",
            ask=_l("What would you like to learn yourself, as a mentor?"),
            accepts=FreeText(max_length=600),
            skip_if=_is(Role.MENTOR),
        ),
        Step(
            "timezone",
            ask=_timezone_prompt,
            accepts=TimeZoneInput(),
            skip_if=lambda ctx: ctx.person.timezone is not None,
            on_answer=_after_timezone,
        ),
        Step("commitment", ask=_commitment_prompt, accepts=YesNo(), next=STOP),
    ),
)
