"""What a coordinator sees of a matching proposal: the pairs that asked to end, then group by
group the proposed mentees with fit and reasons, then who is left unmatched and why.

People flagged for extra help (they said in intake they may need more help than mentoring
gives) are marked — proposals are for coordinators only, so mentors never see the mark.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from bot import Turn
from bot.domain import EndRequest, EndSource, MatchProposal, Membership, Pair, Programme
from bot.i18n import Lines, Raw, Text, _l, _n
from bot.replies import Option
from bot.services import matchmaking, people

APPROVE_TOKEN = "c:match:approve"


def flagged(session: Session, programme_id: int) -> set[int]:
    """Participants of the programme flagged for extra help."""
    return set(
        session.exec(
            select(Membership.person_id).where(
                Membership.programme_id == programme_id, col(Membership.needs_referral)
            )
        ).all()
    )


def label(session: Session, person_id: int, marked: Collection[int]) -> Text | str:
    """A person's name, with the extra-help mark when they carry it."""
    name = people.name(session, person_id)
    if person_id in marked:
        return _l("{name} (flagged for extra help)", name=name)
    return name


def _why(session: Session, request: EndRequest) -> Text:
    who = people.name(session, request.person_id) if request.person_id else ""
    if request.source == EndSource.FIT_CHECK:
        return _l("{name} answered the fit check with 'it doesn't work'", name=who)
    if request.source == EndSource.STALLED:
        return _l("still stalled after the last escalation step")
    return _l("{name} asked to end it: {reason}", name=who, reason=request.reason or "-")


def endings_text(session: Session, proposal: MatchProposal) -> Text | None:
    """'N pairs asked to end' with each pair and why, or None."""
    if not proposal.endings:
        return None
    requests = session.exec(
        select(EndRequest)
        .where(col(EndRequest.pair_id).in_(proposal.endings), col(EndRequest.resolved_at).is_(None))
        .order_by(col(EndRequest.at))
    ).all()
    lines = []
    for pair_id in proposal.endings:
        pair = session.get(Pair, pair_id)
        if pair is None:
            continue
        lines.append(
            _l(
                "{mentor} and {mentee}: {why}",
                mentor=people.name(session, pair.mentor_id),
                mentee=people.name(session, pair.mentee_id),
                why=[_why(session, r) for r in requests if r.pair_id == pair_id] or "-",
            )
        )
    return _n(
        "{count} pair asked to end; new proposals below.\n{pairs}\nApproving ends it (both "
        "are told, without the reasons) and matches the mentee again, never with the same "
        "mentor; 'match keep MENTEE' keeps a pair.",
        "{count} pairs asked to end; new proposals below.\n{pairs}\nApproving ends them (both "
        "are told, without the reasons) and matches their mentees again, never with the same "
        "mentor; 'match keep MENTEE' keeps a pair.",
        len(lines),
        pairs=Lines(tuple(lines)),
    )


def show(turn: Turn, proposal: MatchProposal) -> None:
    session = turn.session
    programme = session.get(Programme, proposal.programme_id)
    assert programme is not None and programme.id is not None
    marked = flagged(session, programme.id)
    answers_of = matchmaking.existing_groups(session, programme.id, leaving=proposal.endings)
    blocks: list[Text] = []
    options = [Option("all", _l("Approve all"))]
    for key, entries in proposal.groups.items():
        if not entries:
            continue
        mentor_id = int(key)
        lines = [
            _l(
                "{mentee} — fit {fit}% — {reasons}",
                mentee=label(session, e["mentee"], marked),
                fit=round(e["fit"] * 100),
                reasons=[Text.from_json(r) for r in e["reasons"]] or _l("no shared criteria"),
            )
            for e in entries
        ]
        blocks.append(
            _l(
                "Group of {mentor} (already {count} in the group):\n{lines}",
                mentor=people.name(session, mentor_id),
                count=len(answers_of.get(mentor_id, [])),
                lines=Lines(tuple(lines)),
            )
        )
        options.append(
            Option(key, _l("Approve the group of {mentor}", mentor=people.name(session, mentor_id)))
        )
    notes = [Text.from_json(u["note"]) for u in proposal.unmatched if "note" in u]
    unmatched = [
        _l(
            "{mentee}: {reason}",
            mentee=label(session, u["mentee"], marked),
            reason=Text.from_json(u["reason"]) if u.get("reason") else "-",
        )
        for u in proposal.unmatched
        if "mentee" in u
    ]
    left = Lines(tuple(notes + unmatched)) if notes or unmatched else None
    ending = endings_text(session, proposal)
    if not blocks and ending is not None:
        turn.say(
            _l(
                "{endings}\n\nI found no new mentor for them yet: {unmatched}\n\nApprove to end "
                "these pairs now; their mentees are proposed again by the next 'match'.",
                endings=ending,
                unmatched=left or _l("no one"),
            ),
            choices=(Option("all", _l("Approve")),),
            choice_token=APPROVE_TOKEN,
        )
        return
    if not blocks:
        turn.say(
            _l(
                "Nothing to approve for {programme}. {notes}",
                programme=programme.name,
                notes=left or Raw(""),
            )
        )
        return
    if ending is None:
        text = _l(
            "Proposal for {programme}:\n\n{groups}\n\nNot matched: {unmatched}\n\nChange it "
            "with 'match swap MENTEE MENTEE' or 'match move MENTEE MENTOR|none'; nothing is "
            "created before you approve.",
            programme=programme.name,
            groups=Lines(tuple(blocks)),
            unmatched=left or _l("no one"),
        )
    else:
        text = _l(
            "Proposal for {programme}:\n\n{endings}\n\n{groups}\n\nNot matched: "
            "{unmatched}\n\nChange it with 'match swap MENTEE MENTEE' or 'match move MENTEE "
            "MENTOR|none'; nothing is created before you approve.",
            programme=programme.name,
            endings=ending,
            groups=Lines(tuple(blocks)),
            unmatched=left or _l("no one"),
        )
    turn.say(text, choices=tuple(options), choice_token=APPROVE_TOKEN)
