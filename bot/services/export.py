"""A coordinator's export: CSV files of a programme's pairs, meetings, goals and polls.

Only what a coordinator may see: no intake answers, no kennismakingsgids or check-in content,
and for polls only counts (who answered what stays in `poll results`, which applies the
programme's k threshold and keeps anonymous answers anonymous). The answers to the two private
questions about a match — the fit check and, at closing, keeping in touch — are in: each side
was told "only the coordinators see your answer". Every cell is neutralised against formula
injection (bot/services/csvfile.py).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.domain import Goal, Meeting, MeetingStatus, Pair, Person, Poll, PollInvite, Programme
from bot.services.csvfile import table


def export(session: Session, programme: Programme) -> dict[str, bytes]:
    """File name → CSV content."""
    pid = programme.id or 0

    def name(person_id: int | None) -> str:
        person = session.get(Person, person_id) if person_id else None
        return (person.display_name if person else None) or ""

    pairs = session.exec(select(Pair).where(Pair.programme_id == pid).order_by(col(Pair.id))).all()
    meetings = session.exec(
        select(Meeting)
        .where(Meeting.programme_id == pid)
        .order_by(col(Meeting.pair_id), col(Meeting.starts_at))
    ).all()
    held = {p.id: 0 for p in pairs}
    missed = {p.id: 0 for p in pairs}
    for meeting in meetings:
        if meeting.status == MeetingStatus.HELD:
            held[meeting.pair_id] = held.get(meeting.pair_id, 0) + 1
        elif meeting.status == MeetingStatus.MISSED:
            missed[meeting.pair_id] = missed.get(meeting.pair_id, 0) + 1
    pair_ids = [p.id for p in pairs]
    goals = (
        session.exec(
            select(Goal).where(col(Goal.pair_id).in_(pair_ids)).order_by(col(Goal.id))
        ).all()
        if pair_ids
        else []
    )
    polls = session.exec(select(Poll).where(Poll.programme_id == pid).order_by(col(Poll.id))).all()
    invites = {
        poll.id: session.exec(select(PollInvite).where(PollInvite.poll_id == poll.id)).all()
        for poll in polls
    }
    return {
        "pairs.csv": table(
            [
                "pair",
                "mentor",
                "mentee",
                "status",
                "matched_at",
                "fit",
                "guide_complete",
                "meetings_held",
                "meetings_missed",
                "fit_check_mentor",
                "fit_check_mentee",
                "keep_in_touch_mentor",
                "keep_in_touch_mentee",
            ],
            [
                (
                    p.id,
                    name(p.mentor_id),
                    name(p.mentee_id),
                    p.status,
                    p.matched_at.isoformat(),
                    f"{p.fit:.2f}",
                    "mentor" in p.guide and "mentee" in p.guide,
                    held.get(p.id, 0),
                    missed.get(p.id, 0),
                    *private_answers(p),
                )
                for p in pairs
            ],
        ),
        "meetings.csv": table(
            ["pair", "number", "starts_at_utc", "minutes", "status"],
            [
                (m.pair_id, m.number, m.starts_at.isoformat(), m.duration_minutes, m.status)
                for m in meetings
            ],
        ),
        "goals.csv": table(
            ["pair", "mentee", "goal", "due", "status", "progress"],
            [
                (g.pair_id, name(g.mentee_id), g.what, g.due.isoformat(), g.status, g.progress)
                for g in goals
            ],
        ),
        "polls.csv": table(
            ["poll", "questionnaire", "audience", "anonymous", "status", "invited", "answered"],
            [
                (
                    poll.id,
                    poll.questionnaire,
                    poll.audience,
                    poll.anonymous,
                    poll.status,
                    len(invites[poll.id]),
                    sum(1 for i in invites[poll.id] if i.answered_at),
                )
                for poll in polls
            ],
        ),
    }


def private_answers(pair: Pair) -> tuple[str, str, str, str]:
    """The fit check and keep-in-touch answers of mentor and mentee ("" when not given)."""
    fit = pair.guide.get("fit") or {}
    keep = pair.guide.get("keep_in_touch") or {}
    return (
        fit.get("mentor", ""),
        fit.get("mentee", ""),
        keep.get("mentor", ""),
        keep.get("mentee", ""),
    )
