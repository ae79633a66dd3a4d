"""A mentee's intake over Discord's protocol: DMs, buttons and modals, against the real core
(SQLite and PostgreSQL), with discord.py talking to the fake gateway and REST API."""

from __future__ import annotations

from sqlmodel import select

from adapters.discord.parse import PLATFORM
from bot.domain import FlowRun, ProcessedEvent
from bot.events import FormSubmitted, PersonRef
from bot.replies import FieldKind, Outgoing, OutgoingField, OutgoingForm
from tests.discord.discord_fake import APP_ID, GUILD_ID
from tests.discord.support import (
    ANNA,
    button,
    component,
    custom_ids,
    dm_channel,
    interaction_create,
    message_create,
    modal_submit,
)

DEFERRED_UPDATE, MODAL, MESSAGE = 6, 9, 4
DM = dm_channel(ANNA)


async def start_intake(h) -> str:
    """Anna says hello, consents and picks mentee; returns the studies form's custom_id."""
    await h.send("MESSAGE_CREATE", message_create(ANNA, "hello"))
    consent = h.last_post(DM)
    assert "May I store" in consent["content"]
    await h.send("INTERACTION_CREATE", component(ANNA, button(consent, "Yes")))
    role = h.last_post(DM)
    await h.send("INTERACTION_CREATE", component(ANNA, button(role, "As a mentee")))
    studies = h.last_post(DM)
    [open_form] = custom_ids(studies)
    assert open_form.startswith("mj:f:f:") and open_form.endswith(":studies")
    return open_form


async def test_intake_through_dm_buttons_and_modal(start):
    h = await start()
    open_form = await start_intake(h)

    callback = await h.interact(component(ANNA, open_form))
    assert callback.query == {"with_response": "1"}
    assert callback.body["type"] == MODAL
    modal = callback.body["data"]
    assert modal["title"] == "Your studies"
    inputs = [row["components"][0] for row in modal["components"]]
    assert [(i["custom_id"], i["label"]) for i in inputs] == [
        ("programme", "Study programme"),
        ("year", "Year of study (1-10)"),
    ]

    submit = modal_submit(ANNA, modal["custom_id"], {"programme": "Law", "year": "1"})
    event, outcome = await h.send("INTERACTION_CREATE", submit)
    assert isinstance(event, FormSubmitted) and not outcome.form_errors
    assert event.values == {"programme": "Law", "year": "1"}
    assert "hope" in h.last_post(DM)["content"]
    await h.send("MESSAGE_CREATE", message_create(ANNA, "Plan my first year better"))

    with h.core.store.session() as session:
        answers = session.exec(select(FlowRun)).one().answers
    assert answers["studies"] == {"programme": "Law", "year": 1}
    assert answers["hopes"] == "Plan my first year better"
    assert all(m["allowed_mentions"] == {"parse": []} for m in h.fake.posted())
    callbacks = h.fake.find("POST", r"/interactions/\d+/[^/]+/callback")
    assert [c.body["type"] for c in callbacks] == [DEFERRED_UPDATE, DEFERRED_UPDATE, MODAL, 6]


async def test_everything_is_processed_once(start):
    h = await start()
    hello = message_create(ANNA, "hello")
    await h.send("MESSAGE_CREATE", hello)
    _, outcome = await h.send("MESSAGE_CREATE", hello)  # the gateway delivers it again
    assert outcome.duplicate
    assert len(h.fake.posted(DM)) == 1
    with h.core.store.session() as session:
        ids = [e.event_id for e in session.exec(select(ProcessedEvent))]
    assert ids == [hello["id"]]


async def test_form_errors_answer_privately_and_reopen_filled_in(start):
    h = await start()
    open_form = await start_intake(h)
    modal = (await h.interact(component(ANNA, open_form))).body["data"]

    since = len(h.fake.calls)
    submit = modal_submit(ANNA, modal["custom_id"], {"programme": "Law", "year": "99"})
    _, outcome = await h.send("INTERACTION_CREATE", submit)
    assert outcome.form_errors and "year" in outcome.form_errors
    followup = await h.fake.wait_for("POST", rf"/webhooks/{APP_ID}/[^/]+", since=since)
    assert followup.body["flags"] & 64  # ephemeral
    assert "**Year of study (1-10)**" in followup.body["content"]
    [retry] = [c["custom_id"] for r in followup.body["components"] for c in r["components"]]

    reopened = (await h.interact(component(ANNA, retry))).body["data"]
    values = {
        row["components"][0]["custom_id"]: row["components"][0].get("value")
        for row in reopened["components"]
    }
    assert values == {"programme": "Law", "year": "99"}
    fixed = modal_submit(ANNA, reopened["custom_id"], {"programme": "Law", "year": "2"})
    _, outcome = await h.send("INTERACTION_CREATE", fixed)
    assert not outcome.form_errors
    assert "hope" in h.last_post(DM)["content"]


async def test_a_seven_field_form_takes_two_modal_pages_and_one_submit(start):
    h = await start()
    open_form = await start_intake(h)
    form_id = open_form.removeprefix("mj:f:")
    extra = [OutgoingField(f"extra{i}", f"Extra {i}", FieldKind.TEXT, False, 100) for i in range(5)]
    long_form = OutgoingForm(
        form_id,
        "Your studies",
        "Send",
        "Fill in",
        (
            OutgoingField("programme", "Study programme", FieldKind.TEXT, True, 150),
            OutgoingField("year", "Year", FieldKind.NUMBER, True, 2),
            *extra,
        ),
    )
    ref = PersonRef(PLATFORM, APP_ID, ANNA)
    await h.adapter.send(ref, None, Outgoing("Seven questions", "en", "UTC", form=long_form), "k7")

    page1 = (await h.interact(component(ANNA, open_form))).body["data"]
    assert page1["title"] == "Your studies (1/2)" and len(page1["components"]) == 5
    answers = {"programme": "Law", "year": "3", "extra0": "a", "extra1": "b", "extra2": "c"}
    callback = await h.interact(modal_submit(ANNA, page1["custom_id"], answers))
    assert callback.body["type"] == MESSAGE and callback.body["data"]["flags"] & 64
    [next_page] = [
        c["custom_id"] for r in callback.body["data"]["components"] for c in r["components"]
    ]
    assert len(h.handled) == 3  # hello and two clicks: page 1 alone does not reach the core

    page2 = (await h.interact(component(ANNA, next_page))).body["data"]
    assert page2["title"] == "Your studies (2/2)"
    assert [r["components"][0]["custom_id"] for r in page2["components"]] == ["extra3", "extra4"]
    event, outcome = await h.send(
        "INTERACTION_CREATE", modal_submit(ANNA, page2["custom_id"], {"extra3": "d", "extra4": ""})
    )
    assert isinstance(event, FormSubmitted) and event.form_id == form_id
    assert event.values == {**answers, "extra3": "d", "extra4": ""}
    assert not outcome.form_errors
    assert "hope" in h.last_post(DM)["content"]


async def test_a_button_sent_before_a_restart_works_after_it(start):
    first = await start()
    await first.send("MESSAGE_CREATE", message_create(ANNA, "hello"))
    consent = first.last_post(DM)

    second = await start()  # a new adapter and a new core on the same database
    await second.send("INTERACTION_CREATE", component(ANNA, button(consent, "Yes")))
    assert "As a mentee" in [
        c["label"] for r in second.last_post(DM)["components"] for c in r["components"]
    ]


async def test_a_form_button_after_a_restart_asks_the_question_again(start):
    first = await start()
    open_form = await start_intake(first)
    second = await start()  # the form's definition was only in the first adapter's memory
    before = len(second.fake.posted(DM))
    assert (await second.interact(component(ANNA, open_form))).body["type"] == DEFERRED_UPDATE
    await second.adapter.idle()
    await second.core.dispatcher.run_due()
    again = second.fake.posted(DM)[before:]
    assert open_form in custom_ids(again[-1])
    modal = (await second.interact(component(ANNA, open_form))).body
    assert modal["type"] == MODAL


async def test_the_bot_connects_again_when_discord_py_drops_the_gateway(start):
    """An event discord.py cannot parse ends its gateway task (not a network error, so it does
    not reconnect by itself); the adapter connects again and keeps answering."""
    h = await start()
    assert len(h.fake.identified) == 1
    broken = interaction_create(
        3,
        ANNA,
        {"custom_id": "x", "component_type": 2},
        guild=True,
        channel_id="123450000000000999",
    )
    broken["channel"] = {"id": "123450000000000999", "type": 0, "guild_id": GUILD_ID}
    await h.fake.dispatch("INTERACTION_CREATE", broken)  # no "position": discord.py raises
    await h.fake.identified_times(2)
    event, _ = await h.send("MESSAGE_CREATE", message_create(ANNA, "hello"))
    assert event.person.user_id == ANNA
