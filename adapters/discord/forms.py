"""What the adapter remembers of forms between interactions (in memory, bounded).

- the forms it sent, by form id, to build their modals when the button is pressed;
- per person, the values of the pages already sent of a form longer than one modal;
- per person, the values of a submit the core refused, to reopen the modal filled in.

After a restart this is gone: the catch-all handler then asks the core to show the pending
question again (`Core.resume`), which sends the form anew; nothing the core stored is lost.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from bot.replies import OutgoingForm

K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A dict that forgets its oldest entries beyond `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[K, V] = OrderedDict()

    def __setitem__(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.limit:
            self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)


class Forms:
    def __init__(self, limit: int = 5000) -> None:
        self._forms: Bounded[str, OutgoingForm] = Bounded(limit)
        self._pages: Bounded[tuple[str, str], dict[str, str]] = Bounded(limit)
        self._refused: Bounded[tuple[str, str], dict[str, str]] = Bounded(limit)

    def remember(self, form: OutgoingForm) -> None:
        self._forms[form.form_id] = form

    def form(self, form_id: str) -> OutgoingForm | None:
        return self._forms.get(form_id)

    def start(self, user_id: str, form_id: str) -> None:
        """Page 1 opens: forget pages of an earlier, abandoned attempt."""
        self._pages.pop((user_id, form_id))

    def add_page(self, user_id: str, form_id: str, page: int, values: dict[str, str]) -> bool:
        """Keep one page's values; False when earlier pages are missing (lost in a restart)."""
        collected = self._pages.get((user_id, form_id))
        if page > 1 and collected is None:
            return False
        self._pages[(user_id, form_id)] = {**(collected or {}), **values}
        return True

    def has_pages(self, user_id: str, form_id: str) -> bool:
        return self._pages.get((user_id, form_id)) is not None

    def collected(self, user_id: str, form_id: str) -> dict[str, str]:
        return self._pages.pop((user_id, form_id)) or {}

    def refused(self, user_id: str, form_id: str, values: dict[str, str]) -> None:
        self._refused[(user_id, form_id)] = values

    def previous(self, user_id: str, form_id: str) -> dict[str, str]:
        return self._refused.get((user_id, form_id)) or {}

    def accepted(self, user_id: str, form_id: str) -> None:
        self._refused.pop((user_id, form_id))
