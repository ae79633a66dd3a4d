"""Check-ins between meetings, and what a held meeting sets in motion.

Midway to the next meeting the mentee answers a short check-in: what went well, what was hard,
progress on each open goal (1–5), and whether they need their mentor's help right now, which
reaches the mentor at once; the mentor gets a summary of every check-in. (This is not the
`help now` command, which reaches the coordinators: see flows/safeguarding.) A check-in due in
a quiet period or while the mentee has paused waits until that is over.

After a held meeting the mentee sets or updates goals. When another conversation in the pair
space is still open (an unanswered check-in, a new meeting time being typed), the goals wait
for it: a `goals.due` job tries again, and finishing a check-in starts waiting goals at once —
nothing is dropped. A check-in waits for open goals the same way, and finishing the goals starts
it at once. The tries in between back off (6 hours, doubling, at most 4 days), so a mentee who
leaves a conversation open costs a few jobs, not four a day; a check-in still waiting when the
next meeting is held gives way to that meeting's check-in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot import outbox
from bot.domain import (
    CheckIn,
    Goal,
    GoalStatus,
    Meeting,
    MeetingStatus,
    OutboxItem,
    Pair,
    PairStatus,
    Person,
    Programme,
)
from bot.engine import Flow, FlowContext, FreeText, Scale, Step, YesNo
from bot.i18n import Lines, _l
from bot.replies import Reply
from bot.services import hold
from bot.spaces import Work
from bot.store import read
from flows.growth.goals import (
    CHECKIN_DUE,
    GOALS_DUE,
    _name,
    hurry_waiting,
    pair_space,
    start_for_mentee,
)

BUSY_RETRY = timedelta(hours=6)
BUSY_RETRY_MAX = timedelta(days=4)
HALF_CADENCE = {
    "weekly": timedelta(days=3),
    "biweekly": timedelta(days=7),
    "monthly": timedelta(days=14),
}


def after_meeting(work: Any, meeting: Meeting) -> None:
    """A held meeting: the mentee sets or updates goals, and a check-in is planned midway."""
    pair = work.session.get(Pair, meeting.pair_id) if meeting.pair_id else None
    if pair is None:
        return
    _start_goals(work, pair, f"goals:{pair.id}:{meeting.id}")
    programme = work.session.get(Programme, pair.programme_id)
    cadence = pair.agreement.get("cadence") or (programme.meeting_cadence if programme else "")
    due = meeting.starts_at + HALF_CADENCE.get(cadence, timedelta(days=7))
    outbox.enqueue(
        work.session,
        CHECKIN_DUE,
        {"pair": pair.id, "meeting": meeting.id},
        f"checkin:{meeting.id}",
        max(due, work.now),
        work.now,
    )


def _retry(work: Any, kind: str, payload: dict[str, Any], key: str) -> None:
    """Try again later (a conversation in the pair space is still open), backing off; the
    waiting row is hurried when that conversation finishes (`hurry_waiting`)."""
    tries = payload.get("tries", 0)
    later = work.now + min(BUSY_RETRY * 2**tries, BUSY_RETRY_MAX)
    payload = {**payload, "tries": tries + 1}
    outbox.enqueue(work.session, kind, payload, f"{key}:{later.isoformat()}", later, work.now)


def _start_goals(work: Any, pair: Pair, key: str, tries: int = 0) -> None:
    """Start the goals conversation, or — the mentee is busy in the pair space — try again
    later (`goals_due`)."""
    space = pair_space(pair)
    run = work.engine.active_run(work.session, pair.mentee_id, space) if space else None
    if run is None:
        start_for_mentee(work, pair, "goals", {"pair": pair.id}, none_active=True)
        return
    if run.flow == "goals":
        return  # already setting goals
    _retry(work, GOALS_DUE, {"pair": pair.id, "key": key, "tries": tries}, key)


def goals_due(work: Work, item: OutboxItem) -> None:
    """Goals that waited for another conversation in the pair space: start them now."""
    pair = work.session.get(Pair, item.payload["pair"])
    if pair is not None and pair.status == PairStatus.ACTIVE:
        _start_goals(work, pair, item.payload["key"], item.payload.get("tries", 0))


_EARLIER = aliased(Meeting)
_SUPERSEDED = (
    select(Meeting.id)
    .where(
        Meeting.pair_id == Pair.id,
        Meeting.status == MeetingStatus.HELD,
        col(Meeting.number)
        > select(_EARLIER.number).where(_EARLIER.id == bindparam("meeting")).scalar_subquery(),
    )
    .exists()
)
"""A later meeting of the pair than the check-in's was held since: its own check-in takes over
(false when the check-in names no meeting, or one that is gone)."""
_CHECKIN = (
    select(Pair, Programme, Person, _SUPERSEDED)
    .outerjoin(Programme, col(Programme.id) == Pair.programme_id)
    .outerjoin(Person, col(Person.id) == Pair.mentee_id)
    .where(Pair.id == bindparam("pair"))
)

_OPEN_GOALS = (
    select(Goal.id)
    .where(Goal.pair_id == bindparam("pair"), Goal.status == GoalStatus.OPEN)
    .order_by(col(Goal.id))
)
"""The ids of a pair's open goals, in `open_goals`' order."""


def checkin_due(work: Work, item: OutboxItem) -> None:
    """Midway between meetings: the mentee's check-in starts in the pair space."""
    params = {"pair": item.payload["pair"], "meeting": item.payload.get("meeting")}
    row = work.session.exec(_CHECKIN, params=params).first()  # pair, programme, mentee: one read
    if row is None:
        return
    pair, programme, mentee, superseded = row
    if pair.status != PairStatus.ACTIVE or superseded:
        return
    if hold.held(work.session, item, programme, [mentee], work.now):
        return
    goals = list(read(work.session, _OPEN_GOALS, {"pair": pair.id}).scalars())
    if not start_for_mentee(work, pair, "checkin", {"pair": pair.id, "goals": goals}):
        _retry(work, CHECKIN_DUE, item.payload, f"checkin:{pair.id}")


def _goals(ctx: FlowContext) -> dict[int, Goal]:
    """The check-in's goals, by id: read once per turn, in one statement (a turn scores one
    and asks about the next; the last one reads them all to save their progress)."""

    def load() -> dict[int, Goal]:
        ids = ctx.answers.get("goals", [])
        if not ids:
            return {}
        found = ctx.session.exec(select(Goal).where(col(Goal.id).in_(ids))).all()
        return {goal.id: goal for goal in found if goal.id is not None}

    return ctx.remember("checkin.goals", load)


def _goal(ctx: FlowContext) -> Goal | None:
    pending = [
        g for g in ctx.answers.get("goals", []) if str(g) not in ctx.answers.get("scores", {})
    ]
    return _goals(ctx).get(pending[0]) if pending else None


def _ask_progress(ctx: FlowContext):
    goal = _goal(ctx)
    return _l("How far along are you with '{what}'?", what=goal.what if goal else "")


def _score(ctx: FlowContext) -> None:
    goal = _goal(ctx)
    if goal is not None:
        ctx.run.answers = {
            **ctx.run.answers,
            "scores": {**ctx.answers.get("scores", {}), str(goal.id): ctx.answer},
        }


def _mentor_help(ctx: FlowContext) -> None:
    pair = ctx.session.get(Pair, ctx.answers.get("pair"))
    if not ctx.answer or pair is None:
        return
    ctx.say(_l("I've let your mentor know right away."))
    ctx.tell(
        pair.mentor_id,
        Reply(
            _l(
                "{mentee} says in their check-in that they could use your help now. Could you get "
                "in "
                "touch soon?",
                mentee=_name(ctx.session, pair.mentee_id),
            )
        ),
    )


def _finish(ctx: FlowContext) -> None:
    pair = ctx.session.get(Pair, ctx.answers.get("pair"))
    if pair is None or pair.id is None:
        return
    scores = ctx.answers.get("scores", {})
    ctx.session.add(
        CheckIn(
            pair_id=pair.id,
            at=ctx.now,
            went_well=ctx.answers["went_well"],
            was_hard=ctx.answers["was_hard"],
            progress=scores,
            help_needed=bool(ctx.answers.get("help")),
        )
    )
    lines = []
    goals = _goals(ctx)
    for goal_id, score in scores.items():
        goal = goals.get(int(goal_id))
        if goal is not None:
            goal.progress, goal.updated_at = score, ctx.now
            ctx.session.add(goal)
            lines.append(_l("{what}: {score} of 5", what=goal.what, score=score))
    ctx.say(_l("Thanks for checking in! Your mentor gets a short summary."))
    hurry_waiting(ctx.session, GOALS_DUE, f"goals:{pair.id}:", ctx.now)
    ctx.tell(
        pair.mentor_id,
        Reply(
            _l(
                "Check-in from {mentee}:\n• Went well: {well}\n• Was hard: {hard}\n• Goals: "
                "{goals}",
                mentee=_name(ctx.session, pair.mentee_id),
                well=ctx.answers["went_well"],
                hard=ctx.answers["was_hard"],
                goals=Lines(tuple(lines)) if lines else _l("none yet"),
            )
        ),
    )


CHECKIN = Flow(
    "checkin",
    version=1,
    title=_l("Answer your check-in"),
    remind_after=timedelta(days=2),
    on_finish=_finish,
    steps=(
        Step(
            "went_well",
            ask=_l("Time for a short check-in. What went well since your last meeting?"),
            accepts=FreeText(max_length=600),
        ),
        Step("was_hard", ask=_l("And what was hard?"), accepts=FreeText(max_length=600)),
        Step(
            "progress",
            ask=_ask_progress,
            accepts=Scale(low=_l("not started"), high=_l("done")),
            skip_if=lambda ctx: _goal(ctx) is None,
            on_answer=_score,
            next=lambda ctx: "progress" if _goal(ctx) is not None else "help",
        ),
        Step(
            "help",
            ask=_l("Do you need help from your mentor right now?"),
            accepts=YesNo(),
            on_answer=_mentor_help,
        ),
    ),
)
