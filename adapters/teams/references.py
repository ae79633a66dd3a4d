"""Conversation references and held files, kept in the core's store.

Teams lets a bot post proactively only with a conversation's full reference — above all its
service URL, which differs per region and tenant. Every verified activity refreshes the
reference of its conversation (a write only when something changed), so after a restart, a
redeploy or a week of silence Maatje can still reach each person and space. The tenant's service
URL is remembered too, for conversations Maatje creates itself (a 1:1 chat, a Graph group chat).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from adapters.teams.parse import PLATFORM, channel_key, conversation_type, tenant_of
from bot.domain import ConversationReference, HeldFile
from bot.store import Store

HOLD_DAYS = 30
"""How long a file offered with a consent card waits for the person's answer."""
TENANT_KIND = "tenant"
"""A row that only records a tenant's service URL (channel id `tenant:<tenant id>`)."""


@dataclass(frozen=True)
class Reference:
    conversation_id: str
    service_url: str
    tenant_id: str
    kind: str
    """Teams' conversation type: personal, groupChat or channel."""
    bot_id: str = ""
    member_id: str = ""
    """In a personal chat: the person's `29:` account id."""
    space_kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "service_url": self.service_url,
            "tenant_id": self.tenant_id,
            "kind": self.kind,
            "bot_id": self.bot_id,
            "member_id": self.member_id,
            "space_kind": self.space_kind,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reference:
        return cls(
            **{k: data.get(k) or "" for k in ("conversation_id", "service_url")},
            tenant_id=data.get("tenant_id") or "",
            kind=data.get("kind") or "",
            bot_id=data.get("bot_id") or "",
            member_id=data.get("member_id") or "",
            space_kind=data.get("space_kind"),
        )


def reference_of(activity: dict[str, Any]) -> Reference:
    conversation = activity.get("conversation") or {}
    kind = conversation_type(activity)
    return Reference(
        conversation_id=str(conversation.get("id") or "").split(";")[0],
        service_url=str(activity.get("serviceUrl") or ""),
        tenant_id=tenant_of(activity),
        kind=kind,
        bot_id=str((activity.get("recipient") or {}).get("id") or ""),
        member_id=str((activity.get("from") or {}).get("id") or "") if kind == "personal" else "",
    )


class References:
    """The store's references, with a small cache of what was last written."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[str, Reference] = {}

    async def remember(self, ref: Reference, user_id: str | None, now: datetime) -> None:
        key = channel_key(ref.conversation_id)
        known = self._seen.get(key)
        if known is not None and known == _merged(known, ref):
            return
        try:
            await self.store.run(self._remember, ref, user_id, now)
        except IntegrityError:  # another thread or process wrote the same row first
            await self.store.run(self._remember, ref, user_id, now)

    def _remember(self, ref: Reference, user_id: str | None, now: datetime) -> None:
        key = channel_key(ref.conversation_id)
        with self.store.session() as session:
            row = session.get(ConversationReference, (PLATFORM, key))
            if row is None:
                row = ConversationReference(
                    platform=PLATFORM,
                    channel_id=key,
                    workspace=ref.tenant_id,
                    kind=ref.kind,
                    updated_at=now,
                )
            merged = _merged(Reference.from_json(row.reference) if row.reference else None, ref)
            row.reference, row.kind, row.updated_at = merged.to_json(), ref.kind, now
            if ref.kind == "personal" and user_id:
                row.user_id = user_id
            session.add(row)
            tenant = session.get(ConversationReference, (PLATFORM, f"tenant:{ref.tenant_id}"))
            if ref.service_url and (
                tenant is None or tenant.reference.get("service_url") != ref.service_url
            ):
                tenant = tenant or ConversationReference(
                    platform=PLATFORM,
                    channel_id=f"tenant:{ref.tenant_id}"[:64],
                    workspace=ref.tenant_id,
                    kind=TENANT_KIND,
                    updated_at=now,
                )
                tenant.reference = {"service_url": ref.service_url, "bot_id": ref.bot_id}
                tenant.updated_at = now
                session.add(tenant)
        self._seen[key] = merged

    async def mark(self, ref: Reference, space_kind: str, now: datetime) -> None:
        """Remember what a conversation Maatje opened is for (a pair's or a group's)."""
        await self.remember(Reference(**{**ref.to_json(), "space_kind": space_kind}), None, now)

    async def get(self, channel_id: str) -> Reference | None:
        return await self.store.run(self._get, channel_id)

    def _get(self, channel_id: str) -> Reference | None:
        if channel_id in self._seen:
            return self._seen[channel_id]
        with self.store.session() as session:
            row = session.get(ConversationReference, (PLATFORM, channel_id))
            return Reference.from_json(row.reference) if row else None

    async def personal(self, tenant_id: str, user_id: str) -> Reference | None:
        """The person's one-to-one chat with Maatje, if Teams ever told us about it."""
        return await self.store.run(self._personal, tenant_id, user_id)

    def _personal(self, tenant_id: str, user_id: str) -> Reference | None:
        with self.store.session() as session:
            row = session.exec(
                select(ConversationReference)
                .where(
                    ConversationReference.platform == PLATFORM,
                    ConversationReference.workspace == tenant_id,
                    ConversationReference.user_id == user_id,
                )
                .order_by(col(ConversationReference.updated_at).desc())
            ).first()
            return Reference.from_json(row.reference) if row else None

    async def tenant(self, tenant_id: str) -> Reference | None:
        """The tenant's service URL and bot account, for conversations Maatje creates."""
        return await self.get(f"tenant:{tenant_id}"[:64])

    def space_kind(self, channel_id: str) -> str | None:
        """What a conversation is for, from the cache only (parsing must not wait)."""
        known = self._seen.get(channel_id)
        return known.space_kind if known else None

    async def load_kinds(self) -> None:
        """Fill the cache with the conversations Maatje opened (at start-up)."""
        for key, ref in await self.store.run(self._opened):
            self._seen[key] = ref

    def _opened(self) -> list[tuple[str, Reference]]:
        with self.store.session() as session:
            rows = session.exec(
                select(ConversationReference).where(
                    ConversationReference.platform == PLATFORM,
                    col(ConversationReference.kind).in_(("groupChat", "channel")),
                )
            ).all()
            return [(r.channel_id, Reference.from_json(r.reference)) for r in rows]

    # -- held files ------------------------------------------------------------------------

    async def hold(self, tenant_id: str, user_id: str, key: str, index: int, file, now) -> str:
        file_id = hashlib.sha256(f"{key}#{index}".encode()).hexdigest()[:40]
        await self.store.run(self._hold, file_id, tenant_id, user_id, file, now)
        return file_id

    def _hold(self, file_id, tenant_id, user_id, file, now) -> None:
        with self.store.session() as session:
            if session.get(HeldFile, file_id) is None:
                session.add(
                    HeldFile(
                        id=file_id,
                        platform=PLATFORM,
                        workspace=tenant_id,
                        user_id=user_id,
                        filename=file.filename,
                        mimetype=file.mimetype,
                        content=file.content,
                        created_at=now,
                    )
                )

    async def held(self, file_id: str, user_id: str) -> HeldFile | None:
        return await self.store.run(self._held, file_id, user_id)

    def _held(self, file_id: str, user_id: str) -> HeldFile | None:
        with self.store.session() as session:
            row = session.get(HeldFile, file_id)
            if row is None or row.user_id != user_id:
                return None
            session.expunge(row)
            return row

    async def drop_unanswered(self, now: datetime) -> None:
        """Delete files nobody answered for `HOLD_DAYS` (the card no longer works then)."""
        await self.store.run(self._drop_unanswered, now - timedelta(days=HOLD_DAYS))

    def _drop_unanswered(self, before: datetime) -> None:
        with self.store.session() as session:
            session.exec(
                delete(HeldFile).where(
                    HeldFile.platform == PLATFORM, col(HeldFile.created_at) < before
                )
            )

    async def release(self, file_id: str) -> None:
        await self.store.run(self._release, file_id)

    def _release(self, file_id: str) -> None:
        with self.store.session() as session:
            session.exec(delete(HeldFile).where(col(HeldFile.id) == file_id))


def _merged(old: Reference | None, new: Reference) -> Reference:
    """A fresh activity's reference, keeping what it does not carry (a pair's kind, the
    person's account id)."""
    if old is None:
        return new
    return Reference(
        conversation_id=new.conversation_id or old.conversation_id,
        service_url=new.service_url or old.service_url,
        tenant_id=new.tenant_id or old.tenant_id,
        kind=new.kind or old.kind,
        bot_id=new.bot_id or old.bot_id,
        member_id=new.member_id or old.member_id,
        space_kind=new.space_kind or old.space_kind,
    )
