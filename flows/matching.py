"""`match` for coordinators: review Maatje's proposal, change it, approve it.

match                       a fresh proposal, group by group, with fit and reasons
match approve [MENTOR]      create everything (or one mentor's group)
match swap MENTEE MENTEE    exchange two mentees' mentors
match move MENTEE MENTOR    put a mentee with another mentor ('none': leave unmatched)
match rerun                 compute the proposal again
match release MENTEE        end a mentee's match; they are proposed again by the next `match`
"""

from __future__ import annotations

from sqlmodel import select

from bot import Turn
from bot.domain import MatchProposal, Membership, Pair, PairStatus, Person, Programme, Role
from bot.i18n import Lines, Raw, Text, _l, _n
from bot.replies import Option
from bot.services import matchmaking, people
from flows import pairing
from flows import vocabulary as v

TOPIC_LABELS = {o.value: o.label for o in v.TOPICS}


def _find(turn: Turn, programme: Programme, name: str, role: Role) -> int | None:
    """A participant by (the start of) their display name or id."""
    wanted = name.lstrip("@").casefold()
    rows = turn.session.exec(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.programme_id == programme.id, Membership.role == role)
    ).all()
    exact = [
        p.id for p in rows if (p.display_name or "").casefold() == wanted or str(p.id) == wanted
    ]
    if exact:
        return exact[0]
    starts = [p.id for p in rows if (p.display_name or "").casefold().startswith(wanted)]
    return starts[0] if len(starts) == 1 else None


def _name(turn: Turn, person_id: int) -> str:
    person = turn.session.get(Person, person_id)
    return (person.display_name if person else None) or f"#{person_id}"


def match(turn: Turn, args: tuple[str, ...]) -> None:
    programme = people.latest_coordinated(turn.session, turn.person_id)
    if programme is None:
        turn.say(_l("You don't coordinate a programme."))
        return
    action, rest = (args[0].lower(), args[1:]) if args else ("", ())
    proposal = matchmaking.open_proposal(turn.session, programme.id or 0)
    if action != "release" and (action in ("", "rerun") or proposal is None):
        if action not in ("", "rerun"):
            turn.say(_l("There is no proposal under review; here is a fresh one."))
        proposal = matchmaking.new_proposal(turn.session, programme, turn.now, TOPIC_LABELS)
        show(turn, proposal)
        return
    if action == "release" and rest:
        mentee = _find(turn, programme, " ".join(rest), Role.MENTEE)
        pair = (
            turn.session.exec(
                select(Pair).where(
                    Pair.programme_id == programme.id,
                    Pair.mentee_id == mentee,
                    Pair.status == PairStatus.ACTIVE,
                )
            ).first()
            if mentee
            else None
        )
        if pair is None:
            turn.say(_l("That mentee has no active match."))
            return
        pairing.release(turn, pair)
    elif action == "approve":
        _approve(turn, proposal, programme, rest)
    elif action == "swap" and len(rest) == 2:
        first, second = (_find(turn, programme, n, Role.MENTEE) for n in rest)
        if (
            first is None
            or second is None
            or not matchmaking.swap(turn.session, proposal, first, second, TOPIC_LABELS)
        ):
            turn.say(
                _l(
                    "I couldn't find both mentees in the proposal. Use their names as "
                    "shown, for example: match swap Anna Bram."
                )
            )
            return
        show(turn, proposal)
    elif action == "move" and len(rest) == 2:
        mentee = _find(turn, programme, rest[0], Role.MENTEE)
        mentor = (
            None
            if rest[1].lower() in ("none", "geen")
            else _find(turn, programme, rest[1], Role.MENTOR)
        )
        if mentee is None or (mentor is None and rest[1].lower() not in ("none", "geen")):
            turn.say(
                _l(
                    "I couldn't find that mentee or mentor. For example: match move Anna "
                    "Maarten, or match move Anna none."
                )
            )
            return
        matchmaking.move(
            turn.session,
            proposal,
            mentee,
            mentor,
            _l("left unmatched by a coordinator"),
            TOPIC_LABELS,
        )
        show(turn, proposal)
    else:
        turn.say(
            _l(
                "I understand: match, match approve [mentor], match swap MENTEE MENTEE, "
                "match move MENTEE MENTOR|none, match rerun, match release MENTEE."
            )
        )


def _approve(
    turn: Turn, proposal: MatchProposal, programme: Programme, rest: tuple[str, ...]
) -> None:
    mentor_ids = None
    if rest and rest[0] != "all":
        mentor = _find(turn, programme, " ".join(rest), Role.MENTOR)
        if mentor is None or str(mentor) not in proposal.groups:
            turn.say(_l("That mentor has no group in the proposal."))
            return
        mentor_ids = {mentor}
    pairs = matchmaking.approve(turn.session, proposal, turn.now, mentor_ids)
    turn.say(
        _n(
            "Approved: {count} pair. I'm opening the group and pair spaces and introducing "
            "everyone now.",
            "Approved: {count} pairs. I'm opening the group and pair spaces and introducing "
            "everyone now.",
            len(pairs),
        )
    )
    if any(proposal.groups.values()):
        show(turn, proposal)


def show(turn: Turn, proposal: MatchProposal) -> None:
    programme = turn.session.get(Programme, proposal.programme_id)
    assert programme is not None
    answers_of = matchmaking.existing_groups(turn.session, programme.id or 0)
    blocks: list[Text] = []
    options = [Option("all", _l("Approve all"))]
    for key, entries in proposal.groups.items():
        if not entries:
            continue
        mentor_id = int(key)
        lines = [
            _l(
                "{mentee} — fit {fit}% — {reasons}",
                mentee=_name(turn, e["mentee"]),
                fit=round(e["fit"] * 100),
                reasons=[Text.from_json(r) for r in e["reasons"]] or _l("no shared criteria"),
            )
            for e in entries
        ]
        blocks.append(
            _l(
                "Group of {mentor} (already {count} in the group):\n{lines}",
                mentor=_name(turn, mentor_id),
                count=len(answers_of.get(mentor_id, [])),
                lines=Lines(tuple(lines)),
            )
        )
        options.append(
            Option(key, _l("Approve the group of {mentor}", mentor=_name(turn, mentor_id)))
        )
    notes = [Text.from_json(u["note"]) for u in proposal.unmatched if "note" in u]
    unmatched = [
        _l(
            "{mentee}: {reason}",
            mentee=_name(turn, u["mentee"]),
            reason=Text.from_json(u["reason"]) if u.get("reason") else "-",
        )
        for u in proposal.unmatched
        if "mentee" in u
    ]
    if not blocks:
        turn.say(
            _l(
                "Nothing to approve for {programme}. {notes}",
                programme=programme.name,
                notes=Lines(tuple(notes + unmatched)) if notes or unmatched else Raw(""),
            )
        )
        return
    turn.say(
        _l(
            "Proposal for {programme}:\n\n{groups}\n\nNot matched: {unmatched}\n\nChange it "
            "with 'match swap MENTEE MENTEE' or 'match move MENTEE MENTOR|none'; nothing is "
            "created before you approve.",
            programme=programme.name,
            groups=Lines(tuple(blocks)),
            unmatched=Lines(tuple(notes + unmatched)) if notes or unmatched else _l("no one"),
        ),
        choices=tuple(options),
        choice_token="c:match:approve",
    )
