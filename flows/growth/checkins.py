"""Check-ins between meetings, and what a held meeting sets in motion.

Midway to the next meeting the mentee answers a short check-in: what went well, what was hard,
progress on each open goal (1–5), and whether they need their mentor's help right now, which
reaches the mentor at once; the mentor gets a summary of every check-in. (This is not the
`help now` command, which reaches the coordinators: see flows/safeguarding.) A check-in due in
a quiet period or while the mentee has paused waits until that is over.

After a held meeting the mentee sets or updates goals. When another conversation in the pair
space is still open (an unanswered check-in, a new meeting time being typed), the goals wait
for it: a `goals.due` job tries again, and finishing a check-in starts waiting goals at once —
nothing is dropped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from bot import outbox
from bot.domain import CheckIn, Goal, Meeting, OutboxItem, Pair, PairStatus, Person, Programme
from bot.engine import Flow, FlowContext, FreeText, Scale, Step, YesNo
from bot.i18n import Lines, _l
from bot.replies import Reply
from bot.services import hold
from bot.spaces import Work
from flows.growth.goals import _name, open_goals, pair_space, start_for_mentee

CHECKIN_DUE = "checkin.due"
GOALS_DUE = "goals.due"
BUSY_RETRY = timedelta(hours=6)
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
        {"pair": pair.id},
        f"checkin:{meeting.id}",
        max(due, work.now),
        work.now,
    )


def _start_goals(work: Any, pair: Pair, key: str) -> None:
    """Start the goals conversation, or — the mentee is busy in the pair space — try again
    later (`goals_due`)."""
    space = pair_space(pair)
    run = work.engine.active_run(work.session, pair.mentee_id, space) if space else None
    if run is None:
        start_for_mentee(work, pair, "goals", {"pair": pair.id})
        return
    if run.flow == "goals":
        return  # already setting goals
    later = work.now + BUSY_RETRY
    outbox.enqueue(
        work.session,
        GOALS_DUE,
        {"pair": pair.id, "key": key},
        f"{key}:{later.isoformat()}",
        later,
        work.now,
    )


def goals_due(work: Work, item: OutboxItem) -> None:
    """Goals that waited for another conversation in the pair space: start them now."""
    pair = work.session.get(Pair, item.payload["pair"])
    if pair is not None and pair.status == PairStatus.ACTIVE:
        _start_goals(work, pair, item.payload["key"])


def _hurry_goals(session: Session, pair_id: int, now: datetime) -> None:
    """A conversation in the pair space ended: goals waiting for it are due now."""
    session.exec(
        update(OutboxItem)
        .where(
            col(OutboxItem.kind) == GOALS_DUE,
            col(OutboxItem.idempotency_key).startswith(f"goals:{pair_id}:"),
            col(OutboxItem.done_at).is_(None),
            col(OutboxItem.failed_at).is_(None),
            col(OutboxItem.due_at) > now,  # (pending rows only: the partial due index)
            col(OutboxItem.claimed_by).is_(None),
        )
        .values(due_at=now)
    )


def checkin_due(work: Work, item: OutboxItem) -> None:
    """Midway between meetings: the mentee's check-in starts in the pair space."""
    pair = work.session.get(Pair, item.payload["pair"])
    if pair is None or pair.status != PairStatus.ACTIVE:
        return
    programme = work.session.get(Programme, pair.programme_id)
    mentee = work.session.get(Person, pair.mentee_id)
    if hold.held(work.session, item, programme, [mentee], work.now):
        return
    goals = [g.id for g in open_goals(work.session, pair.id or 0)]
    if not start_for_mentee(work, pair, "checkin", {"pair": pair.id, "goals": goals}):
        later = work.now + BUSY_RETRY  # still busy in another conversation there: try later
        outbox.enqueue(
            work.session,
            CHECKIN_DUE,
            {"pair": pair.id},
            f"checkin:{pair.id}:{later.isoformat()}",
            later,
            work.now,
        )


def _goal(ctx: FlowContext) -> Goal | None:
    pending = [
        g for g in ctx.answers.get("goals", []) if str(g) not in ctx.answers.get("scores", {})
    ]
    return ctx.session.get(Goal, pending[0]) if pending else None


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
    for goal_id, score in scores.items():
        goal = ctx.session.get(Goal, int(goal_id))
        if goal is not None:
            goal.progress, goal.updated_at = score, ctx.now
            ctx.session.add(goal)
            lines.append(_l("{what}: {score} of 5", what=goal.what, score=score))
    ctx.say(_l("Thanks for checking in! Your mentor gets a short summary."))
    _hurry_goals(ctx.session, pair.id, ctx.now)
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
