"""The kennismakingsgids: the first-meeting guide a mentor and mentee fill in together.

Each side answers its own part in the pair's private space (one run per person, both with the
pair as subject): how to keep in touch and which details to share, where and how often to meet,
possible days and times, dates for the next two meetings, what comes to mind about studying,
topics and questions, expectations of the mentorship, and a short team agreement. When both are
done, the complete guide is posted in the pair space and each gets a copy; what they agreed on
is stored for the meeting scheduler.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.domain import Pair, Person
from bot.engine import Flow, FlowContext, FormInput, MultiChoice, Outbound, SingleChoice, Step
from bot.i18n import Lines, Text, _l
from bot.replies import Field, FieldKind, Option, Reply
from flows.contact import meetings
from flows.everyone import vocabulary as v

SIDES = ("mentor", "mentee")

PLACES = (
    Option("online", _l("Online, by video call")),
    Option("campus", _l("On campus")),
    Option("public", _l("In a café or another public place")),
    Option("mixed", _l("A mix of these")),
)
CADENCE_OPTIONS = tuple(Option(key, label) for key, label in v.CADENCES.items())


def _pair(ctx: FlowContext) -> Pair | None:
    return ctx.session.get(Pair, int(ctx.run.subject.split(":")[1]))


def _other_name(ctx: FlowContext) -> str:
    pair = _pair(ctx)
    if pair is None:
        return "?"
    other = pair.mentee_id if ctx.answers.get("side") == "mentor" else pair.mentor_id
    person = ctx.session.get(Person, other)
    return (person.display_name if person else None) or "?"


def _finish(ctx: FlowContext) -> None:
    pair = _pair(ctx)
    side = ctx.answers.get("side")
    if pair is None or side not in SIDES:
        return
    part = {k: val for k, val in ctx.answers.items() if k != "side"}
    pair.guide = {**pair.guide, side: part}
    ctx.session.add(pair)
    waiting_for = [s for s in SIDES if s not in pair.guide]
    if waiting_for:
        ctx.outbound.append(
            _post(
                pair,
                ctx,
                _l(
                    "{name} has filled in their part of the introduction guide. Still to answer: "
                    "{other}.",
                    name=_name(ctx, ctx.person.id),
                    other=_other_name(ctx),
                ),
            )
        )
        return
    pair.agreement = agreement(pair.guide)
    guide = render_guide(ctx, pair)
    ctx.outbound.append(
        _post(
            pair,
            ctx,
            _l(
                "The introduction guide is complete — thank you both! Here it is:\n\n{guide}",
                guide=guide,
            ),
        )
    )
    for person_id in (pair.mentor_id, pair.mentee_id):
        ctx.tell(
            person_id,
            Reply(_l("Your copy of the introduction guide, to keep:\n\n{guide}", guide=guide)),
        )
    ctx.outbound.extend(meetings.start_plan(ctx.session, pair, ctx.now))


def _post(pair: Pair, ctx: FlowContext, text: Text) -> Outbound:
    """A message for both in the pair's space (rendered for both when it is sent)."""
    return Outbound(pair.mentor_id, Reply(text), ctx.space)


def _name(ctx: FlowContext, person_id: int | None) -> str:
    person = ctx.session.get(Person, person_id) if person_id else None
    return (person.display_name if person else None) or "?"


def agreement(guide: dict[str, Any]) -> dict[str, Any]:
    """What both sides settled: the meeting cadence (the mentor's choice when they differ),
    the weekdays and times both named, and the dates each proposed."""
    mentor, mentee = guide["mentor"], guide["mentee"]
    return {
        "cadence": mentor.get("cadence") or mentee.get("cadence"),
        "cadence_agreed": mentor.get("cadence") == mentee.get("cadence"),
        "weekdays": [d for d in mentor.get("weekdays", []) if d in mentee.get("weekdays", [])],
        "dayparts": [d for d in mentor.get("dayparts", []) if d in mentee.get("dayparts", [])],
        "dates": sorted(
            {d for side in (mentor, mentee) for d in side.get("dates", {}).values() if d}
        ),
        "place": mentor.get("place"),
    }


DATE_FIELDS = {"second": 2, "third": 3}
"""The guide's date fields and the meeting each proposes a date for."""


def meeting_dates(pair: Pair, number: int) -> list[date]:
    """The proposed dates in the pair's agreement that may take meeting `number` (2 or 3): a
    date proposed by either side counts, unless the guide names it only for the other of the
    two meetings."""
    if number not in DATE_FIELDS.values():
        return []
    meant: dict[str, set[int]] = {}
    for side in SIDES:
        for name, value in ((pair.guide.get(side) or {}).get("dates") or {}).items():
            if value and name in DATE_FIELDS:
                meant.setdefault(str(value), set()).add(DATE_FIELDS[name])
    found = []
    for raw in pair.agreement.get("dates") or ():
        try:
            day = date.fromisoformat(str(raw))
        except ValueError:
            continue
        if number in meant.get(str(raw), {number}):
            found.append(day)
    return sorted(found)


def _labels(options: tuple[Option, ...], values: list[str] | str | None) -> list[Any]:
    labels = {o.value: o.label for o in options}
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [labels.get(val, val) for val in values]


def render_guide(ctx: FlowContext, pair: Pair) -> Text:
    sections = []
    for side in SIDES:
        part = pair.guide[side]
        person_id = pair.mentor_id if side == "mentor" else pair.mentee_id
        contact = part.get("contact", {}) or {}
        shared = [val for val in (contact.get("phone"), contact.get("email")) if val]
        sections.append(
            _l(
                "{role} {name}\n"
                "• Keep in touch by: {channels}\n"
                "• Contact details shared: {contact}\n"
                "• Where to meet: {place}\n"
                "• Time between meetings: {cadence}\n"
                "• Possible days: {weekdays}; times: {dayparts}\n"
                "• Proposed dates for meetings 2 and 3: {dates}\n"
                "• Studying makes me think of: {thoughts}\n"
                "• Topics to work on: {topics}\n"
                "• Specific questions: {questions}\n"
                "• What I expect of this mentorship: {expectations}",
                role=_l("Mentor") if side == "mentor" else _l("Mentee"),
                name=_name(ctx, person_id),
                channels=_labels(v.CHANNELS, part.get("channels")),
                contact=shared or _l("none"),
                place=_labels(PLACES, part.get("place")),
                cadence=_labels(CADENCE_OPTIONS, part.get("cadence")),
                weekdays=_labels(v.WEEKDAYS, part.get("weekdays")),
                dayparts=_labels(v.DAYPARTS, part.get("dayparts")),
                dates=[d for d in (part.get("dates") or {}).values() if d] or _l("none"),
                thoughts=part.get("content", {}).get("thoughts", ""),
                topics=part.get("content", {}).get("topics", ""),
                questions=part.get("content", {}).get("questions") or _l("none"),
                expectations=part.get("expectations", {}).get("expectations", ""),
            )
        )
    team = [pair.guide[s].get("agreement", {}) for s in SIDES]
    sections.append(
        _l(
            "Team agreement\n• Replying to each other: {reply}\n• When one of us can't make it: "
            "{cancel}\n• What stays between us: {private}",
            reply=[t.get("reply", "") for t in team],
            cancel=[t.get("cancel", "") for t in team],
            private=[t.get("private", "") for t in team],
        )
    )
    return _l("{sections}", sections=Lines(tuple(sections)))


def _remind_after(ctx: FlowContext) -> timedelta | None:
    hours = ctx.programme.settings.get("guide_reminder_hours", 72) if ctx.programme else 72
    return timedelta(hours=hours) if hours else None


def _intro(ctx: FlowContext) -> Text:
    return _l(
        "Let's fill in the introduction guide, ideally together at your first meeting. "
        "{other} answers the same questions. How would you like to keep in touch with each "
        "other?",
        other=_other_name(ctx),
    )


KENNISMAKING = Flow(
    "kennismaking",
    version=1,
    title=_l("Fill in the introduction guide"),
    remind_after=_remind_after,
    on_finish=_finish,
    steps=(
        Step("channels", ask=_intro, accepts=MultiChoice(v.CHANNELS)),
        Step(
            "contact",
            ask=_l(
                "Which contact details do you want to share? Leave empty what "
                "you would rather keep to yourself."
            ),
            accepts=FormInput(
                title=_l("Contact details"),
                fields=(
                    Field("phone", _l("Phone number"), required=False, max_length=40),
                    Field("email", _l("E-mail address"), required=False, max_length=120),
                ),
            ),
        ),
        Step("place", ask=_l("Where would you like to meet?"), accepts=SingleChoice(PLACES)),
        Step(
            "cadence",
            ask=_l("How much time would you like between meetings?"),
            accepts=SingleChoice(CADENCE_OPTIONS),
        ),
        Step(
            "weekdays",
            ask=_l("On which days could you meet? Choose all that apply."),
            accepts=MultiChoice(v.WEEKDAYS),
        ),
        Step("dayparts", ask=_l("And at what time of day?"), accepts=MultiChoice(v.DAYPARTS)),
        Step(
            "dates",
            ask=_l("Which dates would you propose for meetings 2 and 3?"),
            accepts=FormInput(
                title=_l("Next meetings"),
                fields=(
                    Field("second", _l("Meeting 2 (for example 14-03-2027)"), FieldKind.DATE),
                    Field("third", _l("Meeting 3"), FieldKind.DATE, required=False),
                ),
            ),
        ),
        Step(
            "content",
            ask=_l(
                "Now the content. What comes to mind when you think about "
                "studying, and what would you like to work on together?"
            ),
            accepts=FormInput(
                title=_l("What we work on"),
                fields=(
                    Field(
                        "thoughts",
                        _l("When I think about studying, I think of…"),
                        FieldKind.LONG_TEXT,
                        max_length=600,
                    ),
                    Field(
                        "topics",
                        _l("Topics to work on together"),
                        FieldKind.LONG_TEXT,
                        max_length=600,
                    ),
                    Field(
                        "questions",
                        _l("Specific questions (optional)"),
                        FieldKind.LONG_TEXT,
                        required=False,
                        max_length=600,
                    ),
                ),
            ),
        ),
        Step(
            "expectations",
            ask=_l(
                "What do you expect of this mentorship: responsibilities, rules, who does what?"
            ),
            accepts=FormInput(
                title=_l("Expectations"),
                fields=(
                    Field("expectations", _l("I expect…"), FieldKind.LONG_TEXT, max_length=800),
                ),
            ),
        ),
        Step(
            "agreement",
            ask=_l("Last part: a short team agreement on how you work together."),
            accepts=FormInput(
                title=_l("Team agreement"),
                fields=(
                    Field("reply", _l("How quickly do we reply to each other?"), max_length=200),
                    Field(
                        "cancel",
                        _l("If one of us can't make it, how and when do we say so?"),
                        max_length=200,
                    ),
                    Field("private", _l("What stays between the two of us?"), max_length=200),
                ),
            ),
        ),
    ),
)
