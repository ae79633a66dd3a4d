"""Messages on their way out: written to the outbox, rendered per reader, handed to an adapter."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime

from sqlmodel import Session

from bot import outbox
from bot.adapter import Adapter, DeliveryError
from bot.domain import OutboxItem, Person
from bot.engine import Outbound
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import Translator
from bot.pacing import BULK, URGENT
from bot.replies import Reply, render_reply
from bot.services import people
from bot.store import Store

SEND = outbox.SEND
log = logging.getLogger(__name__)

Reader = tuple[PersonRef | None, str, str]
"""Who reads a message (their account, unless it goes to a space), language, time zone."""


def enqueue_outbound(
    session: Session,
    messages: Iterable[Outbound],
    key_prefix: str,
    now: datetime,
    waiting: int | None = None,
) -> list[tuple[str, str]]:
    """Write messages to the outbox; `key_prefix` + position makes each one's idempotency key.
    Messages to the person `waiting` for an answer are urgent (the rest is bulk), and make what
    is older in their lanes urgent too. Returns the urgent messages' keys and lanes."""
    rows = [
        {
            "kind": SEND,
            "payload": {
                "person": message.person_id,
                "ref": asdict(message.person_ref) if message.person_ref else None,
                "space": _space_to_json(message.space),
                "reply": message.reply.to_json(),
                "language": message.language,
            },
            "idempotency_key": f"{key_prefix}:{index}",
            "due_at": now,
            "created_at": now,
            "lane": lane_of(message),
            "priority": URGENT if message.person_id == waiting else BULK,
        }
        for index, message in enumerate(messages)
    ]
    outbox.enqueue_many(session, rows)
    urgent = [row for row in rows if row["priority"] == URGENT]
    outbox.promote(session, (row["lane"] for row in urgent))
    return [(row["idempotency_key"], row["lane"]) for row in urgent]


def lane_of(message: Outbound) -> str:
    """Messages for one person's direct chat, or for one shared space, keep their order."""
    space = message.space
    if space is None or space.kind is SpaceKind.DIRECT:
        return f"person:{message.person_id}"
    return f"space:{space.platform}:{space.workspace}:{space.channel_id}"


def _space_to_json(space: SpaceRef | None) -> dict[str, str] | None:
    if space is None:
        return None
    return {**asdict(space), "kind": space.kind.value}


def _space_from_json(data: Mapping[str, str] | None) -> SpaceRef | None:
    if data is None:
        return None
    return SpaceRef(
        data["platform"], data["workspace"], data["channel_id"], SpaceKind(data["kind"])
    )


class Deliverer:
    """Renders a `send` action for its reader and hands it to the reader's platform."""

    def __init__(self, store: Store, translator: Translator, adapters: Mapping[str, Adapter]):
        self.store = store
        self.translator = translator
        self.adapters = adapters
        self._readers: dict[int | None, Reader | None] = {}

    def prefetch(self, session: Session, items: Sequence[OutboxItem]) -> None:
        """Look up the readers of a claimed batch's messages in the claim's own transaction,
        saving `deliver` a transaction per message (it looks up itself what is not here)."""
        self._readers.update(
            (item.id, self._reader_in(session, item)) for item in items if item.kind == SEND
        )

    async def deliver(self, item: OutboxItem) -> None:
        """Render for the reader and send. With a space and no person the message is a post
        for everyone there; with both it is addressed to that person in the space."""
        payload = item.payload
        space = _space_from_json(payload.get("space"))
        if item.id in self._readers:
            found = self._readers.pop(item.id)
        else:
            found = await self.store.run(self._reader, item)
        if found is None:
            return
        ref, language, timezone = found
        platform = space.platform if space else ref.platform if ref else None
        if platform is None:
            raise DeliveryError("recipient has no platform account", permanent=True)
        adapter = self.adapters.get(platform)
        if adapter is None:
            raise DeliveryError(f"platform {platform} is not running")
        reply = Reply.from_json(payload["reply"])
        message = render_reply(reply, self.translator, language, timezone, adapter.escape)
        await adapter.send(ref, space, message, item.idempotency_key)

    def _reader(self, item: OutboxItem) -> Reader | None:
        with self.store.session() as session:
            return self._reader_in(session, item)

    @staticmethod
    def _reader_in(session: Session, item: OutboxItem) -> Reader | None:
        """Who reads the message, in which language and zone (None: erased, drop it)."""
        payload = item.payload
        ref = PersonRef(**payload["ref"]) if payload.get("ref") else None
        person = session.get(Person, payload["person"])
        if person is None:
            if not (ref and payload.get("language")):
                log.info("dropping message %s: its recipient was erased", item.id)
                return None
            return ref, payload["language"], "UTC"
        if payload.get("space") is None:
            ref = ref or people.reachable_ref(session, payload["person"])
        language, timezone = people.reader(session, person)
        return ref, payload.get("language") or language, timezone
