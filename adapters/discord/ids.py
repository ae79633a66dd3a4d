"""The `custom_id`s Maatje puts on Discord components and modals, and reads back.

They carry only what finds the conversation again — the core's `choice_token` and an option's
value, or a form's id and page — so a button sent last week still works after a restart: the
adapter handles every `mj:` id in one catch-all interaction handler, nothing is registered per
message. Discord allows at most 100 characters.

    mj:c:<token>|<value>     a button: choose `value`
    mj:s:<token>[~<n>]       a select menu (the n-th of a message with several): the chosen
                             values come with the interaction
    mj:f:<form_id>           open a form's modal (its first page)
    mj:n:<page>:<form_id>    open page `page` (1-based) of a form: the "continue" button
    mj:r:<form_id>           reopen a form whose answers had errors, with the previous values
    mj:m:<page>/<pages>:<form_id>   a modal: page `page` of `pages`
"""

from __future__ import annotations

from dataclasses import dataclass

LIMIT = 100
PREFIX = "mj:"


@dataclass(frozen=True)
class Pick:
    """A button (one value) or select menu (values arrive with the interaction)."""

    token: str
    value: str | None = None


@dataclass(frozen=True)
class OpenForm:
    form_id: str
    page: int = 1
    retry: bool = False


@dataclass(frozen=True)
class ModalPage:
    form_id: str
    page: int
    pages: int


Parsed = Pick | OpenForm | ModalPage


def fits(custom_id: str) -> bool:
    return len(custom_id) <= LIMIT


def button(token: str, value: str) -> str:
    return f"{PREFIX}c:{token}|{value}"


def select(token: str, index: int = 0) -> str:
    return f"{PREFIX}s:{token}" + (f"~{index}" if index else "")


def open_form(form_id: str) -> str:
    return f"{PREFIX}f:{form_id}"


def next_page(form_id: str, page: int) -> str:
    return f"{PREFIX}n:{page}:{form_id}"


def retry(form_id: str) -> str:
    return f"{PREFIX}r:{form_id}"


def modal(form_id: str, page: int, pages: int) -> str:
    return f"{PREFIX}m:{page}/{pages}:{form_id}"


def parse(custom_id: str) -> Parsed | None:
    """What a custom_id asks for; None for ids that are not Maatje's or are malformed."""
    if not custom_id.startswith(PREFIX) or len(custom_id) < len(PREFIX) + 3:
        return None
    kind, rest = custom_id[len(PREFIX)], custom_id[len(PREFIX) + 2 :]
    if custom_id[len(PREFIX) + 1] != ":" or not rest:
        return None
    if kind == "c":
        token, bar, value = rest.partition("|")
        return Pick(token, value) if bar and token else None
    if kind == "s":
        token, tilde, index = rest.rpartition("~")
        return Pick(token if tilde and index.isdigit() and token else rest)
    if kind == "f":
        return OpenForm(rest)
    if kind == "r":
        return OpenForm(rest, retry=True)
    if kind == "n":
        page, _, form_id = rest.partition(":")
        return OpenForm(form_id, int(page)) if page.isdigit() and form_id else None
    if kind == "m":
        position, _, form_id = rest.partition(":")
        page, _, pages = position.partition("/")
        if page.isdigit() and pages.isdigit() and form_id and 1 <= int(page) <= int(pages):
            return ModalPage(form_id, int(page), int(pages))
    return None
