"""What people were told is true: answers given "only for the coordinators" reach the
coordinators (`pair NAME`, the export), and `privacy` → export holds everything stored about the
person: their pair, their part of the guide, goals, check-ins, fit-check and keep-in-touch
answers."""

from __future__ import annotations

import json
from datetime import date

from sqlmodel import select

from bot.domain import CheckIn, Goal
from bot.testing import Conversation
from tests.test_closing import _keep_in_touch_token, _programme_with_pairs
from tests.test_export import rows


async def _answers_given(app, chat: Conversation, clock) -> dict[str, int]:
    """Anna says the match doesn't work and, after closing, that she'd like to keep in touch;
    Maarten answers that it works and they keep in touch."""
    ids = await _programme_with_pairs(app, chat, clock)
    pair = ids["pair1"]
    await chat.click("anna", "not_working", token=f"c:fit:{pair}")  # the fit check's buttons
    await chat.click("maarten", "good", token=f"c:fit:{pair}")
    assert "Only the coordinators hear about it" in chat.new("anna")[-1]
    await chat.command("cora", "close")
    await chat.click("cora", "yes")
    await chat.click("anna", "would_like", token=_keep_in_touch_token(chat, "anna"))
    await chat.click("maarten", "yes", token=_keep_in_touch_token(chat, "maarten"))
    assert any("only the coordinators see it" in t for t in chat.new("anna"))
    return ids


async def test_coordinators_see_the_answers_given_for_their_eyes_only(app, chat, clock):
    await _answers_given(app, chat, clock)
    await chat.command("cora", "pair", "Anna")
    timeline = chat.last("cora")
    assert "Fit check (private answers): mentor: It works well; mentee: It doesn't work" in (
        timeline
    )
    assert (
        "Keeping in touch (private answers): mentor: Yes, we keep in touch; mentee: No, but "
        "I'd like to" in timeline
    )
    await chat.command("cora", "pair", "Bram")  # not asked the fit check: nothing to show
    assert "Fit check" not in chat.last("cora")

    await chat.command("cora", "export")
    files = {f.filename: f.content for f in chat.last_message("cora").files}
    first, second = rows(files["test-pairs.csv"])
    assert (first["mentee"], first["fit_check_mentor"], first["fit_check_mentee"]) == (
        "Anna",
        "good",
        "not_working",
    )
    assert (first["keep_in_touch_mentor"], first["keep_in_touch_mentee"]) == ("yes", "would_like")
    assert (second["mentee"], second["fit_check_mentee"], second["keep_in_touch_mentee"]) == (
        "Bram",
        "",
        "",
    )


def exported(chat: Conversation, who: str) -> dict:
    """The JSON file of `who`'s latest `privacy export` (the evaluation's question follows it)."""
    files = [f for m in chat.messages(who) for f in m.files if f.filename.endswith(".json")]
    return json.loads(files[-1].content)


async def test_a_privacy_export_holds_everything_stored_about_the_person(app, chat, clock):
    ids = await _answers_given(app, chat, clock)
    now = clock.now()
    with app.store.session() as session:
        session.add(
            Goal(
                pair_id=ids["pair1"],
                mentee_id=ids["anna"],
                what="Pass statistics",
                measure="a 6 or more",
                confidence=3,
                why="it blocks my second year",
                due=date(2027, 1, 31),
                mentor_comment="Plan two sessions a week",
                created_at=now,
                updated_at=now,
            )
        )
        session.add(
            CheckIn(
                pair_id=ids["pair1"],
                at=now,
                went_well="the first exam",
                was_hard="planning the week",
                progress={"1": 3},
            )
        )
    await chat.command("anna", "privacy", "export")
    data = exported(chat, "anna")
    (pair,) = data["pairs"]
    assert (pair["role"], pair["fit_check"], pair["keep_in_touch"]) == (
        "mentee",
        "not_working",
        "would_like",
    )
    assert pair["kennismakingsgids"] == {"cadence": "weekly"}  # her part, not Maarten's
    (goal,) = data["goals"]
    assert (goal["what"], goal["why"], goal["mentor_comment"]) == (
        "Pass statistics",
        "it blocks my second year",
        "Plan two sessions a week",
    )
    (check_in,) = data["check_ins"]
    assert (check_in["went_well"], check_in["was_hard"]) == ("the first exam", "planning the week")
    assert [i["poll_id"] for i in data["poll_invites"]] == [1]  # the final evaluation
    assert data["person"]["display_name"] == "Anna"

    await chat.command("maarten", "privacy", "export")
    mentor = exported(chat, "maarten")
    assert [p["keep_in_touch"] for p in mentor["pairs"]] == ["yes"]
    assert mentor["check_ins"] == []  # the check-in is Anna's: Maarten got a summary of it
    with app.store.session() as session:
        assert session.exec(select(Goal)).one().mentee_id == ids["anna"]
