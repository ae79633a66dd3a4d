"""Stored gateway payloads into neutral events (pure; no network)."""

from __future__ import annotations

import pytest

from adapters.discord import ids, parse
from bot.events import Choice, Command, Message, PersonRef, SpaceKind

WS = "700000000000000001"  # the application id: one workspace for DMs and guilds alike
BOT = "700000000000000002"
ANNA = PersonRef("discord", WS, "100000000000000101")


def test_a_dm_is_a_message_in_a_direct_space(payload):
    event = parse.message(payload("message_dm.json"), WS, BOT)
    assert isinstance(event, Message)
    assert event.text == "Hoi Maatje!" and event.person == ANNA
    assert event.space.kind is SpaceKind.DIRECT
    assert event.space.channel_id == "1294700000000000001"
    assert event.event_id == "1294758203123712000"
    assert event.display_name == "Anna de Vries"


def test_a_mention_in_a_guild_channel_loses_the_mention(payload):
    event = parse.message(payload("message_guild_mention.json"), WS, BOT, SpaceKind.PAIR)
    assert isinstance(event, Message)
    assert event.text == "wanneer is onze volgende afspraak?"
    assert event.person == ANNA  # the same person as in the DM
    assert event.space.kind is SpaceKind.PAIR
    assert event.display_name == "Anna (mentee)"


def test_guild_talk_not_addressed_to_the_bot_is_ignored(payload):
    data = payload("message_guild_mention.json")
    data["content"], data["mentions"] = "we zien elkaar dinsdag", []
    assert parse.message(data, WS, BOT) is None


@pytest.mark.parametrize("name", ["message_own.json", "message_thread_created.json"])
def test_own_and_system_messages_are_ignored(payload, name):
    assert parse.message(payload(name), WS, BOT) is None


def test_other_bots_and_webhooks_are_ignored(payload):
    data = payload("message_dm.json")
    data["author"]["bot"] = True
    assert parse.message(data, WS, BOT) is None
    data = payload("message_dm.json")
    data["webhook_id"] = "123"
    assert parse.message(data, WS, BOT) is None


def test_a_slash_command_with_words(payload):
    event = parse.interaction(payload("interaction_slash_language_dm.json"), WS)
    assert isinstance(event, Command)
    assert (event.name, event.args) == ("language", ("nl",))
    assert event.event_id == "1294758600000000000" and event.locale == "nl"
    assert event.space.kind is SpaceKind.DIRECT and event.person == ANNA


def test_a_slash_command_in_a_guild(payload):
    event = parse.interaction(payload("interaction_slash_status_guild.json"), WS, SpaceKind.GROUP)
    assert isinstance(event, Command)
    assert (event.name, event.args) == ("status", ())
    assert event.person == PersonRef("discord", WS, "900")
    assert event.space.kind is SpaceKind.GROUP and event.locale == "en"
    assert event.display_name == "Cora (coördinator)"


def test_a_button(payload):
    event = parse.interaction(payload("interaction_button.json"), WS)
    assert isinstance(event, Choice)
    assert (event.token, event.values) == ("f:12:consent", ("yes",))
    assert event.event_id == "1294758800000000000"


def test_a_multiple_select(payload):
    event = parse.interaction(payload("interaction_select_multiple.json"), WS)
    assert isinstance(event, Choice)
    assert (event.token, event.values) == ("f:12:topics", ("planning", "finding_way"))


def test_a_modal_page(payload):
    sent = parse.interaction(payload("interaction_modal_submit.json"), WS)
    assert isinstance(sent, parse.PageSubmitted)
    assert (sent.form_id, sent.page, sent.pages) == ("f:12:studies", 1, 1)
    assert sent.values == {"programme": "Rechten", "year": "1"}


def test_a_modal_page_with_labelled_inputs(payload):
    sent = parse.interaction(payload("interaction_modal_submit_labels.json"), WS, SpaceKind.PAIR)
    assert isinstance(sent, parse.PageSubmitted)
    assert (sent.page, sent.pages) == (2, 2)
    assert sent.values == {"extra3": "d", "extra4": ""}
    assert sent.origin.space.kind is SpaceKind.PAIR


def test_unknown_components_are_not_ours(payload):
    data = payload("interaction_button.json")
    data["data"]["custom_id"] = "someone-elses-button"
    assert parse.interaction(data, WS) is None


@pytest.mark.parametrize(
    ("custom_id", "parsed"),
    [
        (ids.button("f:3:role", "mentee"), ids.Pick("f:3:role", "mentee")),
        (ids.button("c:privacy:erase", "a|b"), ids.Pick("c:privacy:erase", "a|b")),
        (ids.select("f:3:topics"), ids.Pick("f:3:topics")),
        (ids.select("f:3:topics", 2), ids.Pick("f:3:topics")),
        (ids.open_form("f:3:studies"), ids.OpenForm("f:3:studies")),
        (ids.next_page("f:3:studies", 2), ids.OpenForm("f:3:studies", 2)),
        (ids.retry("f:3:studies"), ids.OpenForm("f:3:studies", retry=True)),
        (ids.modal("f:3:studies", 2, 3), ids.ModalPage("f:3:studies", 2, 3)),
        ("mj:m:4/3:f:3:x", None),
        ("mj:c:no-bar", None),
        ("mj:", None),
        ("other", None),
    ],
)
def test_custom_ids_round_trip(custom_id, parsed):
    assert ids.parse(custom_id) == parsed
