"""Helpers for the Teams tests: signed tokens as the Bot Framework signs them, activities as
Teams sends them, the adapter on the fake cloud, and a `Harness` in front of the real core."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
import jwt

from adapters.teams import TeamsAdapter
from adapters.teams.escape import unescape
from bot.config.model import TeamsConfig
from bot.core import Core
from tests.teams.teams_fake import (
    APP_ID,
    BOT_ID,
    ISSUER,
    KID,
    SECRET,
    SIGNING_KEY,
    TENANT,
    FakeCloud,
)

ANNA = "aad-anna-0001"
BRAM = "aad-bram-0002"
MAARTEN = "aad-maarten-0003"
CORA = "aad-cora-0009"  # a coordinator (see `programme`)
_ids = itertools.count(1)


def teams_config(fake: FakeCloud, **overrides: Any) -> TeamsConfig:
    config = TeamsConfig(
        enabled=True,
        host="127.0.0.1",
        port=0,
        path="/api/messages",
        app_id=APP_ID,
        tenant_id=TENANT,
        openid_metadata_url=fake.metadata_url,
        token_url=fake.token_url,
        graph_base_url=fake.graph_url,
        app_password=SECRET,
    )
    return replace(config, **overrides)


def token(service_url: str, *, key: Any = SIGNING_KEY, kid: str = KID, **claims: Any) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": APP_ID,
        "exp": now + 3600,
        "nbf": now - 10,
        "serviceurl": service_url,
        **claims,
    }
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def unsigned(service_url: str) -> str:
    """An `alg=none` token carrying perfectly good claims."""
    header = {"alg": "none", "typ": "JWT", "kid": KID}
    claims = {"iss": ISSUER, "aud": APP_ID, "exp": int(time.time()) + 3600}
    claims["serviceurl"] = service_url
    part = lambda d: jwt.utils.base64url_encode(json.dumps(d).encode()).decode()  # noqa: E731
    return f"{part(header)}.{part(claims)}."


# -- activities ------------------------------------------------------------------------------


def _base(fake: FakeCloud, aad: str, conversation: dict[str, Any]) -> dict[str, Any]:
    user = fake.users.get(aad)
    zone = user.zone if user else "Europe/Amsterdam"
    return {
        "id": f"1{int(time.time() * 1000)}{next(_ids):05d}",
        "channelId": "msteams",
        "serviceUrl": fake.service_url,
        "timestamp": "2026-10-05T09:00:00.000Z",
        "from": {"id": f"29:{aad}", "aadObjectId": aad, "name": user.name if user else aad},
        "recipient": {"id": BOT_ID, "name": "Maatje"},
        "conversation": {"tenantId": TENANT, **conversation},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": user.locale if user else "en-US",
        "localTimezone": zone,
        "entities": [{"type": "clientInfo", "locale": "en-US", "timezone": zone}],
    }


def personal(fake: FakeCloud, aad: str) -> dict[str, Any]:
    return {"conversationType": "personal", "id": fake.conversation_of(aad)}


def message(fake: FakeCloud, aad: str, text: str, conversation: dict | None = None) -> dict:
    return {
        **_base(fake, aad, conversation or personal(fake, aad)),
        "type": "message",
        "text": text,
        "textFormat": "plain",
    }


def card_action(
    fake: FakeCloud, aad: str, data: dict[str, Any], conversation: dict | None = None
) -> dict:
    return {
        **_base(fake, aad, conversation or personal(fake, aad)),
        "type": "invoke",
        "name": "adaptiveCard/action",
        "replyToId": "act-card",
        "value": {"action": {"type": "Action.Execute", "verb": "maatje", "data": data}},
    }


def file_consent(fake: FakeCloud, aad: str, card: dict, accept: bool = True) -> dict:
    attachment = card["attachments"][0]
    name = attachment["name"]
    context = attachment["content"]["acceptContext"]
    value: dict[str, Any] = {"type": "fileUpload", "action": "accept" if accept else "decline"}
    value["context"] = context
    if accept:
        value["uploadInfo"] = {
            "name": name,
            "uploadUrl": f"{fake.root}/upload/{name}",
            "contentUrl": f"https://contoso.sharepoint.com/personal/{aad}/{name}",
            "uniqueId": f"unique-{name}",
            "fileType": name.rsplit(".", 1)[-1],
        }
    return {
        **_base(fake, aad, personal(fake, aad)),
        "type": "invoke",
        "name": "fileConsent/invoke",
        "value": value,
    }


def install(fake: FakeCloud, aad: str) -> dict:
    """What Teams sends when a person adds Maatje: the bot joined their personal chat."""
    return {
        **_base(fake, aad, personal(fake, aad)),
        "type": "conversationUpdate",
        "membersAdded": [{"id": BOT_ID}],
    }


# -- reading what was posted -------------------------------------------------------------------


def text_of(activity: dict[str, Any]) -> str:
    """What a person reads of an activity: its text and its cards' text blocks."""
    parts = [activity.get("text") or ""]
    for attachment in activity.get("attachments") or []:
        content = attachment.get("content") or {}
        for element in content.get("body") or []:
            if element.get("type") == "TextBlock":
                parts.append(element["text"])
    return unescape("\n".join(p for p in parts if p)).replace("\n\n", "\n")


def actions(activity: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for attachment in activity.get("attachments") or []:
        found.extend((attachment.get("content") or {}).get("actions") or [])
    return found


def button(activity: dict[str, Any], title: str) -> dict[str, Any]:
    for action in actions(activity):
        if action.get("title") == title:
            return action["data"]
    raise AssertionError(f"no button {title!r} in {[a.get('title') for a in actions(activity)]}")


def inputs(activity: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for attachment in activity.get("attachments") or []
        for e in (attachment.get("content") or {}).get("body") or []
        if str(e.get("type", "")).startswith("Input.")
    ]


@dataclass
class Answer:
    status: int
    body: Any


@dataclass
class Harness:
    """The fake cloud, the adapter on it, and the real core behind it."""

    fake: FakeCloud
    adapter: TeamsAdapter
    core: Core

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.port}/api/messages"

    async def post(self, activity: dict[str, Any], authorization: str | None = ...) -> Answer:  # type: ignore[assignment]
        """POST an activity as the Bot Framework does (signed unless told otherwise)."""
        if authorization is ...:
            authorization = f"Bearer {token(activity['serviceUrl'])}"
        headers = {"Content-Type": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.url, data=json.dumps(activity), headers=headers) as response,
        ):
            text = await response.text()
            is_json = response.content_type == "application/json"
            return Answer(response.status, json.loads(text) if is_json and text else text)

    async def send(self, activity: dict[str, Any]) -> Answer:
        """Post, require a 2xx, and deliver what the core has to say."""
        answer = await self.post(activity)
        assert 200 <= answer.status < 300, answer
        await self.core.dispatcher.run_due()
        return answer

    async def say(self, aad: str, text: str, conversation: dict | None = None) -> Answer:
        return await self.send(message(self.fake, aad, text, conversation))

    async def click(
        self, aad: str, data: dict[str, Any], conversation: dict | None = None
    ) -> Answer:
        return await self.send(card_action(self.fake, aad, data, conversation))

    def chat(self, aad: str) -> list[dict[str, Any]]:
        return self.fake.activities(self.fake.conversation_of(aad))

    def last(self, aad: str) -> dict[str, Any]:
        posted = self.chat(aad)
        assert posted, f"nothing was posted to {aad}"
        return posted[-1]

    def texts(self, aad: str) -> list[str]:
        return [text_of(a) for a in self.chat(aad)]


def in_chat(chat_id: str) -> dict[str, Any]:
    return {"conversationType": "groupChat", "id": chat_id, "isGroup": True}


def to_bot(fake: FakeCloud, aad: str, text: str, chat_id: str) -> dict[str, Any]:
    """A message in a group chat: Teams passes it to the bot only when the bot is @mentioned."""
    activity = message(fake, aad, f"<at>Maatje</at> {text}", in_chat(chat_id))
    activity["textFormat"] = "xml"
    activity["entities"] = [
        *activity["entities"],
        {
            "type": "mention",
            "text": "<at>Maatje</at>",
            "mentioned": {"id": BOT_ID, "name": "Maatje"},
        },
    ]
    return activity


MENTEE_INTAKE = [
    "Plan my first year better",
    "1,3",
    "2,4",
    "3",
    "20-10-2026",
    "3",
    "1",
    "1",
    "no",
    "4",
    "I want to find my way faster.",
    "yes",
]
MENTOR_INTAKE = ["1,2", "3", "1", "1,2", "01-11-2026", "2", "1,4", "Coaching skills", "yes"]


def form_submit(activity: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The data Teams sends when the form card `activity` is filled in with `values`."""
    [submit] = actions(activity)
    return {**submit["data"], **{f"v_{name}": value for name, value in values.items()}}


async def enrol(
    h: Harness, aad: str, name: str, role: str, form: dict[str, Any], **details: str
) -> None:
    """`name` goes through the whole intake in the personal chat, in English; `details` are
    the fake's `User` fields (e.g. `zone`)."""
    h.fake.add_user(aad, name, **details)
    await h.say(aad, "hello")
    await h.click(aad, button(h.last(aad), "Yes"))
    await h.click(aad, button(h.last(aad), f"As a {role}"))
    answer = await h.click(aad, form_submit(h.last(aad), **form))
    assert "actions" not in answer.body["value"], answer.body
    for text in MENTOR_INTAKE if role == "mentor" else MENTEE_INTAKE:
        await h.say(aad, text)
    assert "intake is complete" in h.texts(aad)[-1], h.texts(aad)[-3:]
