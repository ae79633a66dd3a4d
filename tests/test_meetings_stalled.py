"""Stalled pairs and what coordinators see: escalation in steps, status, pairs, a pair's
timeline, remind, the weekly digest, and a cancelled invite when a pair ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.domain import Escalation, Meeting, MeetingStatus, Pair, PairStatus
from tests.meeting_support import answer, invites, open_meeting, pair_posts, planned_pair


async def days(app, clock, count: int) -> None:
    for _ in range(count):
        clock.advance(timedelta(days=1))
        await app.core.dispatcher.run_due()


def escalations(app) -> list[tuple[int, str]]:
    with app.store.session() as session:
        rows = session.exec(select(Escalation).order_by(Escalation.id)).all()
    return [(e.level, e.rule) for e in rows]


async def test_a_pair_that_never_meets_escalates_step_by_step(make_app, clock) -> None:
    app, chat = make_app(stalled_first_meeting_days=5, stalled_silence_days=0, stalled_step_days=2)
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())  # proposed, and nobody answers
    chat.new("cora"), chat.new("maarten")

    await days(app, clock, 4)
    assert escalations(app) == []
    await days(app, clock, 1)
    assert escalations(app) == [(1, "no_first_meeting")]
    assert pair_posts(chat)[-1].startswith(
        "A friendly nudge from Maatje: no meeting has taken place yet, 5 days after matching."
    )
    assert chat.new("maarten") == [] and chat.new("cora") == []

    await days(app, clock, 1)
    assert len(escalations(app)) == 1  # steps are two days apart
    await days(app, clock, 1)
    assert escalations(app)[-1] == (2, "no_first_meeting")
    assert chat.new("maarten")[-1].startswith("Could you get in touch with Anna?")
    assert not [t for t in chat.new("cora") if "weekly overview" not in t]

    await days(app, clock, 2)
    assert escalations(app)[-1] == (3, "no_first_meeting")
    alert = chat.new("cora")[-1]
    assert "The pair Maarten and Anna in Mentoraat Test seems stalled" in alert
    assert "'pair Anna'" in alert
    await days(app, clock, 4)
    assert len(escalations(app)) == 3  # the coordinators know; no more steps

    # they meet: no longer stalled, and a new stall would start at step 1 again
    await answer(chat, "anna", "other")
    await chat.send("anna", (clock.now() + timedelta(days=2)).strftime("%d-%m-%Y 15:00"))
    await answer(chat, "maarten", "yes")
    meeting = open_meeting(app, pair_id)
    clock.set(meeting.starts_at + timedelta(hours=2))
    await app.core.dispatcher.run_due()
    await answer(chat, "maarten", "yes", "met")
    await chat.command("cora", "pairs", "stalled")
    assert chat.last("cora") == "No stalled pairs in Mentoraat Test."


async def test_silence_is_a_rule_too(make_app, clock) -> None:
    app, chat = make_app(stalled_first_meeting_days=0, stalled_silence_days=3)
    await chat.send("cora", "hello")
    await planned_pair(app, clock.now())
    await days(app, clock, 2)
    assert escalations(app) == []
    await days(app, clock, 1)
    assert escalations(app) == [(1, "silence")]
    assert (
        "my questions about your meetings have had no answer for 3 days" in (pair_posts(chat)[-1])
    )


async def test_a_paused_pair_is_left_alone(make_app, clock) -> None:
    app, chat = make_app(stalled_first_meeting_days=2, stalled_silence_days=0)
    await chat.send("cora", "hello")
    await planned_pair(app, clock.now())
    await chat.command("anna", "pause", "until", "30-11-2026")
    await days(app, clock, 5)
    assert escalations(app) == []


async def test_coordinator_commands(make_app, clock) -> None:
    app, chat = make_app(stalled_first_meeting_days=3, stalled_silence_days=0)
    await chat.send("cora", "hello")
    first = await planned_pair(app, clock.now())
    second = await planned_pair(app, clock.now(), mentor="mila", mentee="bram")
    with app.store.session() as session:  # something private that must never be shown
        pair = session.get(Pair, first)
        pair.guide = {**pair.guide, "mentee": {"hopes": "my secret hopes"}}
        session.add(pair)
    chat.where["anna"] = chat.core.spaces_of(chat.ref("anna"))[0]
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    await days(app, clock, 3)  # Mila and Bram never answered: stalled

    await chat.command("cora", "status")
    status = chat.last("cora")
    assert "Pairs: 2 (1 pair with a meeting planned and 1 stalled pair)" in status
    assert "confirmed for the next four weeks: 1" in status
    assert "Stalled pairs: Mila and Bram: no meeting has taken place yet, 3 days after" in status
    assert chat.last_message("cora").ephemeral is False  # a direct chat: no need

    await chat.command("cora", "pairs")
    listing = chat.last("cora")
    assert "Maarten and Anna: meeting planned; next meeting: Tuesday, October 13, 2026" in listing
    assert "Mila and Bram: stalled" in listing
    await chat.command("cora", "pairs", "stalled")
    assert "Maarten" not in chat.last("cora") and "Mila and Bram" in chat.last("cora")

    await chat.command("cora", "pair", "@anna")
    timeline = chat.last("cora")
    assert timeline.startswith("Maarten (mentor) and Anna (mentee) — meeting planned")
    assert "matched" in timeline and "meeting 1, confirmed" in timeline
    assert "secret" not in timeline
    await chat.command("cora", "pair", "bram")
    assert "escalation step 1 of 3 (no first meeting)" in chat.last("cora")
    await chat.command("cora", "pair", "nobody")
    assert chat.last("cora") == "I couldn't find a pair with 'nobody'."

    await chat.command("cora", "remind", "anna")
    assert chat.last("cora") == "I sent a reminder to 1 pair: Maarten and Anna."
    assert pair_posts(chat)[-1].startswith("A reminder from your coordinator")
    await chat.command("cora", "remind", "stalled")
    assert chat.last("cora") == "I sent a reminder to 1 pair: Mila and Bram."
    assert pair_posts(chat, "mila", "bram")[-1].startswith("A reminder from your coordinator")
    await chat.command("cora", "pair", "anna")
    assert "a reminder from a coordinator" in chat.last("cora")
    assert second

    for command in ("status", "pairs", "pair", "remind"):
        await chat.command("anna", command, "stalled")
        assert chat.last("anna") == (
            f"Sorry, only the programme's coordinators can use '{command}'."
        )
    await chat.command("anna", "help")
    assert "pairs" not in chat.last("anna") and "meeting:" in chat.last("anna")


async def test_the_weekly_digest_and_a_cancelled_invite(make_app, clock) -> None:
    app, chat = make_app(digest_weekday="wednesday")
    await chat.send("cora", "hello")
    pair_id = await planned_pair(app, clock.now())  # Monday 5 October
    await answer(chat, "anna", "yes")
    await answer(chat, "maarten", "yes")
    chat.new("cora")
    clock.set(datetime(2026, 10, 7, 6, 59, tzinfo=UTC))
    await app.core.dispatcher.run_due()
    assert chat.new("cora") == []
    clock.set(datetime(2026, 10, 7, 7, 0, tzinfo=UTC))  # Wednesday 09:00 in Amsterdam
    await app.core.dispatcher.run_due()
    (digest,) = chat.new("cora")
    assert digest.startswith("Your weekly overview of Mentoraat Test:")
    assert "Pairs: 1 (1 pair with a meeting planned)" in digest

    with app.store.session() as session:
        pair = session.get(Pair, pair_id)
        pair.status = PairStatus.ENDED
        session.add(pair)
    await days(app, clock, 1)
    cancel = invites(chat, "anna")[-1]
    assert cancel["METHOD"] == "CANCEL"
    (event,) = cancel.walk("VEVENT")
    assert event["SEQUENCE"] == 1 and event["STATUS"] == "CANCELLED"
    assert "is cancelled" in chat.last("anna")
    with app.store.session() as session:
        assert session.exec(select(Meeting)).one().status == MeetingStatus.CANCELLED


def test_the_states_of_a_programmes_pairs_read_together_are_each_pairs_own(app, clock) -> None:
    """`status` and the digest read all pairs' meetings in one query (`states_of`); each pair's
    state is the one `state_of` finds for it alone, whatever state it is in."""
    from bot.domain import Programme
    from bot.services import meetings as store
    from bot.services import pair_states
    from bot.services import pairs as pair_store
    from tests.meeting_support import plant_pairs

    now = clock.now()
    past, future = now - timedelta(days=2), now + timedelta(days=2)
    plans = {  # mentee → (days since matching, guide complete, meetings as (status, start))
        "starting": (1, False, []),
        "proposed": (1, True, [("rescheduled", past), ("proposed", future)]),
        "planned": (1, True, [("held", past), ("confirmed", future)]),
        "waiting": (1, True, [("confirmed", past)]),
        "finished": (60, True, [("held", past - timedelta(days=d)) for d in range(4)]),
        "unplanned": (1, True, [("cancelled", future)]),
        "stalled": (40, True, [("missed", past), ("missed", past + timedelta(hours=1))]),
    }
    with app.store.session() as session:
        plant_pairs(session, now, plans)
        session.commit()
    with app.store.session() as session:
        programme = session.exec(select(Programme)).one()
        pairs = pair_store.active_pairs(session, programme.id)
        one_by_one = {pair.id: pair_states.state_of(session, pair, now) for pair in pairs}
        meetings = store.meetings_of_pairs(session, [pair.id for pair in pairs])
        together = pair_states.states_of(programme, pairs, meetings, now)
    assert together == one_by_one
    assert sorted(together.values()) == sorted(pair_states.PairState(name) for name in plans)
