"""Files the Teams way: a file consent card in the personal chat, the upload when accepted.

The person answers the card with a `fileConsent/invoke`. Accepted: the held bytes are put to
the upload URL Teams gives (a OneDrive upload session; the URL itself authorises the upload),
the file is shown in the chat with a file info card, and the held copy is deleted. Declined: the
held copy is deleted. A file already delivered or declined (a second click, a re-delivery) is
simply no longer held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import aiohttp

from adapters.teams.connector import Connector
from adapters.teams.parse import FileAnswer
from adapters.teams.references import References
from adapters.teams.render import file_info

log = logging.getLogger(__name__)

UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=12)  # inside Teams' 15 s for the invoke


class Files:
    def __init__(
        self,
        connector: Connector,
        references: References,
        session: Callable[[], aiohttp.ClientSession],
    ) -> None:
        self.connector = connector
        self.references = references
        self.session = session

    async def answer(self, answer: FileAnswer, service_url: str) -> None:
        held = await self.references.held(answer.file_id, answer.person.user_id)
        if held is None:
            log.info("teams: file %s is no longer held", answer.file_id)
            return
        if not answer.accepted:
            await self.references.release(held.id)
            return
        upload_url = str(answer.upload.get("uploadUrl") or "")
        size = len(held.content)
        headers = {
            "Content-Length": str(size),
            "Content-Range": f"bytes 0-{max(size - 1, 0)}/{size}",
        }
        async with self.session().put(
            upload_url, data=held.content, headers=headers, timeout=UPLOAD_TIMEOUT
        ) as response:
            response.raise_for_status()
        await self.connector.post(service_url, answer.conversation_id, file_info(answer.upload))
        await self.references.release(held.id)
