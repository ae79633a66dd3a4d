"""Outgoing messages as Discord components and modals (pure; compared with stored JSON)."""

from __future__ import annotations

from adapters.discord import escape, render
from bot.replies import FieldKind, Outgoing, OutgoingField, OutgoingForm, OutgoingOption


def outgoing(text: str = "Question?", **fields) -> Outgoing:
    return Outgoing(text, "en", "Europe/Amsterdam", **fields)


def options(count: int) -> tuple[OutgoingOption, ...]:
    return tuple(OutgoingOption(f"v{i}", f"Option {i}") for i in range(count))


def components(message: render.Rendered) -> list[dict]:
    assert message.view is not None
    return message.view.to_components()


def seven_fields() -> OutgoingForm:
    fields = (
        OutgoingField("programme", "Study programme", FieldKind.TEXT, True, 150),
        OutgoingField("year", "Year of study (1-10)", FieldKind.NUMBER, True, 2),
        OutgoingField(
            "hopes",
            "What do you hope to get out of mentoring, in your own words?",
            FieldKind.LONG_TEXT,
            False,
            5000,
        ),
        *(
            OutgoingField(f"extra{i}", f"Extra {i}", FieldKind.TEXT, False, 100)
            for i in range(3, 7)
        ),
    )
    return OutgoingForm("f:12:studies", "Your studies", "Send", "Fill in", fields)


async def test_up_to_five_choices_are_buttons(payload):
    choices = (OutgoingOption("yes", "Yes"), OutgoingOption("no", "No"))
    [message] = render.render(outgoing(choices=choices, choice_token="f:12:consent"))
    assert components(message) == payload("render_consent.json")


async def test_more_choices_are_a_select_and_several_answers_a_multi_select():
    [single] = render.render(outgoing(choices=options(8), choice_token="f:1:topics"))
    [row] = components(single)
    [menu] = row["components"]
    assert (menu["type"], menu["custom_id"], menu["max_values"]) == (3, "mj:s:f:1:topics", 1)
    assert [o["value"] for o in menu["options"]] == [f"v{i}" for i in range(8)]

    [multiple] = render.render(
        outgoing(choices=options(3), choice_token="f:1:days", multiple=True, multiple_hint="1,3")
    )
    [row] = components(multiple)
    assert row["components"][0]["max_values"] == 3
    assert "1,3" not in multiple.content  # the hint is for typing; a select needs none


async def test_beyond_one_select_single_answers_spread_over_selects():
    [message] = render.render(outgoing(choices=options(60), choice_token="f:1:school"))
    rows = components(message)
    assert [r["components"][0]["custom_id"] for r in rows] == [
        "mj:s:f:1:school",
        "mj:s:f:1:school~1",
        "mj:s:f:1:school~2",
    ]
    assert sum(len(r["components"][0]["options"]) for r in rows) == 60


async def test_what_discord_cannot_carry_becomes_numbered_lines():
    hint = "you can choose several, for example 1,3"
    [message] = render.render(
        outgoing(choices=options(30), choice_token="f:1:x", multiple=True, multiple_hint=hint)
    )
    assert message.view is None
    assert "1) Option 0" in message.content and "30) Option 29" in message.content
    assert message.content.endswith(f"({hint})")


async def test_a_value_too_long_for_a_button_id_goes_in_a_select():
    long = (OutgoingOption("x" * 95, "Long"), OutgoingOption("short", "Short"))
    [message] = render.render(outgoing(choices=long, choice_token="f:1:x"))
    [row] = components(message)
    assert row["components"][0]["type"] == 3


async def test_a_form_is_a_button_that_opens_it():
    [message] = render.render(outgoing(form=seven_fields()))
    [row] = components(message)
    assert row["components"][0]["custom_id"] == "mj:f:f:12:studies"
    assert row["components"][0]["label"] == "📝 Fill in"


async def test_a_seven_field_form_has_two_modal_pages(payload):
    form = seven_fields()
    assert [len(p) for p in render.pages(form)] == [5, 2]
    page1 = render.modal(form, 1, {"year": "2", "other": "ignored"})
    assert page1.to_dict() == payload("render_modal_page1.json")
    page2 = render.modal(form, 2)
    data = page2.to_dict()
    assert data["title"] == "Your studies (2/2)" and data["custom_id"] == "mj:m:2/2:f:12:studies"
    assert [r["components"][0]["custom_id"] for r in data["components"]] == ["extra5", "extra6"]


async def test_a_one_page_form_has_no_page_numbers():
    form = OutgoingForm("f:1:bg", "Your background", "Send", "Fill in", seven_fields().fields[:2])
    assert render.modal(form).to_dict()["title"] == "Your background"


async def test_continue_and_errors_messages():
    form = seven_fields()
    step = render.continue_message(form, form.form_id, 2, 2)
    [row] = components(step)
    assert row["components"][0]["custom_id"] == "mj:n:2:f:12:studies"
    assert row["components"][0]["label"] == "➡️ Fill in (2/2)"

    errors = {"year": "Please give a number from 1 to 10.", "programme": "@everyone <b>"}
    refused = render.errors_message(form, form.form_id, errors, escape)
    assert "**Year of study (1-10)**: Please give a number from 1 to 10." in refused.content
    assert "@everyone" not in refused.content
    [row] = components(refused)
    assert row["components"][0]["custom_id"] == "mj:r:f:12:studies"


def test_split_text_keeps_parts_within_the_limit():
    assert render.split_text("short") == ["short"]
    assert render.split_text("") == [""]
    words = " ".join(["woord"] * 1000)
    parts = render.split_text(words)
    assert all(len(p) <= 2000 for p in parts) and " ".join(parts) == words
    unbroken = "x" * 4500
    assert [len(p) for p in render.split_text(unbroken)] == [2000, 2000, 500]
