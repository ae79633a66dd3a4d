"""`match` for coordinators: review Maatje's proposal, change it, approve it.

match                       a fresh proposal: pairs that asked to end, then group by group
match approve [MENTOR]      create everything (or one mentor's group), end what asked to end
match swap MENTEE MENTEE    exchange two mentees' mentors
match move MENTEE MENTOR    put a mentee with another mentor ('none': leave unmatched)
match keep MENTEE           keep a pair that asked to end
match rerun                 compute the proposal again
match release MENTEE        end a mentee's match now; they are proposed again by the next `match`

A move or swap that would put a mentor over the number of mentees they said they can take, or
make a pair with a 0 % fit or no common language, is shown with its warnings and done only when
the coordinator confirms (buttons `c:match:move|swap:<a>:<b>:<proposal>`). A mentee is never
put with a mentor whose match with them ended.
"""

from __future__ import annotations

from sqlmodel import select

from bot import Turn
from bot.domain import MatchProposal, Membership, Pair, PairStatus, Person, Programme, Role
from bot.i18n import Lines, Text, _l, _n
from bot.replies import Option, Reply
from bot.services import endings, match_checks, matchmaking, people
from flows.everyone import vocabulary as v
from flows.matchmaking import pairing
from flows.matchmaking.match_review import show

TOPIC_LABELS = {o.value: o.label for o in v.TOPICS}
ANSWERS = ("confirmed", "cancel")
CHANGED = _l(
    "The proposal has changed since, so I changed nothing. Type 'match' to see the current one."
)
USAGE = _l(
    "I understand: match, match approve [mentor], match swap MENTEE MENTEE, "
    "match move MENTEE MENTOR|none, match keep MENTEE, match rerun, match release MENTEE."
)


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


def _active_pair(turn: Turn, programme: Programme, mentee: int | None) -> Pair | None:
    if mentee is None:
        return None
    return turn.session.exec(
        select(Pair).where(
            Pair.programme_id == programme.id,
            Pair.mentee_id == mentee,
            Pair.status == PairStatus.ACTIVE,
        )
    ).first()


def match(turn: Turn, args: tuple[str, ...]) -> None:
    programme = people.latest_coordinated(turn.session, turn.person_id)
    if programme is None:
        turn.say(_l("You don't coordinate a programme."))
        return
    action, rest = (args[0].lower(), args[1:]) if args else ("", ())
    if action == "release" and rest:
        pair = _active_pair(turn, programme, _find(turn, programme, " ".join(rest), Role.MENTEE))
        if pair is None:
            turn.say(_l("That mentee has no active match."))
            return
        pairing.release(turn, pair)
        return
    if action == "keep" and rest:
        _keep(turn, programme, " ".join(rest))
        return
    proposal = matchmaking.open_proposal(turn.session, programme.id or 0)
    if action in ("move", "swap") and len(rest) == 4 and rest[3] in ANSWERS:
        _confirmed(turn, programme, proposal, action, rest)
        return
    if action in ("", "rerun") or proposal is None:
        if action not in ("", "rerun"):
            turn.say(_l("There is no proposal under review; here is a fresh one."))
        show(turn, matchmaking.new_proposal(turn.session, programme, turn.now, TOPIC_LABELS))
        return
    if action == "approve":
        _approve(turn, proposal, programme, rest)
    elif action == "swap" and len(rest) == 2:
        _swap(turn, programme, proposal, rest)
    elif action == "move" and len(rest) == 2:
        _move(turn, programme, proposal, rest)
    else:
        turn.say(USAGE)


def _move(turn: Turn, programme: Programme, proposal: MatchProposal, rest: tuple[str, ...]) -> None:
    mentee = _find(turn, programme, rest[0], Role.MENTEE)
    nobody = rest[1].lower() in ("none", "geen")
    mentor = None if nobody else _find(turn, programme, rest[1], Role.MENTOR)
    if mentee is None or (mentor is None and not nobody):
        turn.say(
            _l(
                "I couldn't find that mentee or mentor. For example: match move Anna "
                "Maarten, or match move Anna none."
            )
        )
        return
    if mentor is not None:
        placement = match_checks.check(
            turn.session, programme, proposal, mentee, mentor, TOPIC_LABELS
        )
        if placement.refused is not None:
            turn.say(placement.refused)
            return
        if placement.warnings:
            _ask(
                turn,
                placement.warnings,
                _l(
                    "Move {mentee} to {mentor} anyway?",
                    mentee=_name(turn, mentee),
                    mentor=_name(turn, mentor),
                ),
                _l("Yes, move anyway"),
                f"c:match:move:{mentee}:{mentor}:{proposal.id}",
            )
            return
    _do_move(turn, proposal, mentee, mentor)


def _do_move(turn: Turn, proposal: MatchProposal, mentee: int, mentor: int | None) -> None:
    reason = _l("left unmatched by a coordinator")
    matchmaking.move(turn.session, proposal, mentee, mentor, reason, TOPIC_LABELS)
    show(turn, proposal)


def _swap(turn: Turn, programme: Programme, proposal: MatchProposal, rest: tuple[str, ...]) -> None:
    first, second = (_find(turn, programme, n, Role.MENTEE) for n in rest)
    mentor_of = {a["mentee"]: int(k) for k, v in proposal.groups.items() for a in v}
    if first not in mentor_of or second not in mentor_of:
        turn.say(
            _l(
                "I couldn't find both mentees in the proposal. Use their names as "
                "shown, for example: match swap Anna Bram."
            )
        )
        return
    assert first is not None and second is not None
    warnings: list[Text] = []
    for mentee, mentor in ((first, mentor_of[second]), (second, mentor_of[first])):
        placement = match_checks.check(
            turn.session, programme, proposal, mentee, mentor, TOPIC_LABELS, seats=False
        )
        if placement.refused is not None:
            turn.say(placement.refused)
            return
        warnings.extend(placement.warnings)
    if warnings:
        _ask(
            turn,
            tuple(warnings),
            _l(
                "Swap {first} and {second} anyway?",
                first=_name(turn, first),
                second=_name(turn, second),
            ),
            _l("Yes, swap anyway"),
            f"c:match:swap:{first}:{second}:{proposal.id}",
        )
        return
    matchmaking.swap(turn.session, proposal, first, second, TOPIC_LABELS)
    show(turn, proposal)


def _ask(turn: Turn, warnings: tuple[Text, ...], question: Text, yes: Text, token: str) -> None:
    turn.say(
        _l(
            "Before I change the proposal:\n{warnings}\n\n{question}",
            warnings=Lines(warnings),
            question=question,
        ),
        choices=(Option("confirmed", yes), Option("cancel", _l("No, leave it as it is"))),
        choice_token=token,
    )


def _confirmed(
    turn: Turn,
    programme: Programme,
    proposal: MatchProposal | None,
    action: str,
    rest: tuple[str, ...],
) -> None:
    """The buttons under a warning: `match move|swap <a> <b> <proposal> confirmed|cancel`."""
    if rest[3] == "cancel":
        turn.say(_l("Okay, the proposal stays as it was."))
        return
    if proposal is None or rest[2] != str(proposal.id) or not rest[0].isdigit():
        turn.say(CHANGED)
        return
    first = int(rest[0])
    second = None if rest[1] == "none" or not rest[1].isdigit() else int(rest[1])
    if action == "move":
        _do_move(turn, proposal, first, second)
    elif second is not None and matchmaking.swap(
        turn.session, proposal, first, second, TOPIC_LABELS
    ):
        show(turn, proposal)
    else:
        turn.say(CHANGED)


def _keep(turn: Turn, programme: Programme, name: str) -> None:
    """A coordinator keeps a pair that asked to end: the requests are closed, those who asked
    are told, and the proposal is made again."""
    pair = _active_pair(turn, programme, _find(turn, programme, name, Role.MENTEE))
    requests = [
        r
        for p, rows in endings.open_requests(turn.session, programme.id or 0, turn.now)
        if pair is not None and p.id == pair.id
        for r in rows
    ]
    if pair is None or pair.id is None or not requests:
        turn.say(_l("That mentee's pair has not asked to end."))
        return
    endings.resolve(turn.session, pair.id, endings.KEPT, turn.now)
    asked = dict.fromkeys(r.person_id for r in requests if r.person_id is not None)
    mentor, mentee = _name(turn, pair.mentor_id), _name(turn, pair.mentee_id)
    for person_id in asked:
        other = mentee if person_id == pair.mentor_id else mentor
        turn.tell(
            person_id,
            Reply(
                _l(
                    "The coordinators have looked at your match with {other} and keep it for "
                    "now. They may get in touch with you about it.",
                    other=other,
                )
            ),
        )
    turn.say(_l("{mentor} and {mentee} stay a pair.", mentor=mentor, mentee=mentee))
    show(turn, matchmaking.new_proposal(turn.session, programme, turn.now, TOPIC_LABELS))


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
    approval = matchmaking.approve(turn.session, proposal, turn.now, mentor_ids)
    for pair in approval.ended:
        turn.outbound.extend(pairing.ended_messages(turn.session, pair))
    if approval.created or not approval.ended:
        turn.say(
            _n(
                "Approved: {count} pair. I'm opening the group and pair spaces and introducing "
                "everyone now.",
                "Approved: {count} pairs. I'm opening the group and pair spaces and introducing "
                "everyone now.",
                len(approval.created),
            )
        )
    if approval.ended:
        turn.say(
            _n(
                "Ended: {count} pair that asked to end; both sides were told.",
                "Ended: {count} pairs that asked to end; both sides were told.",
                len(approval.ended),
            )
        )
    if any(proposal.groups.values()) or proposal.endings:
        show(turn, proposal)
