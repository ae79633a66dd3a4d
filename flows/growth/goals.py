"""SMART goals: after a held meeting the mentee sets or updates one to three goals.

Maatje asks for each SMART element in turn — what exactly (specific), how you will know
(measurable: a number or something to check), how sure you are (achievable), why it matters
(relevant) and by when (time-bound) — summarises the goal and saves it when the mentee agrees.
The specific and measurable answers are judged in Dutch and English alike (`flows/growth/smart.py`).
The mentor gets the goal and can comment; `goals` lists them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from bot import Turn
from bot.domain import Goal, GoalStatus, OutboxItem, Pair, PairStatus, Person, Programme
from bot.engine import (
    STOP,
    DateTimeInput,
    Flow,
    FlowContext,
    FreeText,
    Scale,
    Step,
    YesNo,
)
from bot.events import SpaceKind, SpaceRef
from bot.i18n import Lines, _l
from bot.replies import Option, Reply
from bot.services import people
from bot.store import read
from flows.growth.smart import Measure, Specific

MAX_OPEN = 3
CHECKIN_DUE = "checkin.due"
GOALS_DUE = "goals.due"
"""Outbox kinds of flows/checkins.py, here so that finishing goals can hurry a check-in."""
_OPEN_COUNT = "goals.open"


def open_goals(session: Session, pair_id: int) -> list[Goal]:
    return list(
        session.exec(
            select(Goal)
            .where(Goal.pair_id == pair_id, Goal.status == GoalStatus.OPEN)
            .order_by(col(Goal.id))
        ).all()
    )


def _pair(ctx: FlowContext) -> Pair | None:
    return ctx.session.get(Pair, ctx.answers.get("pair"))


def _name(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return (person.display_name if person else None) or "?"


def _open_count(ctx: FlowContext, pair_id: int) -> int:
    """How many open goals the pair has: read once per turn (the first step's skip predicate
    and its prompt both ask; saving a goal forgets it)."""
    return ctx.remember(f"{_OPEN_COUNT}:{pair_id}", lambda: len(open_goals(ctx.session, pair_id)))


def _ask_what(ctx: FlowContext):
    pair = _pair(ctx)
    count = _open_count(ctx, pair.id) if pair and pair.id else 0
    return _l(
        "Let's set a goal for the coming weeks ({count} of at most 3 open now). What "
        "exactly do you want to achieve?",
        count=count,
    )


def _after_confidence(ctx: FlowContext) -> None:
    if ctx.answer <= 2:
        ctx.say(_l("Then let's make it a bit smaller, so it's within reach."))


def _summary(ctx: FlowContext):
    a = ctx.answers
    return _l(
        "Your goal:\n• What: {what}\n• How you'll know: {measure}\n• How sure you are: "
        "{confidence} of 5\n• Why it matters: {why}\n• By: {due}\n\nShall I save it?",
        what=a["what"],
        measure=a["measure"],
        confidence=a["confidence"],
        why=a["why"],
        due=date.fromisoformat(a["due"]),
    )


def _save(ctx: FlowContext) -> None:
    pair = _pair(ctx)
    if not ctx.answer or pair is None or pair.id is None:
        return
    a = ctx.answers
    goal = Goal(
        pair_id=pair.id,
        mentee_id=pair.mentee_id,
        what=a["what"],
        measure=a["measure"],
        confidence=a["confidence"],
        why=a["why"],
        due=date.fromisoformat(a["due"]),
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    ctx.session.add(goal)
    ctx.session.flush()
    ctx.memo.pop(f"{_OPEN_COUNT}:{pair.id}", None)
    ctx.tell(
        pair.mentor_id,
        Reply(
            _l(
                "{mentee} set a new goal: {what} — measured by: {measure} — by {due}.",
                mentee=_name(ctx.session, pair.mentee_id),
                what=goal.what,
                measure=goal.measure,
                due=goal.due,
            ),
            choices=(Option("comment", _l("Comment on this goal")),),
            choice_token=f"c:goals:comment:{goal.id}",
        ),
    )


def _after_summary(ctx: FlowContext) -> str:
    if not ctx.answer:
        ctx.say(_l("No problem, let's adjust it."))
        return "what"
    return "another"


def _room_left(ctx: FlowContext) -> bool:
    pair = _pair(ctx)
    return pair is None or _open_count(ctx, pair.id or 0) >= MAX_OPEN


_HURRY = (  # every goals conversation's end: built once, run on the session's connection
    update(OutboxItem)
    .where(
        col(OutboxItem.kind) == bindparam("of_kind"),
        col(OutboxItem.idempotency_key).startswith(bindparam("prefix")),
        col(OutboxItem.done_at).is_(None),
        col(OutboxItem.failed_at).is_(None),
        col(OutboxItem.due_at) > bindparam("now"),  # (pending rows only: the partial due index)
        col(OutboxItem.claimed_by).is_(None),
    )
    .values(due_at=bindparam("now"))
)


def hurry_waiting(session: Session, kind: str, key_prefix: str, now: datetime) -> None:
    """A conversation in the pair space ended: what waited for it (rows of `kind` whose key
    starts with `key_prefix`) is due now."""
    read(session, _HURRY, {"of_kind": kind, "prefix": key_prefix, "now": now})


def _done(ctx: FlowContext) -> None:
    pair = _pair(ctx)
    if pair is not None:  # a check-in that waited for these goals can start now
        hurry_waiting(ctx.session, CHECKIN_DUE, f"checkin:{pair.id}:", ctx.now)
    if "what" not in ctx.answers:  # the list was full: nothing was asked
        ctx.say(
            _l(
                "You have {count} open goals, the most at one time. When you achieve one, "
                "mark it with 'goals done 1' (its number in 'goals') to make room for a new one.",
                count=MAX_OPEN,
            )
        )
        return
    ctx.say(
        _l(
            "Your goals are saved. We'll look at them again at your next check-in; type "
            "'goals' to see them any time."
        )
    )


GOALS = Flow(
    "goals",
    version=1,
    title=_l("Set your goals"),
    remind_after=timedelta(days=2),
    on_finish=_done,
    steps=(
        Step(
            "what",
            ask=_ask_what,
            accepts=Specific(max_length=300),
            skip_if=_room_left,
            next=lambda ctx: STOP if ctx.answer is None else "measure",  # None: skipped
        ),
        Step(
            "measure",
            ask=_l("How will you know you've done it? Name something you can count or check."),
            accepts=Measure(max_length=300),
        ),
        Step(
            "confidence",
            ask=_l("How sure are you that you can manage this?"),
            accepts=Scale(low=_l("not sure at all"), high=_l("completely sure")),
            on_answer=_after_confidence,
            next=lambda ctx: "what" if ctx.answer <= 2 else "why",
        ),
        Step("why", ask=_l("Why does this goal matter to you?"), accepts=FreeText(max_length=300)),
        Step(
            "due",
            ask=_l("By when do you want to have done it? (for example 15-01-2027)"),
            accepts=DateTimeInput(max_days_ahead=365),
        ),
        Step("confirm", ask=_summary, accepts=YesNo(), on_answer=_save, next=_after_summary),
        Step(
            "another",
            ask=_l("Would you like to add another goal?"),
            accepts=YesNo(),
            skip_if=_room_left,
            next=lambda ctx: "what" if ctx.answer else STOP,
        ),
    ),
)


def _comment_done(ctx: FlowContext) -> None:
    goal = ctx.session.get(Goal, ctx.answers.get("goal"))
    if goal is None:
        return
    goal.mentor_comment = ctx.answers["comment"]
    goal.updated_at = ctx.now
    ctx.session.add(goal)
    ctx.say(_l("Thanks, I've passed your comment on."))
    ctx.tell(
        goal.mentee_id,
        Reply(
            _l(
                "Your mentor commented on your goal '{what}': {comment}",
                what=goal.what,
                comment=goal.mentor_comment,
            )
        ),
    )


GOAL_COMMENT = Flow(
    "goal_comment",
    version=1,
    on_finish=_comment_done,
    steps=(
        Step(
            "comment",
            ask=_l("What would you like to say about this goal?"),
            accepts=FreeText(max_length=800),
        ),
    ),
)


def pair_space(pair: Pair) -> SpaceRef | None:
    if not (pair.space_platform and pair.space_channel and pair.space_workspace is not None):
        return None
    return SpaceRef(pair.space_platform, pair.space_workspace, pair.space_channel, SpaceKind.PAIR)


def start_for_mentee(
    work: Any, pair: Pair, flow: str, answers: dict[str, Any], none_active: bool = False
) -> bool:
    """Start `flow` for the pair's mentee in the pair space, unless they are busy there.
    `none_active`: the caller has just found them not busy there (not looked up again)."""
    space = pair_space(pair)
    mentee = work.session.get(Person, pair.mentee_id)
    ref = people.ref_on(work.session, pair.mentee_id, space.platform) if space else None
    if space is None or mentee is None or ref is None:
        return False
    if not none_active and work.engine.active_run(work.session, pair.mentee_id, space) is not None:
        return False
    programme = work.session.get(Programme, pair.programme_id)
    work.outbound.extend(
        work.engine.start(
            work.session,
            flow,
            mentee,
            space,
            ref,
            work.now,
            programme=programme,
            answers=answers,
            subject=f"pair:{pair.id}",
            none_active=True,  # looked up above
        )
    )
    return True


def goals_command(turn: Turn, args: tuple[str, ...]) -> None:
    """`goals` lists; `goals new` sets one; `goals done N` marks one done; the mentor's
    comment button arrives as `goals comment <id>`."""
    action = args[0].lower() if args else ""
    if action == "comment" and len(args) > 1 and args[1].isdigit():
        _start_comment(turn, int(args[1]))
        return
    pairs = turn.session.exec(
        select(Pair).where(
            (Pair.mentee_id == turn.person_id) | (Pair.mentor_id == turn.person_id),
            Pair.status == PairStatus.ACTIVE,
        )
    ).all()
    if not pairs:
        turn.say(_l("You have no goals yet: they start once you're matched and have met."))
        return
    own = next((p for p in pairs if p.mentee_id == turn.person_id), None)
    if action == "new" and own is not None:
        turn.start("goals", answers={"pair": own.id})
        return
    if action == "done" and own is not None and len(args) > 1 and args[1].isdigit():
        goals = open_goals(turn.session, own.id or 0)
        index = int(args[1]) - 1
        if 0 <= index < len(goals):
            goals[index].status = GoalStatus.DONE
            goals[index].updated_at = turn.now
            turn.session.add(goals[index])
            turn.say(_l("Well done! '{what}' is marked as achieved.", what=goals[index].what))
            return
    lines = []
    for pair in pairs:
        goals = turn.session.exec(
            select(Goal).where(Goal.pair_id == pair.id).order_by(col(Goal.id))
        ).all()
        for number, goal in enumerate(goals, start=1):
            lines.append(
                _l(
                    "{number}. {what} ({measure}) — by {due} — {status}{progress}",
                    number=number,
                    what=goal.what,
                    measure=goal.measure,
                    due=goal.due,
                    status=STATUS_LABELS[GoalStatus(goal.status)],
                    progress=_l(", progress {score} of 5", score=goal.progress)
                    if goal.progress
                    else "",
                )
            )
        if pair.mentor_id == turn.person_id:
            lines.insert(
                len(lines) - len(goals),
                _l("Goals of {mentee}:", mentee=_name(turn.session, pair.mentee_id)),
            )
    if not lines:
        turn.say(_l("No goals yet. Type 'goals new' to set one."))
        return
    turn.say(
        _l(
            "Goals:\n{lines}\n\n'goals new' adds one; 'goals done 1' marks the first as achieved.",
            lines=Lines(tuple(lines)),
        )
    )


STATUS_LABELS = {
    GoalStatus.OPEN: _l("open"),
    GoalStatus.DONE: _l("achieved"),
    GoalStatus.DROPPED: _l("dropped"),
}


def _start_comment(turn: Turn, goal_id: int) -> None:
    goal = turn.session.get(Goal, goal_id)
    pair = turn.session.get(Pair, goal.pair_id) if goal else None
    if goal is None or pair is None or pair.mentor_id != turn.person_id:
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    turn.start("goal_comment", answers={"goal": goal_id})
