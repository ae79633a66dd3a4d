"""Coordinator safeguards in `match move` and `match swap`: over capacity, a 0 % fit or no
common language asks for confirmation; a mentee is never put back with a mentor whose match with
them ended; people flagged for extra help are marked in proposals, for coordinators only."""

from __future__ import annotations

from sqlmodel import select

from bot.domain import MatchProposal, Role
from bot.testing import Conversation
from tests.test_intake import MENTEE_ANSWERS, run_intake
from tests.test_matching_flow import MENTOR, enrol, mentee_answers


def placed(app) -> dict[int, int]:
    """Mentee → mentor in the open proposal."""
    with app.store.session() as session:
        proposal = session.exec(select(MatchProposal).where(MatchProposal.status == "open")).one()
    return {a["mentee"]: int(m) for m, group in proposal.groups.items() for a in group}


async def test_move_over_capacity_asks_first(app, chat: Conversation):
    await chat.send("cora", "hello")
    maarten = enrol(app, "maarten", Role.MENTOR, {**MENTOR, "capacity": 1})
    mila = enrol(app, "mila", Role.MENTOR, {**MENTOR, "background": {"field": "Medicine"}})
    anna = enrol(app, "anna", Role.MENTEE, mentee_answers())
    bram = enrol(app, "bram", Role.MENTEE, mentee_answers("Medicine"))
    await chat.command("cora", "match")
    assert placed(app) == {anna: maarten, bram: mila}

    await chat.command("cora", "match", "move", "bram", "maarten")
    warning = chat.last_message("cora")
    assert warning.text == (
        "Before I change the proposal:\n"
        "• Maarten said they can take 1 mentee; with Bram they would have 2.\n\n"
        "Move Bram to Maarten anyway?"
    )
    assert [o.value for o in warning.choices] == ["confirmed", "cancel"]
    assert placed(app) == {anna: maarten, bram: mila}  # nothing changed yet
    await chat.click("cora", "cancel")
    assert chat.last("cora") == "Okay, the proposal stays as it was."
    assert placed(app) == {anna: maarten, bram: mila}

    await chat.command("cora", "match", "move", "bram", "maarten")
    await chat.click("cora", "confirmed")
    assert placed(app) == {anna: maarten, bram: maarten}
    assert "Group of Maarten" in chat.last("cora")

    await chat.command("cora", "match", "move", "anna", "mila")  # Mila has room: no question
    assert placed(app) == {anna: mila, bram: maarten}
    assert chat.last("cora").startswith("Proposal for Mentoraat Test")


async def test_no_common_language_and_a_zero_fit_ask_first(app, chat: Conversation):
    await chat.send("cora", "hello")
    maarten = enrol(app, "maarten", Role.MENTOR, MENTOR)  # Dutch
    mike = enrol(app, "mike", Role.MENTOR, {**MENTOR, "language": "en"})
    anna = enrol(app, "anna", Role.MENTEE, mentee_answers())
    eva = enrol(app, "eva", Role.MENTEE, mentee_answers("Law", "en"))
    await chat.command("cora", "match")
    assert placed(app) == {anna: maarten, eva: mike}

    await chat.command("cora", "match", "swap", "anna", "eva")
    text = chat.last("cora")
    assert "• Anna and Mike have no language in common." in text
    assert "• Eva and Maarten have no language in common." in text
    assert "• The fit of Anna with Mike is 0%." in text
    assert text.endswith("Swap Anna and Eva anyway?")
    assert placed(app) == {anna: maarten, eva: mike}
    await chat.click("cora", "confirmed")
    assert placed(app) == {anna: mike, eva: maarten}

    await chat.command("cora", "match", "rerun")
    await chat.command("cora", "match", "move", "eva", "maarten")
    token = chat.last_message("cora").choice_token
    await chat.command("cora", "match", "rerun")  # the proposal changes meanwhile
    await chat.click("cora", "confirmed", token=token)
    assert "The proposal has changed since" in chat.last("cora")
    assert placed(app) == {anna: maarten, eva: mike}


async def test_a_mentee_is_never_moved_back_to_an_ended_match(app, chat: Conversation):
    await chat.send("cora", "hello")
    enrol(app, "maarten", Role.MENTOR, MENTOR)
    mila = enrol(app, "mila", Role.MENTOR, {**MENTOR, "background": {"field": "Medicine"}})
    anna = enrol(app, "anna", Role.MENTEE, mentee_answers())
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    await chat.command("cora", "match", "release", "anna")
    await chat.command("cora", "match")
    assert placed(app) == {anna: mila}
    await chat.command("cora", "match", "move", "anna", "maarten")
    assert chat.last("cora") == (
        "Anna and Maarten were matched before and that match ended, so I won't pair them again."
    )
    assert placed(app) == {anna: mila}


async def test_people_flagged_for_extra_help_are_marked_for_coordinators_only(
    app, chat: Conversation
):
    await chat.send("cora", "hello")
    enrol(app, "maarten", Role.MENTOR, {**MENTOR, "language": "either"})
    answers = [(k, "yes" if k == "support_check" else v) for k, v in MENTEE_ANSWERS]
    await run_intake(chat, "anna", answers)
    await chat.command("cora", "match")
    assert "(flagged for extra help) — fit" in chat.last("cora")
    await chat.click("cora", "all")
    assert not any("flagged" in m.text for m in chat.messages("maarten"))
    assert not any("flagged" in m.text for m in chat.messages("#group-test-group-maarten"))
