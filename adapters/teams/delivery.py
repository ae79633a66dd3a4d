"""Posting rendered replies through the Bot Connector, proactively, from the outbox.

Where a reply goes:
- a person's direct chat (no space, a direct space, or a private reply — Teams chats have no
  messages only one member sees): the stored reference of their one-to-one chat with Maatje;
  when there is none, Maatje is installed for them through Graph and that chat is used;
- a pair or group space: the stored reference of that chat or channel.

Files go to the person's one-to-one chat as file consent cards (the bytes wait in the store until
they answer); in a shared space images are shown inline. A message of several activities
remembers (per process) how many went out, so a retry after a refused later part does not post
the first part twice. Posts are paced per conversation within Teams' published limits.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from adapters.teams.connector import Connector, classify
from adapters.teams.graph import Graph, GraphError
from adapters.teams.references import Reference, References
from adapters.teams.render import consent_card, render
from bot.adapter import DeliveryError
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.pacing import Pacer
from bot.replies import Outgoing

log = logging.getLogger(__name__)

# Teams allows a bot about 7 messages a second and 60 in 30 seconds per conversation.
CONVERSATION_RATE = 1.8
CONVERSATION_BURST = 7
GLOBAL_RATE = 30.0


class Delivery:
    def __init__(
        self,
        connector: Connector,
        graph: Graph,
        references: References,
        app_id: str,
        now: Callable[[], datetime],
    ) -> None:
        self.connector = connector
        self.graph = graph
        self.references = references
        self.app_id = app_id
        self.now = now
        self.pacer = Pacer(GLOBAL_RATE, int(GLOBAL_RATE))
        self._pacers: OrderedDict[str, Pacer] = OrderedDict()
        self._parts_sent: OrderedDict[str, int] = OrderedDict()

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        if person is None and space is None:
            raise DeliveryError("teams: a message needs a person or a space", permanent=True)
        try:
            if space is None or space.kind is SpaceKind.DIRECT:
                ref = await self._direct(person, space)
                shared = False
            elif message.ephemeral and person is not None:
                ref = await self.personal(person)
                shared = False
            else:
                assert space is not None
                ref = await self._space(space)
                shared = True
            await self._post_all(ref, render(message, shared), key)
            if message.files and person is not None:
                home = ref if not shared else await self._direct(person, None)
                await self._offer_files(home, person, message, key)
            elif message.files and not all(f.mimetype.startswith("image/") for f in message.files):
                log.warning("teams: files of %s are for no one in particular: not posted", key)
        except Exception as exc:
            error = classify(exc.delivery_error() if isinstance(exc, GraphError) else exc)
            log.warning("teams: delivery of %s failed: %s", key, error)
            raise error from exc

    async def _direct(self, person: PersonRef | None, space: SpaceRef | None) -> Reference:
        if space is not None:
            ref = await self.references.get(space.channel_id)
            if ref is not None:
                return ref
        if person is None:
            raise DeliveryError("teams: a direct message needs its person", permanent=True)
        return await self.personal(person)

    async def personal(self, person: PersonRef) -> Reference:
        """The person's one-to-one chat with Maatje; installs Maatje for them when missing."""
        ref = await self.references.personal(person.workspace, person.user_id)
        if ref is not None:
            return ref
        tenant = await self.references.tenant(person.workspace)
        if tenant is None:
            raise DeliveryError(
                f"teams: no activity from tenant {person.workspace} yet, so its service URL is "
                "unknown; someone there has to write to Maatje first"
            )
        chat_id = await self.graph.personal_chat(person.user_id, self.app_id)
        ref = Reference(chat_id, tenant.service_url, person.workspace, "personal", tenant.bot_id)
        await self.references.remember(ref, person.user_id, self.now())
        return ref

    async def _space(self, space: SpaceRef) -> Reference:
        ref = await self.references.get(space.channel_id)
        if ref is None:
            raise DeliveryError(f"teams: unknown conversation {space.channel_id}", permanent=True)
        return ref

    def _conversation_pacer(self, conversation_id: str) -> Pacer:
        pacer = self._pacers.pop(conversation_id, None) or Pacer(
            CONVERSATION_RATE, CONVERSATION_BURST
        )
        self._pacers[conversation_id] = pacer
        while len(self._pacers) > 1000:
            self._pacers.popitem(last=False)
        return pacer

    async def _post_all(self, ref: Reference, activities: list[dict], key: str) -> None:
        done = self._parts_sent.get(key, 0)
        for index, activity in enumerate(activities):
            if index < done:
                continue
            await self.pacer.wait()
            await self._conversation_pacer(ref.conversation_id).wait()
            await self.connector.post(ref.service_url, ref.conversation_id, activity)
            self._parts_sent[key] = index + 1
            while len(self._parts_sent) > 1000:
                self._parts_sent.popitem(last=False)

    async def _offer_files(
        self, ref: Reference, person: PersonRef, message: Outgoing, key: str
    ) -> None:
        cards = []
        for index, file in enumerate(message.files):
            file_id = await self.references.hold(
                person.workspace, person.user_id, key, index, file, self.now()
            )
            cards.append(consent_card(file, file_id))
        await self._post_all(ref, cards, f"{key}#files")
