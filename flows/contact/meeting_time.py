"""Another time for a meeting, typed: "Propose another time" starts this one-step flow, which
asks for a date and time in the person's own zone, refuses a day in a quiet period of the
programme, and proposes that time to the other member (`meetings.reschedule`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import OPEN_MEETING, Meeting
from bot.engine import STOP, DateTimeInput, Flow, FlowContext, Step
from bot.i18n import Text, _l
from bot.services import meetings as store
from bot.services import scheduling
from flows.contact.meetings import reschedule


def _current(ctx: FlowContext) -> Meeting | None:
    return ctx.session.get(Meeting, ctx.answers.get("meeting"))


def _ask_time(ctx: FlowContext) -> Text:
    meeting = _current(ctx)
    return _l(
        "Which day and time would you propose for meeting {number}? Write it like "
        "14-03-2027 15:30, in your own time.",
        number=meeting.number if meeting else "?",
    )


def _quiet(ctx: FlowContext) -> scheduling.QuietPeriod | None:
    if ctx.programme is None or not isinstance(ctx.answer, str):
        return None
    quiet = store.MeetingSettings.of(ctx.programme).quiet
    return scheduling.quiet_at(datetime.fromisoformat(ctx.answer), quiet, ctx.programme.timezone)


def _check_quiet(ctx: FlowContext) -> None:
    period = _quiet(ctx)
    if period is not None:
        ctx.say(
            _l(
                "That day falls in a quiet period of the programme ({reason}, until {end}): "
                "no meetings then. Please choose another day.",
                reason=period.reason or "-",
                end=period.end,
            )
        )


def _after_time(ctx: FlowContext) -> str:
    return "when" if _quiet(ctx) is not None else STOP


def _propose_typed(ctx: FlowContext) -> None:
    meeting = _current(ctx)
    if meeting is None or meeting.status not in OPEN_MEETING:
        ctx.say(
            _l(
                "That meeting has changed in the meantime. Type 'meeting' to see where "
                "things stand."
            )
        )
        return
    starts_at = datetime.fromisoformat(ctx.run.answers["when"])
    assert ctx.person.id is not None
    ctx.outbound.extend(
        reschedule(ctx.session, meeting, ctx.now, starts_at=starts_at, proposer=ctx.person.id)
    )


MEETING_TIME = Flow(
    "meeting_time",
    version=1,
    title=_l("Propose a time for your meeting"),
    on_finish=_propose_typed,
    expires_after=timedelta(days=7),
    steps=(
        Step(
            "when",
            ask=_ask_time,
            accepts=DateTimeInput(with_time=True, max_days_ahead=365),
            on_answer=_check_quiet,
            next=_after_time,
        ),
    ),
)
