"""Answering a poll: the questionnaire reaches each invitee in their direct chat, reminders
reach those who have not answered, and the poll closes at its date.

Every step is an outbox job, one per person for invites, so a poll to a thousand people is
durable (a crash loses and repeats nothing) and its messages are paced by the adapters.
Someone busy with another conversation in their direct chat is not interrupted: the invite
tries again later. The anonymity rules are in docs/polls.md.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import Turn, outbox
from bot.domain import Identity, Membership, OutboxItem, Person, Programme, Role
from bot.domain.polls import Poll, PollInvite, PollStatus
from bot.engine import Engine, Flow, FlowContext, Outbound
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import Lines, Raw, Text, Translator, _l, _n
from bot.replies import Option, Reply
from bot.services import hold, people, questionnaires, reports
from bot.services import polls as poll_store
from bot.services.questionnaires import Questionnaire
from bot.store import read
from flows.evaluation.questionnaire import build_flow, flow_name

log = logging.getLogger(__name__)

BUILTIN = Path(__file__).resolve().parent / "questionnaires"
INVITE = "poll.invite"
REMIND = "poll.remind"
CLOSE = "poll.close"
MIX = "poll.mix"
ANSWER_COMMAND = "questionnaire"
MIX_WINDOW = timedelta(minutes=10)
BUSY_RETRY = timedelta(hours=6)
_ROLE = "poll_answers.role"
"""Key (with the poll and the person) of the role looked up for a unit of work."""


def last_day(poll: Poll, timezone: str):
    """The last day to answer, in the programme's zone (a poll closes at the day's end)."""
    assert poll.closes_at is not None
    return (poll.closes_at.astimezone(ZoneInfo(timezone)) - timedelta(seconds=1)).date()


def _direct_space(session: Session, person_id: int) -> tuple[SpaceRef, PersonRef] | None:
    identity = session.exec(
        select(Identity)
        .where(Identity.person_id == person_id, col(Identity.direct_channel).is_not(None))
        .order_by(col(Identity.last_seen_at).desc().nulls_last(), col(Identity.id).desc())
    ).first()
    if identity is None or identity.direct_channel is None:
        return None
    return (
        SpaceRef(identity.platform, identity.workspace, identity.direct_channel, SpaceKind.DIRECT),
        PersonRef(identity.platform, identity.workspace, identity.user_id),
    )


_INVITE = (
    select(Poll, Person, PollInvite, Programme)
    .select_from(Poll)
    .join(Person, col(Person.id) == bindparam("person"))
    .outerjoin(PollInvite, and_(PollInvite.poll_id == Poll.id, PollInvite.person_id == Person.id))
    .outerjoin(Programme, col(Programme.id) == Poll.programme_id)
    .where(Poll.id == bindparam("poll"))
)
"""An invite job's poll, person, their invite and the poll's programme, in one statement."""
_POLL_AND_ROLES = (  # built once: every answer to a questionnaire asks it
    sa_select(Poll.audience, Membership.role)
    .outerjoin(
        Membership,
        and_(
            col(Membership.programme_id) == Poll.programme_id,
            col(Membership.person_id) == bindparam("person"),
            col(Membership.role).in_(poll_store.ROLES),
        ),
    )
    .where(col(Poll.id) == bindparam("poll"))
)
"""A poll's audience, and the person's roles in its programme (a row each; one with no role
when they have none), in one statement."""


def _role(rows: Sequence[Any]) -> str | None:
    """`polls.role_of` from `_POLL_AND_ROLES`'s rows (none: there is no such poll)."""
    if not rows:
        return None
    audience = rows[0][0]
    if audience in poll_store.ROLES:
        return audience
    if audience.startswith("group:"):
        return Role.MENTEE.value
    roles = [role for _, role in rows if role is not None]
    return roles[0] if len(roles) == 1 else None


class PollAnswers:
    """The questionnaires, their flows, and the jobs that bring them to people."""

    def __init__(self, directories: Sequence[Path] = (BUILTIN,)) -> None:
        self.questionnaires: dict[str, Questionnaire] = questionnaires.load(directories)
        self.flows: tuple[Flow, ...] = tuple(
            build_flow(q, self.finish, self.role_of) for q in self.questionnaires.values()
        )
        self._engine: Engine | None = None

    @staticmethod
    def role_of(ctx: FlowContext) -> str | None:
        """As whom the person in this conversation answers its poll: mentee or mentor. Asked
        for every step and every item a step may skip, so it is looked up once per unit of
        work (kept in the session's `info`)."""
        poll_id = poll_store.poll_of_subject(ctx.run.subject)
        if not poll_id or ctx.person.id is None:
            return None
        key = (_ROLE, poll_id, ctx.person.id)
        if key not in ctx.session.info:
            params = {"poll": poll_id, "person": ctx.person.id}
            ctx.session.info[key] = _role(read(ctx.session, _POLL_AND_ROLES, params).all())
        return ctx.session.info[key]

    @property
    def engine(self) -> Engine:
        """Jobs get no engine from the core; starting a flow needs one, and an engine holds
        nothing but the flows, so the poll flows have their own."""
        if self._engine is None:
            self._engine = Engine({f.name: f for f in self.flows}, Translator())
        return self._engine

    def jobs(self) -> dict:
        return {INVITE: self.invite, REMIND: self.remind, CLOSE: self.close, MIX: self.mix}

    # -- scheduling (called by `poll send`) ----------------------------------------------

    def schedule(self, session: Session, poll: Poll, invited: list[int], now: datetime) -> None:
        assert poll.id is not None
        outbox.enqueue_many(
            session,
            (
                {
                    "kind": INVITE,
                    "payload": {"poll": poll.id, "person": person_id},
                    "idempotency_key": f"poll-invite:{poll.id}:{person_id}",
                    "due_at": now,
                    "created_at": now,
                }
                for person_id in invited
            ),
        )
        programme = session.get(Programme, poll.programme_id)
        settings = programme.settings if programme else {}
        every = timedelta(days=float(settings.get("poll_reminder_days", 3)))
        rounds = int(settings.get("poll_reminders", 2))
        due_times = [now + every * r for r in range(1, rounds + 1)]
        if poll.closes_at is not None:
            due_times = [d for d in due_times if d <= poll.closes_at - timedelta(hours=12)]
            last_call = poll.closes_at - timedelta(days=1)
            if rounds and not due_times and last_call > now + timedelta(hours=6):
                due_times = [last_call]
            outbox.enqueue(
                session, CLOSE, {"poll": poll.id}, f"poll-close:{poll.id}", poll.closes_at, now
            )
        for number, due in enumerate(due_times, start=1):
            outbox.enqueue(
                session, REMIND, {"poll": poll.id}, f"poll-remind:{poll.id}:{number}", due, now
            )

    # -- jobs ---------------------------------------------------------------------------

    def invite(self, session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        params = {"poll": item.payload["poll"], "person": item.payload["person"]}
        found = session.exec(_INVITE, params=params).first()
        if found is None:
            return []  # the poll or the person is gone
        # `offer` finds the programme in the session while it is held here
        poll, person, row, _programme = found
        if poll.status != PollStatus.OPEN or row is None or row.answered_at is not None:
            return []
        return self.offer(session, poll, person, now, bool(item.payload.get("reminder")))

    def offer(
        self, session: Session, poll: Poll, person: Person, now: datetime, reminder: bool
    ) -> list[Outbound]:
        """Start the questionnaire in the person's direct chat, or remind them of it."""
        assert poll.id is not None and person.id is not None
        questionnaire = self.questionnaires.get(poll.questionnaire)
        programme = session.get(Programme, poll.programme_id)
        if questionnaire is None or programme is None:
            log.warning("poll %s: questionnaire %s is gone", poll.id, poll.questionnaire)
            return []
        role = poll_store.role_of(session, poll, person.id)
        session.info[(_ROLE, poll.id, person.id)] = role  # what the flow asks (`role_of`)
        asked = len(questionnaire.items_for(role))
        intro = self.introduction(questionnaire, poll, programme, reminder, asked)
        direct = _direct_space(session, person.id)
        if direct is None:  # never wrote to us directly: a button starts it where they click
            return [
                Outbound(
                    person.id,
                    Reply(
                        intro,
                        choices=(Option(str(poll.id), _l("Start")),),
                        choice_token=f"c:{ANSWER_COMMAND}",
                    ),
                )
            ]
        space, ref = direct
        run = self.engine.active_run(session, person.id, space)
        if run is not None and run.subject == poll_store.subject(poll.id):
            if not reminder:
                return []
            return self.engine.reask(session, run, now, ref, intro)
        if run is not None:  # busy with something else: do not interrupt, try again later
            outbox.enqueue(
                session,
                INVITE,
                {"poll": poll.id, "person": person.id, "reminder": reminder},
                f"poll-invite:{poll.id}:{person.id}:{now.isoformat()}",
                now + BUSY_RETRY,
                now,
            )
            return []
        first = Outbound(person.id, Reply(intro), space, ref)
        return [
            first,
            *self.engine.start(
                session,
                flow_name(questionnaire.name),
                person,
                space,
                ref,
                now,
                programme=programme,
                subject=poll_store.subject(poll.id),
                none_active=True,  # looked up above
            ),
        ]

    @staticmethod
    def introduction(
        questionnaire: Questionnaire, poll: Poll, programme: Programme, reminder: bool, count: int
    ) -> Text:
        if poll.anonymous:
            privacy = _l(
                "Your answers are anonymous: they are stored without your name or the time you "
                "answered, and cannot be traced back to you. Results are shown only once the "
                "poll has closed and at least {k} people answered.",
                k=poll_store.min_responses(programme),
            )
        else:
            privacy = _l(
                "Your answers are stored with your name; the programme's coordinators see them."
            )
        deadline = (
            _l("Please answer by {date}.", date=last_day(poll, programme.timezone))
            if poll.closes_at
            else Raw("")
        )
        opening = (
            _n(
                "A reminder: {programme} would still like your answers to “{title}” "
                "({count} question).",
                "A reminder: {programme} would still like your answers to “{title}” "
                "({count} questions).",
                count,
                programme=programme.name,
                title=questionnaire.title,
            )
            if reminder
            else _n(
                "{programme} asks you to fill in “{title}” ({count} question).",
                "{programme} asks you to fill in “{title}” ({count} questions).",
                count,
                programme=programme.name,
                title=questionnaire.title,
            )
        )
        return _l(
            "{opening}\n{intro}\n\n{privacy} {deadline}",
            opening=opening,
            intro=questionnaire.intro or Raw(""),
            privacy=privacy,
            deadline=deadline,
        )

    def remind(self, session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        """One reminder round: an invite job with a reminder for everyone still to answer."""
        poll = session.get(Poll, item.payload["poll"])
        if poll is None or poll.status != PollStatus.OPEN:
            return []
        assert poll.id is not None
        if hold.held(session, item, session.get(Programme, poll.programme_id), (), now):
            return []  # a quiet period: the round comes when it is over
        for person_id in poll_store.waiting(session, poll.id):
            person = session.get(Person, person_id)
            if person is None or (person.paused_until and person.paused_until > now):
                continue
            row = poll_store.invite(session, poll.id, person_id)
            assert row is not None
            row.reminded_at = now
            session.add(row)
            outbox.enqueue(
                session,
                INVITE,
                {"poll": poll.id, "person": person_id, "reminder": True},
                f"{item.idempotency_key}:{person_id}",
                now,
                now,
            )
        return []

    def close(self, session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        poll = session.get(Poll, item.payload["poll"])
        if poll is None:
            return []
        return self.close_poll(session, poll, now)

    def close_poll(self, session: Session, poll: Poll, now: datetime) -> list[Outbound]:
        """Close it and tell whoever sent it (or the coordinators) how many answered."""
        if not poll_store.close(session, poll, now):
            return []
        assert poll.id is not None
        invited, answered = poll_store.counts(session, poll.id)
        told = [poll.created_by] if poll.created_by else []
        told = told or people.coordinators_of(session, poll.programme_id)
        reply = Reply(
            _n(
                "Poll {id} ({name}) has closed: {count} of {invited} people answered. "
                "See the results with 'poll results {id}'.",
                "Poll {id} ({name}) has closed: {count} of {invited} people answered. "
                "See the results with 'poll results {id}'.",
                answered,
                id=poll.id,
                name=poll.questionnaire,
                invited=invited,
            )
        )
        return [Outbound(person_id, reply) for person_id in told]

    def mix(self, session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        poll = session.get(Poll, item.payload["poll"])
        if poll is not None and poll.anonymous and poll.id is not None:
            poll_store.mix(session, poll.id)
        return []

    # -- the conversation's end, and its start from a button --------------------------------

    def finish(self, ctx: FlowContext) -> None:
        poll_id = poll_store.poll_of_subject(ctx.run.subject)
        poll = ctx.session.get(Poll, poll_id) if poll_id else None
        questionnaire = self.questionnaires.get(poll.questionnaire) if poll else None
        assert ctx.person.id is not None
        if poll is None or questionnaire is None:
            ctx.run.answers = {}
            ctx.say(_l("Thank you. This poll no longer exists, so your answers were not kept."))
            return
        answers = {i.id: ctx.answers.get(i.id) for i in questionnaire.items}
        counted = poll_store.submit(ctx.session, poll, ctx.person.id, answers, ctx.now)
        if poll.anonymous or not counted:
            ctx.run.answers = {}  # the response holds them now, without a name
        if not counted:
            ctx.say(
                _l(
                    "Thank you. This poll has closed or you answered it already, so these "
                    "answers were not counted."
                )
            )
            return
        ctx.say(questionnaire.thanks or _l("Thank you for your answers!"))
        if poll.anonymous:
            window = datetime.fromtimestamp(
                ctx.now.timestamp() // MIX_WINDOW.total_seconds() * MIX_WINDOW.total_seconds(),
                UTC,
            )
            outbox.enqueue(
                ctx.session,
                MIX,
                {"poll": poll.id},
                f"poll-mix:{poll.id}:{window:%Y%m%d%H%M}",
                window + MIX_WINDOW,
                ctx.now,
            )
        elif questionnaire.topics:
            topics = reports.own_topics(questionnaire, answers)
            if topics:
                ctx.say(
                    _l(
                        "From your answers, these topics could help you most in a training:\n"
                        "{topics}",
                        topics=Lines(tuple(a.label for a in topics)),
                    )
                )

    def answer(self, turn: Turn, args: tuple[str, ...]) -> None:
        """`questionnaire <poll>`: the Start button of an invite."""
        poll = turn.session.get(Poll, int(args[0])) if args and args[0].isdigit() else None
        row = poll_store.invite(turn.session, poll.id or 0, turn.person_id) if poll else None
        if poll is None or row is None or poll.status != PollStatus.OPEN:
            turn.say(_l("This poll is closed or not meant for you."))
            return
        if row.answered_at is not None:
            turn.say(_l("You have answered this poll already. Thank you!"))
            return
        run = turn.engine.active_run(turn.session, turn.person_id, turn.space)
        if run is not None and run.subject != poll_store.subject(poll.id or 0):
            turn.say(_l("Let's finish what we were doing first; I'll ask you again later."))
            turn.outbound.extend(turn.engine.reask(turn.session, run, turn.now, turn.person_ref))
            return
        if run is not None:
            turn.outbound.extend(turn.engine.reask(turn.session, run, turn.now, turn.person_ref))
            return
        programme = turn.session.get(Programme, poll.programme_id)
        turn.outbound.extend(
            turn.engine.start(
                turn.session,
                flow_name(poll.questionnaire),
                turn.person,
                turn.space,
                turn.person_ref,
                turn.now,
                programme=programme,
                subject=poll_store.subject(poll.id or 0),
                none_active=True,  # looked up above
            )
        )
