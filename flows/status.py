"""`status` for coordinators: each programme they coordinate at a glance."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from bot import Turn
from bot.domain import IntakeState, Membership, Programme, Role
from bot.i18n import Lines, _l

STATE_LABELS = {
    IntakeState.NOT_STARTED: _l("intake not started"),
    IntakeState.IN_PROGRESS: _l("intake in progress"),
    IntakeState.COMPLETE: _l("intake complete"),
    IntakeState.NOT_COMMITTED: _l("did not commit"),
}
ROLE_LABELS = {Role.MENTEE: _l("Mentees"), Role.MENTOR: _l("Mentors")}


def status(turn: Turn, args: tuple[str, ...]) -> None:
    coordinated = turn.session.exec(
        select(Programme)
        .join(Membership, Membership.programme_id == Programme.id)
        .where(Membership.person_id == turn.person_id, Membership.role == Role.COORDINATOR)
    ).all()
    for programme in coordinated:
        members = turn.session.exec(
            select(Membership).where(Membership.programme_id == programme.id)
        ).all()
        lines = []
        for role, label in ROLE_LABELS.items():
            of_role = [m for m in members if m.role == role]
            counts = Counter(m.intake for m in of_role)
            states = [
                _l("{count} {state}", count=counts[state], state=state_label)
                for state, state_label in STATE_LABELS.items()
                if counts[state]
            ]
            lines.append(
                _l(
                    "{role}: {total} ({states})",
                    role=label,
                    total=len(of_role),
                    states=states or _l("none yet"),
                )
            )
        referrals = sum(1 for m in members if m.needs_referral)
        lines.append(_l("Asked for more help than mentoring gives: {count}", count=referrals))
        turn.say(
            _l(
                "{programme} ({start} – {end})\n{lines}",
                programme=programme.name,
                start=programme.start,
                end=programme.end,
                lines=Lines(tuple(lines)),
            )
        )
