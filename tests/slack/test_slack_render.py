"""Outgoing replies into Block Kit, within Slack's limits."""

import re

from adapters.slack import ids
from adapters.slack.render import (
    MESSAGE_TEXT_LIMIT,
    SECTION_LIMIT,
    render_answered,
    render_home,
    render_messages,
    render_modal,
    split_text,
)
from bot.events import SpaceKind
from bot.replies import FieldKind, Outgoing, OutgoingField, OutgoingForm, OutgoingOption


def outgoing(text: str = "Question?", n: int = 0, **kwargs) -> Outgoing:
    options = tuple(OutgoingOption(f"v{i}", f"Option {i}") for i in range(n))
    return Outgoing(text, "en", "Europe/Amsterdam", options, "f:1:step", **kwargs)


def only_message(message: Outgoing) -> dict:
    rendered = render_messages(message)
    assert len(rendered) == 1
    return rendered[0]


def test_plain_text_is_one_section() -> None:
    message = only_message(outgoing("Hello *there*"))
    assert message["text"] == "Hello *there*"
    assert message["blocks"] == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Hello *there*"}}
    ]


def test_up_to_five_choices_are_buttons() -> None:
    blocks = only_message(outgoing(n=5))["blocks"]
    actions = blocks[-1]
    assert actions["type"] == "actions" and actions["block_id"] == "f:1:step"
    assert [e["type"] for e in actions["elements"]] == ["button"] * 5
    assert [e["value"] for e in actions["elements"]] == [f"v{i}" for i in range(5)]
    assert len({e["action_id"] for e in actions["elements"]}) == 5
    assert all(e["action_id"].startswith(ids.CHOICE) for e in actions["elements"])


def test_more_than_five_choices_are_a_select() -> None:
    actions = only_message(outgoing(n=6))["blocks"][-1]
    [select] = actions["elements"]
    assert select["type"] == "static_select"
    assert [o["value"] for o in select["options"]] == [f"v{i}" for i in range(6)]


def test_more_than_a_hundred_choices_are_several_selects() -> None:
    actions = only_message(outgoing(n=150))["blocks"][-1]
    assert [len(e["options"]) for e in actions["elements"]] == [100, 50]
    assert len({e["action_id"] for e in actions["elements"]}) == 2


def test_multiple_choice_is_checkboxes_and_a_submit_button() -> None:
    blocks = only_message(outgoing(n=4, multiple=True))["blocks"]
    pick, submit = blocks[-1]["elements"]
    assert pick["type"] == "checkboxes" and pick["action_id"] == ids.PICK
    assert submit["action_id"] == ids.SUBMIT and submit["value"] == "f:1:step"


def test_long_multiple_choice_is_a_multi_select() -> None:
    blocks = only_message(outgoing(n=12, multiple=True))["blocks"]
    assert blocks[-2]["accessory"]["type"] == "multi_static_select"
    assert len(blocks[-2]["accessory"]["options"]) == 12
    assert blocks[-1]["elements"][0]["value"] == "f:1:step"


def test_labels_are_cut_to_slacks_limit() -> None:
    message = Outgoing("Q", "en", "UTC", (OutgoingOption("x", "L" * 200),), "t")
    button = only_message(message)["blocks"][-1]["elements"][0]
    assert len(button["text"]["text"]) == 75 and button["text"]["text"].endswith("…")


def test_a_form_is_a_button_that_opens_a_modal() -> None:
    form = OutgoingForm(
        "goals:7",
        "Your goals for this semester",
        "Send",
        "Fill in",
        (
            OutgoingField("goal", "Goal", FieldKind.LONG_TEXT, True, 500),
            OutgoingField("hours", "Hours", FieldKind.NUMBER, False, 3),
            OutgoingField("when", "Deadline", FieldKind.DATE, False, 10),
            OutgoingField("name", "Name", FieldKind.TEXT, True, 80),
        ),
    )
    button = only_message(outgoing(form=form))["blocks"][-1]["elements"][0]
    assert button["action_id"] == ids.OPEN_FORM and button["text"]["text"] == "Fill in"
    modal = render_modal(form, ids.encode_view_metadata("goals:7", "D1", SpaceKind.DIRECT))
    assert modal["type"] == "modal" and modal["callback_id"] == ids.FORM_VIEW
    assert len(modal["title"]["text"]) <= 24
    assert ids.decode_view_metadata(modal["private_metadata"])[:2] == ("goals:7", "D1")
    kinds = [(b["block_id"], b["element"]["type"], b["optional"]) for b in modal["blocks"]]
    assert kinds == [
        ("goal", "plain_text_input", False),
        ("hours", "number_input", True),
        ("when", "datepicker", True),
        ("name", "plain_text_input", False),
    ]
    assert modal["blocks"][0]["element"]["multiline"] is True
    assert modal["blocks"][0]["element"]["max_length"] == 500
    assert all(b["element"]["action_id"] == "value" for b in modal["blocks"])


def test_long_text_splits_within_section_and_message_limits() -> None:
    paragraph = ("word " * 150).strip()  # 749 characters
    text = "\n\n".join([paragraph] * 120)  # ~90,000 characters
    rendered = render_messages(outgoing(text, n=2))
    assert len(rendered) >= 3
    for message in rendered:
        sections = [b for b in message["blocks"] if b["type"] == "section"]
        assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in sections)
        assert sum(len(b["text"]["text"]) for b in sections) <= MESSAGE_TEXT_LIMIT
        assert len(message["text"]) <= MESSAGE_TEXT_LIMIT
        assert len(message["blocks"]) <= 50
    assert rendered[-1]["blocks"][-1]["type"] == "actions"
    assert all(b["type"] == "section" for m in rendered[:-1] for b in m["blocks"])
    joined = " ".join(b["text"]["text"] for m in rendered for b in m["blocks"] if "text" in b)
    assert joined.split() == text.split()


def test_splitting_never_cuts_an_escaped_entity() -> None:
    text = "&amp;" * 1000  # no spaces: a hard cut
    pieces = split_text(text, 3000)
    assert "".join(pieces) == text
    assert all(re.fullmatch(r"(&amp;)+", p) for p in pieces)


def test_splitting_prefers_paragraphs() -> None:
    text = "a" * 2000 + "\n\n" + "b" * 2000
    assert split_text(text) == ["a" * 2000, "b" * 2000]


def test_home_shows_programme_meeting_and_tasks_escaped() -> None:
    view = render_home("Maatje", "Mentoraat <!channel>", "Tue 14:00", ("Intake", "Goals & plans"))
    assert view["type"] == "home"
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert texts == ["Mentoraat &lt;!channel&gt;", "Tue 14:00", "• Intake\n• Goals &amp; plans"]


def test_answered_message_keeps_its_text_and_shows_the_choice() -> None:
    blocks = only_message(outgoing(n=3))["blocks"]
    answered = render_answered(blocks, ["Option 1"])
    assert answered[0] == blocks[0]
    assert all(b["type"] != "actions" for b in answered)
    assert answered[-1]["elements"][0]["text"] == "✓ Option 1"
