"""`end pair` (Dutch: `stoppen`): a mentee or mentor asks the coordinators to end their match.

The conversation runs in the person's direct chat (never in the pair space): why — a reason
that only the coordinators read — and a confirmation. The request goes into the coordinators'
matching review (bot/services/endings.py); until they decide, the match goes on. The other
side is told nothing until the pair actually ends, and never why or who asked.
"""

from __future__ import annotations

from bot import Turn
from bot.domain import EndSource, Pair, Programme
from bot.engine import STOP, Flow, FlowContext, FreeText, Step, YesNo
from bot.events import SpaceKind, SpaceRef
from bot.i18n import Text, _l
from bot.replies import Option, Reply
from bot.services import accounts, endings, people
from bot.services import pairs as pair_store

FLOW = "end_pair"
COMMAND = "end"
DUTCH = "stoppen"
FILLER = ("pair", "koppel", "match")


def _pair(ctx: FlowContext) -> Pair | None:
    return ctx.session.get(Pair, ctx.answers.get("pair"))


def _other(ctx: FlowContext) -> str:
    pair = _pair(ctx)
    if pair is None or ctx.person.id is None:
        return "?"
    return people.name(ctx.session, pair_store.other_of(pair, ctx.person.id))


def _ask_reason(ctx: FlowContext) -> Text:
    return _l(
        "Why would you like to end your match with {other}? Only the coordinators read your "
        "answer; {other} does not.",
        other=_other(ctx),
    )


def _ask_confirm(ctx: FlowContext) -> Text:
    return _l(
        "Shall I ask the coordinators to end your match with {other}? Until they decide, your "
        "match goes on as it is.",
        other=_other(ctx),
    )


def _finish(ctx: FlowContext) -> None:
    pair = _pair(ctx)
    if not ctx.answers.get("confirm"):
        ctx.say(_l("Okay, nothing changes."))
        return
    assert ctx.person.id is not None
    reason = ctx.answers.get("reason") or ""
    if (
        pair is None
        or endings.request(ctx.session, pair, EndSource.PARTICIPANT, ctx.now, ctx.person.id, reason)
        is None
    ):
        ctx.say(_l("This match has ended already."))
        return
    ctx.say(
        _l(
            "I've passed it on to the coordinators. They will look for a new match and may get "
            "in touch with you; I'll let you know when something changes."
        )
    )
    programme = ctx.session.get(Programme, pair.programme_id)
    text = _l(
        "{name} asks to end the match between {mentor} (mentor) and {mentee} (mentee) in "
        "{programme}. Their reason: {reason}\nThe pair is in the matching review, with a new "
        "proposal for {mentee}; your weekly overview counts the pairs waiting there.",
        name=people.name(ctx.session, ctx.person.id),
        mentor=people.name(ctx.session, pair.mentor_id),
        mentee=people.name(ctx.session, pair.mentee_id),
        programme=programme.name if programme else "",
        reason=reason,
    )
    for coordinator in people.coordinators_of(ctx.session, pair.programme_id):
        ctx.tell(coordinator, Reply(text))


END_PAIR = Flow(
    FLOW,
    version=1,
    title=_l("Ask to end your match"),
    on_finish=_finish,
    steps=(
        Step(
            "reason",
            ask=_ask_reason,
            accepts=FreeText(max_length=600),
            skip_if=lambda ctx: bool(ctx.answers.get("reason")),
        ),
        Step("confirm", ask=_ask_confirm, accepts=YesNo(), next=STOP),
    ),
)


def _direct(turn: Turn) -> SpaceRef | None:
    """Where to talk about it: here when this is the direct chat, else the direct chat on this
    platform when Maatje knows it."""
    if turn.space.kind is SpaceKind.DIRECT:
        return turn.space
    ref = turn.person_ref
    identity = accounts.identity_of(turn.session, ref)
    if identity is None or identity.direct_channel is None:
        return None
    return SpaceRef(ref.platform, ref.workspace, identity.direct_channel, SpaceKind.DIRECT)


def end_command(turn: Turn, args: tuple[str, ...]) -> None:
    """`end pair [REASON]`; with several pairs, buttons choose (`end <pair id>`)."""
    words = list(args)
    if words and words[0].lower() in FILLER:
        words = words[1:]
    pairs = pair_store.pairs_of(turn.session, turn.person_id)
    chosen = None
    if words and words[0].isdigit():
        chosen = next((p for p in pairs if str(p.id) == words[0]), None)
        words = words[1:] if chosen else words
    if not pairs:
        turn.say(_l("You are not in a mentoring pair, so there is no match to end."))
        return
    if chosen is None and len(pairs) > 1:
        turn.say(
            _l("Which match would you like to end?"),
            choices=tuple(
                Option(str(p.id), people.name(turn.session, pair_store.other_of(p, turn.person_id)))
                for p in pairs
            ),
            choice_token=f"c:{COMMAND}",
        )
        return
    pair = chosen or pairs[0]
    space = _direct(turn)
    if space is None:
        turn.say(
            _l(
                "Let's talk about this privately: send me 'end pair' in a direct message "
                "(in Dutch: 'stoppen')."
            )
        )
        return
    programme = turn.session.get(Programme, pair.programme_id)
    answers = {"pair": pair.id, **({"reason": " ".join(words)} if words else {})}
    turn.outbound.extend(
        turn.engine.start(
            turn.session,
            FLOW,
            turn.person,
            space,
            turn.person_ref,
            turn.now,
            programme=programme,
            answers=answers,
        )
    )
    if space != turn.space:
        turn.say(_l("I've sent you a question about it in our direct chat."))
