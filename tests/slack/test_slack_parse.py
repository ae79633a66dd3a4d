"""Stored Slack payloads into neutral events."""

from urllib.parse import parse_qsl, urlencode

from adapters.slack import ids, parse
from adapters.slack.render import render_messages
from bot.events import Choice, Command, FormSubmitted, Message, PersonRef, SpaceKind, SpaceRef
from bot.replies import FieldKind, Outgoing, OutgoingField, OutgoingForm, OutgoingOption

ANNA = PersonRef("slack", "T0TEAM", "U0ANNA")


def test_direct_message(payload) -> None:
    event = parse.message_from_event(payload("event_message_im.json"), "UBOT")
    assert event == Message(
        person=ANNA,
        space=SpaceRef("slack", "T0TEAM", "D0ANNA", SpaceKind.DIRECT),
        event_id="Ev0MESSAGE1",
        text="Hoi <Maatje> & @U0BRAM see example.org",
    )


def test_mention_in_a_channel_loses_the_mention(payload) -> None:
    event = parse.message_from_event(payload("event_app_mention.json"), "UBOT")
    assert isinstance(event, Message)
    assert event.text == "when is our next meeting?"
    assert event.space == SpaceRef("slack", "T0TEAM", "G0PAIR", SpaceKind.GROUP)
    assert event.event_id == "Ev0MENTION1"


def test_edits_bots_and_own_messages_are_ignored(payload) -> None:
    for name in ("event_message_changed.json", "event_bot_message.json", "event_own_message.json"):
        assert parse.message_from_event(payload(name), "UBOT") is None, name


def test_channel_messages_other_than_mentions_are_ignored(payload) -> None:
    body = payload("event_message_im.json")
    body["event"]["channel_type"] = "channel"
    assert parse.message_from_event(body, "UBOT") is None


def test_slash_command(payload) -> None:
    event = parse.command_from_body(payload("command_pair.json"))
    assert event == Command(
        person=PersonRef("slack", "T0TEAM", "U0CORA"),
        space=SpaceRef("slack", "T0TEAM", "C0GENERAL", SpaceKind.GROUP),
        event_id="1700000600.1.trigger-cmd",
        name="pair",
        args=("@U0ANNA", "now"),
    )


def test_bare_slash_command_asks_for_help(payload) -> None:
    body = payload("command_pair.json") | {"text": "  ", "channel_id": "D0CORA"}
    event = parse.command_from_body(body)
    assert (event.name, event.args, event.space.kind) == ("help", (), SpaceKind.DIRECT)


def test_form_encoded_command_parses_the_same(payload) -> None:
    body = payload("command_pair.json")
    assert parse.command_from_body(dict(parse_qsl(urlencode(body)))) == parse.command_from_body(
        body
    )


def test_button_click(payload) -> None:
    event = parse.choice_from_action(payload("block_actions_button.json"))
    assert event == Choice(
        person=ANNA,
        space=SpaceRef("slack", "T0TEAM", "D0ANNA", SpaceKind.DIRECT),
        event_id="1700000701.1.trigger-button",
        token="f:12:role",
        values=("mentee",),
    )
    assert parse.chosen_labels(payload("block_actions_button.json")) == ["Mentee"]


def test_select(payload) -> None:
    event = parse.choice_from_action(payload("block_actions_select.json"))
    assert isinstance(event, Choice)
    assert (event.token, event.values) == ("f:12:faculty", ("law",))


def test_multiple_choice_is_read_from_state_on_submit(payload) -> None:
    body = payload("block_actions_multi_submit.json")
    event = parse.choice_from_action(body)
    assert isinstance(event, Choice)
    assert (event.token, event.values) == ("f:12:topics", ("planning", "career"))
    assert parse.chosen_labels(body) == ["Study planning", "Career"]


def test_ticking_a_checkbox_is_not_yet_a_choice(payload) -> None:
    assert parse.choice_from_action(payload("block_actions_checkbox_toggle.json")) is None
    assert parse.form_request(payload("block_actions_checkbox_toggle.json")) is None


def test_rendered_buttons_round_trip_to_the_same_choice(payload) -> None:
    """What render puts in the blocks is exactly what parse needs to rebuild the Choice."""
    outgoing = Outgoing(
        "Pick", "en", "UTC", tuple(OutgoingOption(f"v{i}", f"L{i}") for i in range(3)), "f:99:step"
    )
    actions = render_messages(outgoing)[0]["blocks"][-1]
    button = actions["elements"][2]
    body = payload("block_actions_button.json")
    body["actions"] = [{**button, "block_id": actions["block_id"], "action_ts": "1.2"}]
    event = parse.choice_from_action(body)
    assert isinstance(event, Choice)
    assert (event.token, event.values) == ("f:99:step", ("v2",))


def test_form_button_carries_the_form(payload) -> None:
    form = OutgoingForm(
        "goals:7",
        "Goals",
        "Send",
        "Fill in",
        (OutgoingField("goal", "Your goal", FieldKind.LONG_TEXT, True, 500),),
    )
    button = render_messages(Outgoing("Tell me", "en", "UTC", form=form))[0]["blocks"][-1]
    body = payload("block_actions_button.json")
    body["actions"] = [{**button["elements"][0], "block_id": button["block_id"]}]
    request = parse.form_request(body)
    assert request is not None
    assert request.form_id == "goals:7"
    assert request.form is not None and request.form.fields == form.fields
    assert request.trigger_id == "1700000701.1.trigger-button"
    assert parse.choice_from_action(body) is None


def test_a_form_too_big_for_a_button_carries_only_its_id() -> None:
    fields = tuple(
        OutgoingField(f"f{i}", "A long label " * 10, FieldKind.TEXT, True, 100) for i in range(20)
    )
    value = ids.encode_form(OutgoingForm("big:1", "Big", "Send", "Open", fields))
    assert len(value) <= ids.BUTTON_VALUE_LIMIT
    assert ids.decode_form(value) == ("big:1", None)


def test_view_submission(payload) -> None:
    event = parse.form_from_view(payload("view_submission.json"))
    assert event == FormSubmitted(
        person=ANNA,
        space=SpaceRef("slack", "T0TEAM", "D0ANNA", SpaceKind.DIRECT),
        event_id="1700001001.1.trigger-view",
        form_id="goals:7",
        values={"goal": "Pass <b>civil law</b> & more", "hours": "4", "deadline": "2026-12-01"},
    )
