"""Re-matching without a command per pair: ended pairs are remembered, pairs that asked to end
(the fit check, a participant, a stalled pair) are gathered in the coordinators' review and one
approval ends and re-matches them all; the fit check comes after the first meeting."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.domain import Pair, PairStatus, Role
from bot.testing import Conversation
from tests.meeting_support import answer, open_meeting, pair_posts, planned_pair
from tests.test_matching_flow import MENTOR, enrol, fill_guide, mentee_answers
from tests.test_meetings_stalled import days


def pairs(app) -> list[Pair]:
    with app.store.session() as session:
        return list(session.exec(select(Pair).order_by(Pair.id)).all())


def active_mentor(app, mentee: int) -> int | None:
    found = [p.mentor_id for p in pairs(app) if p.mentee_id == mentee and p.status == "active"]
    return found[0] if found else None


async def test_an_ended_pair_is_never_proposed_again(app, chat: Conversation):
    await chat.send("cora", "hello")
    maarten = enrol(app, "maarten", Role.MENTOR, MENTOR)
    anna = enrol(app, "anna", Role.MENTEE, mentee_answers())
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    await chat.command("cora", "match", "release", "anna")
    assert "will be in the next proposal" in chat.last("cora")

    await chat.command("cora", "match")
    text = chat.last("cora")
    assert "Anna — fit" not in text
    assert "Anna: the only mentors with a common language were matched with them before" in text

    mila = enrol(app, "mila", Role.MENTOR, MENTOR)  # another mentor: Anna goes to her
    await chat.command("cora", "match")
    assert "Group of Mila (already 0 in the group):\n• Anna — fit" in chat.last("cora")
    await chat.click("cora", "all")
    assert active_mentor(app, anna) == mila
    assert [(p.mentor_id, p.status) for p in pairs(app)] == [(maarten, "ended"), (mila, "active")]


async def test_the_fit_check_comes_after_the_first_meeting_was_held(app, chat, clock):
    await chat.send("cora", "hello")
    enrol(app, "maarten", Role.MENTOR, MENTOR)
    anna = enrol(app, "anna", Role.MENTEE, mentee_answers())
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    for who in ("maarten", "anna"):
        chat.enter(who, "pair-test-maarten-anna")
        await fill_guide(chat, who, "1", "2")
    chat.new("anna"), chat.new("maarten")

    clock.advance(timedelta(days=7, hours=12))  # the meeting is not held yet: no fit check
    await app.core.dispatcher.run_due()
    assert not any("how is the match" in t for t in chat.new("anna"))

    await answer(chat, "anna", "yes", "meet")
    await answer(chat, "maarten", "yes", "meet")
    meeting = open_meeting(app, pairs(app)[0].id)
    clock.set(meeting.starts_at + timedelta(hours=2, minutes=1))
    await app.core.dispatcher.run_due()
    await answer(chat, "maarten", "yes", "met")
    clock.set(meeting.starts_at + timedelta(days=7))
    await app.core.dispatcher.run_due()
    assert any("how is the match with Maarten going" in t for t in chat.new("anna"))
    assert any("how is the match with Anna going" in t for t in chat.new("maarten"))

    await answer(chat, "anna", "not_working", "fit")
    assert "Only the coordinators hear about it" in chat.last("anna")
    alert = chat.new("cora")[-1]
    assert "doesn't work" in alert and "matching review, with a new proposal for Anna" in alert
    assert "'match'" not in alert  # the weekly overview asks for the review: one for all pairs
    assert not any("doesn't work" in t for t in chat.new("maarten"))
    clock.advance(timedelta(days=7))
    await app.core.dispatcher.run_due()
    overview = [t for t in chat.new("cora") if "weekly overview" in t]
    assert overview and "Pairs that asked to end: 1 (type 'match' to review)" in overview[-1]
    await answer(chat, "anna", "good", "fit")  # a more hopeful answer withdraws it
    await chat.command("cora", "match")
    assert "asked to end" not in chat.last("cora")
    assert active_mentor(app, anna)


async def test_three_pairs_that_asked_to_end_are_rematched_with_one_approval(
    app, chat: Conversation
):
    await chat.send("cora", "hello")
    mentors = [enrol(app, name, Role.MENTOR, MENTOR) for name in ("maarten", "mila", "mats")]
    mentees = {
        name: enrol(app, name, Role.MENTEE, mentee_answers())
        for name in ("anna", "bram", "chloe", "daan")
    }
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    before = {m: active_mentor(app, m) for m in mentees.values()}
    assert all(before.values())
    chat.new("cora")

    # Anna answers the fit check, Bram asks himself, and Chloé's mentor asks
    anna_pair = next(p for p in pairs(app) if p.mentee_id == mentees["anna"])
    await chat.click("anna", "not_working", token=f"c:fit:{anna_pair.id}")
    await chat.command("bram", "end", "pair")
    assert "Why would you like to end your match" in chat.last("bram")
    await chat.send("bram", "We never manage to find a time")
    await chat.send("bram", "yes")
    assert "passed it on to the coordinators" in chat.last("bram")
    names = dict(zip(mentors, ("maarten", "mila", "mats"), strict=True))
    chloe_mentor = names[before[mentees["chloe"]]]
    await chat.command(chloe_mentor, "end", "pair")
    if "Which match" in chat.last(chloe_mentor):  # a mentor with two mentees chooses
        chloe_pair = next(p for p in pairs(app) if p.mentee_id == mentees["chloe"])
        await chat.click(chloe_mentor, str(chloe_pair.id))
    assert "Why would you like to end your match with Chloe?" in chat.last(chloe_mentor)
    await chat.send(chloe_mentor, "Chloé needs someone who knows her field")
    await chat.send(chloe_mentor, "yes")
    told = chat.new("cora")
    assert any("Bram asks to end" in t and "We never manage to find a time" in t for t in told)

    await chat.command("cora", "match")
    review = chat.last("cora")
    assert review.startswith("Proposal for Mentoraat Test:\n\n3 pairs asked to end; new proposals")
    assert "Anna answered the fit check with 'it doesn't work'" in review
    assert "Bram asked to end it: We never manage to find a time" in review
    await chat.click("cora", "all")  # one review and one approval, whatever the number of pairs
    assert any("Ended: 3 pairs that asked to end" in t for t in chat.new("cora"))

    for name in ("anna", "bram", "chloe"):
        mentee = mentees[name]
        assert active_mentor(app, mentee) not in (None, before[mentee]), name
        assert any("has ended your match" in t for t in chat.new(name)), name
    assert active_mentor(app, mentees["daan"]) == before[mentees["daan"]]
    bram_mentor = names[before[mentees["bram"]]]
    assert not any("never manage" in m.text for m in chat.messages(bram_mentor))
    assert not any("knows her field" in m.text for m in chat.messages("chloe"))


async def test_a_participant_asks_privately_and_a_coordinator_can_keep_the_pair(
    app, chat: Conversation
):
    await chat.send("cora", "hello")
    enrol(app, "maarten", Role.MENTOR, MENTOR)
    anna = enrol(app, "anna", Role.MENTEE, mentee_answers())
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    await chat.send("anna", "hi")  # Anna has written to Maatje directly before

    chat.enter("anna", "pair-test-maarten-anna")  # in the pair space: moved to the direct chat
    await chat.command("anna", "stoppen")
    texts = chat.new("anna")
    assert texts[-1] == "I've sent you a question about it in our direct chat."
    assert any("Only the coordinators read your answer" in t for t in texts)
    assert not any("Why would you like" in t for t in pair_posts(chat))
    chat.where.pop("anna")
    await chat.send("anna", "He is never there")
    await chat.send("anna", "no")
    assert chat.last("anna") == "Okay, nothing changes."
    await chat.command("anna", "end", "pair", "He is never there")
    assert "Shall I ask the coordinators" in chat.last("anna")  # the reason was given
    await chat.send("anna", "yes")
    await chat.command("cora", "match")
    assert "1 pair asked to end" in chat.last("cora")
    assert not any("never there" in m.text for m in chat.messages("maarten"))
    await chat.command("anna", "privacy", "export")  # her request is hers to see
    exported = json.loads(chat.last_message("anna").files[0].content)
    assert [r["reason"] for r in exported["end_requests"]] == ["He is never there"]

    await chat.command("cora", "match", "keep", "anna")
    assert "Maarten and Anna stay a pair." in chat.new("cora")
    assert "keep it for now" in chat.last("anna")
    assert active_mentor(app, anna) is not None
    await chat.command("cora", "match")
    assert "asked to end" not in chat.last("cora")
    await chat.command("maarten", "end", "pair")  # the mentor's only pair: straight to why
    assert "Why would you like to end your match with Anna?" in chat.last("maarten")


async def test_a_pair_stalled_past_the_last_step_goes_into_the_review(make_app, clock):
    app, chat = make_app(stalled_first_meeting_days=2, stalled_silence_days=0, stalled_step_days=1)
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())
    await days(app, clock, 4)  # steps 1, 2 and 3
    assert any("goes into the matching review" in t for t in chat.new("cora"))
    await chat.command("cora", "match")
    assert "asked to end" not in chat.last("cora")
    await days(app, clock, 1)
    await chat.command("cora", "match")
    assert "Maarten and Anna: still stalled after the last escalation step" in chat.last("cora")
    await chat.click("cora", "all")
    with app.store.session() as session:
        assert session.get(Pair, pair_id).status == PairStatus.ENDED
    assert "ended your match with Maarten" in chat.new("anna")[-1]
    await chat.command("cora", "pair", "anna")
    assert "put forward for ending (stalled after the last step)" in chat.last("cora")


async def test_mentors_whose_pairs_all_stalled_get_no_new_mentees(make_app, clock):
    """Two mentors go silent: their pairs stall and go into the review. Their mentees must not
    be handed to one another (both stall again); they wait for a mentor who answers, and the
    coordinators read why."""
    app, chat = make_app(
        group_size=1, stalled_first_meeting_days=2, stalled_silence_days=0, stalled_step_days=1
    )
    await chat.send("cora", "hello")
    silent = {name: enrol(app, name, Role.MENTOR, MENTOR) for name in ("maarten", "mila")}
    mentees = {name: enrol(app, name, Role.MENTEE, mentee_answers()) for name in ("anna", "bram")}
    await chat.command("cora", "match")
    await chat.click("cora", "all")
    before = {name: active_mentor(app, mentee) for name, mentee in mentees.items()}
    assert set(before.values()) == set(silent.values())
    names = {person: name for name, person in silent.items()}
    for mentee, mentor in before.items():  # the guide is done; then nobody answers any more
        for who in (names[mentor], mentee):
            chat.enter(who, f"pair-test-{names[mentor]}-{mentee}")
            await fill_guide(chat, who, "1", "2")

    await days(app, clock, 5)  # no first meeting: steps 1, 2 and 3, then the review
    await chat.command("cora", "match")
    review = chat.last("cora")
    assert "2 pairs asked to end" in review, review
    assert "No new mentees for Maarten, Mila: every pair of theirs stalled." in review
    assert "Group of" not in review
    await chat.click("cora", "all")
    assert all(active_mentor(app, m) is None for m in mentees.values())

    await chat.command("cora", "match")  # their pairs have ended: still held back
    assert "No new mentees for Maarten, Mila" in chat.last("cora")
    answering = {enrol(app, name, Role.MENTOR, MENTOR) for name in ("noor", "nils")}
    await chat.command("cora", "match")
    assert "Group of Noor (already 0 in the group)" in chat.last("cora")
    await chat.click("cora", "all")
    assert {active_mentor(app, m) for m in mentees.values()} == answering
