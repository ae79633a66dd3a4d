"""What the core does with characters no database or reader should get: NUL bytes in text, and
invisible or direction-changing characters in names."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.domain import FlowRun
from bot.events import Command, Message, PersonRef, SpaceRef
from bot.sanitise import clean_event, clean_name, clean_text
from bot.testing import Conversation

APOLOGY = "something went wrong on my side"


async def test_nul_bytes_are_dropped_before_the_database_sees_them(chat: Conversation) -> None:
    await chat.send("anna", "hel\x00lo")
    assert "May I store" in chat.last("anna")
    await chat.send("anna", "ye\x00s")  # typed instead of clicked
    await chat.click("anna", "mentee")
    await chat.submit("anna", {"programme": "La\x00w", "year": "\x002"})
    await chat.send("anna", "Plan\x00ning my \x00studies")
    texts = chat.new("anna")
    assert not any(APOLOGY in t for t in texts), texts
    assert "Which topics" in texts[-1]
    with chat.core.store.session() as session:
        [run] = session.exec(select(FlowRun)).all()
    assert run.answers["studies"] == {"programme": "Law", "year": 2}
    assert "Planning my studies" in run.answers.values()


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Anna", "Anna"),
        ("\u202eannA", "annA"),  # right-to-left override: would show reversed
        ("An\u200bna", "Anna"),  # zero-width space: looks like "Anna", is not
        ("Anna\u2066 (coordinator)\u2069", "Anna (coordinator)"),  # isolates
        ("\ufeffAnna\u200e\u200f\u061c", "Anna"),  # BOM, LRM, RLM, Arabic letter mark
        ("An\x00na\x07", "Anna"),  # NUL and a bell
        ("Anna\n\tde  Vries", "Anna de Vries"),
        ("محمد", "محمد"),  # right-to-left names need no control characters
        ("\u200b\u202e", None),  # nothing visible left
        ("x" * 300, "x" * 200),
    ],
)
def test_names_lose_invisible_and_direction_changing_characters(typed, shown) -> None:
    assert clean_name(typed) == shown


def test_text_keeps_everything_but_nul_and_lone_surrogates() -> None:
    assert clean_text("a\x00b\ud800c\u202ed\n\te 😀") == "abc\u202ed\n\te 😀"


def test_an_event_is_cleaned_field_by_field() -> None:
    ref = PersonRef("console", "t\x00", "anna")
    space = SpaceRef("console", "t", "dm-anna")
    event = Command(
        person=ref,
        space=space,
        event_id="e1",
        name="pa\x00ir",
        args=("An\x00na",),
        display_name="\u202eAnna",
    )
    cleaned = clean_event(event)
    assert (cleaned.name, cleaned.args, cleaned.display_name) == ("pair", ("Anna",), "Anna")
    assert cleaned.person.workspace == "t"
    untouched = Message(person=PersonRef("console", "t", "a"), space=space, event_id="e", text="x")
    assert clean_event(untouched) is untouched
