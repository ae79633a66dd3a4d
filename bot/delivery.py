"""Messages on their way out: written to the outbox, rendered per reader, handed to an adapter."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot import outbox, outbox_claimed
from bot.adapter import Adapter, DeliveryError
from bot.audience import Audience, addressed, audience_of, audiences_of, space_from_json
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.i18n import Translator, with_mentions
from bot.pacing import BULK, URGENT
from bot.replies import Mentioned, Reply, render_for
from bot.store import Store

SEND = outbox.SEND
WIPE_AFTER = "wipe_after"
"""Payload flag of a farewell: once it is sent, the database files are wiped (bot.store)."""
log = logging.getLogger(__name__)


Written = list[tuple[str, str, bool]]
"""Each message's idempotency key, lane and whether it is urgent, as written."""


def enqueue_outbound(
    session: Session,
    messages: Iterable[Outbound],
    key_prefix: str,
    now: datetime,
    waiting: int | None = None,
) -> Written:
    """Write messages to the outbox; `key_prefix` + position makes each one's idempotency key.
    Messages to the person `waiting` for an answer are urgent (the rest is bulk), and make the
    rest of their lanes urgent too. Returns each message's key, lane and whether it is urgent
    as written."""
    rows = _rows(messages, key_prefix, now, waiting)
    outbox.enqueue_many(session, rows)
    outbox.promote(session, (row["lane"] for row in rows if row["priority"] == URGENT))
    return _written(rows)


def enqueue_claimed(
    session: Session,
    messages: Iterable[Outbound],
    key_prefix: str,
    now: datetime,
    waiting: int,
    worker: str,
    until: datetime,
) -> tuple[Written, list[OutboxItem]]:
    """`enqueue_outbound` for a turn's replies, the urgent ones that may go now claimed by
    `worker` as they are written (`outbox_claimed.enqueue_claimed`): what was written, and the
    actions claimed."""
    rows = _rows(messages, key_prefix, now, waiting)
    claimed = outbox_claimed.enqueue_claimed(session, rows, worker, until)
    return _written(rows), claimed


def _rows(
    messages: Iterable[Outbound], key_prefix: str, now: datetime, waiting: int | None
) -> list[dict[str, Any]]:
    return [
        {
            "kind": SEND,
            "payload": {
                "person": message.person_id,
                "ref": _ref_to_json(message.person_ref),
                "space": _space_to_json(message.space),
                "reply": message.reply.to_json(),
                "language": message.language,
                **({WIPE_AFTER: True} if message.farewell else {}),
            },
            "idempotency_key": f"{key_prefix}:{index}",
            "due_at": now,
            "created_at": now,
            "lane": lane_of(message),
            "priority": URGENT if message.person_id == waiting else BULK,
        }
        for index, message in enumerate(messages)
    ]


def _written(rows: list[dict[str, Any]]) -> Written:
    return [(row["idempotency_key"], row["lane"], row["priority"] == URGENT) for row in rows]


def lane_of(message: Outbound) -> str:
    """Messages for one person's direct chat, or for one shared space, keep their order."""
    space = message.space
    if space is None or space.kind is SpaceKind.DIRECT:
        return f"person:{message.person_id}"
    return f"space:{space.platform}:{space.workspace}:{space.channel_id}"


# Spelt out rather than `dataclasses.asdict`, which copies each value deeply: every message
# written passes here.


def _ref_to_json(ref: PersonRef | None) -> dict[str, str] | None:
    if ref is None:
        return None
    return {"platform": ref.platform, "workspace": ref.workspace, "user_id": ref.user_id}


def _space_to_json(space: SpaceRef | None) -> dict[str, str] | None:
    if space is None:
        return None
    return {
        "platform": space.platform,
        "workspace": space.workspace,
        "channel_id": space.channel_id,
        "kind": space.kind.value,
    }


class Deliverer:
    """Renders a `send` action for its audience (`bot.audience`) and hands it to the platform."""

    def __init__(self, store: Store, translator: Translator, adapters: Mapping[str, Adapter]):
        self.store = store
        self.translator = translator
        self.adapters = adapters
        self._audiences: dict[int | None, Audience | None] = {}

    def prefetch(self, session: Session, items: Sequence[OutboxItem]) -> None:
        """Look up the audiences of a claimed batch's messages in the claim's own transaction,
        saving `deliver` a transaction per message (it looks up itself what is not here); the
        readers and the people mentioned are read for the whole batch at once."""
        sends = [item for item in items if item.kind == SEND]
        found = audiences_of(session, [item.payload for item in sends])
        self._audiences.update(zip((item.id for item in sends), found, strict=True))

    async def deliver(self, item: OutboxItem) -> None:
        """Render for the audience and send. With a space and no person the message is a post
        for everyone there; with both it is addressed to that person in the space."""
        payload = item.payload
        space = space_from_json(payload.get("space"))
        if item.id in self._audiences:
            found = self._audiences.pop(item.id)
        else:
            found = await self.store.run(self._audience, item)
        if found is None:
            log.info("dropping message %s: its recipient was erased", item.id)
            return
        platform = space.platform if space else found.ref.platform if found.ref else None
        if platform is None:
            raise DeliveryError("recipient has no platform account", permanent=True)
        adapter = self.adapters.get(platform)
        if adapter is None:
            raise DeliveryError(f"platform {platform} is not running")
        reply = Reply.from_json(payload["reply"])
        if found.addressed:
            reply = replace(reply, text=addressed(payload["person"], reply.text))
        rendered, mentions = _mentions(adapter, found)
        if rendered:
            reply = replace(reply, text=with_mentions(reply.text, rendered))
        message = render_for(
            reply, self.translator, found.languages, found.timezones, adapter.escape, mentions
        )
        await adapter.send(found.ref, space, message, item.idempotency_key)

    def _audience(self, item: OutboxItem) -> Audience | None:
        with self.store.session() as session:
            return audience_of(session, item.payload)


def _mentions(adapter: Adapter, found: Audience) -> tuple[dict[int, str], tuple[Mentioned, ...]]:
    """Each mentioned person in the adapter's form; those with an account there are listed
    (the platform notifies them), the others are only named."""
    rendered: dict[int, str] = {}
    listed: list[Mentioned] = []
    mention = getattr(adapter, "mention", None)
    for person_id, (account, name) in found.mentions.items():
        if account is None or mention is None:
            rendered[person_id] = adapter.escape(name)
            continue
        rendered[person_id] = mention(account.user_id, name)
        listed.append(Mentioned(account.user_id, name))
    return rendered, tuple(dict.fromkeys(listed))
