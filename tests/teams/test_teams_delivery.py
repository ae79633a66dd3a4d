"""Delivery through the Bot Connector: Teams' 429 and Retry-After reach the outbox as a
retryable error with Teams' wait, refusals as permanent ones, and a message of several parts
is never posted twice when a later part failed."""

from __future__ import annotations

import pytest
from aiohttp import web

from bot.adapter import DeliveryError
from bot.events import PersonRef
from bot.replies import Outgoing
from tests.teams.support import ANNA, text_of
from tests.teams.teams_fake import TENANT

POSTS = r"/svc/v3/conversations/.+/activities"


async def ready(start, fake):
    h = await start()
    fake.add_user(ANNA, "Anna")
    await h.say(ANNA, "hello")  # Anna's personal chat is known from here on
    return h, PersonRef("teams", TENANT, ANNA)


async def test_throttling_is_retryable_with_teams_wait(start, fake):
    h, anna = await ready(start, fake)
    fake.fail(POSTS, 429, **{"Retry-After": "7"})
    with pytest.raises(DeliveryError) as refused:
        await h.adapter.send(anna, None, Outgoing("Hi", "en", "UTC"), "k:429")
    assert refused.value.retry_after == 7.0 and not refused.value.permanent
    await h.adapter.send(anna, None, Outgoing("Hi", "en", "UTC"), "k:429")
    assert text_of(h.chat(ANNA)[-1]) == "Hi"


async def test_a_refusal_is_permanent(start, fake):
    h, anna = await ready(start, fake)
    fake.fail(POSTS, 403)
    with pytest.raises(DeliveryError) as refused:
        await h.adapter.send(anna, None, Outgoing("Hi", "en", "UTC"), "k:403")
    assert refused.value.permanent


async def test_a_long_message_is_not_posted_twice_after_a_failed_part(start, fake):
    h, anna = await ready(start, fake)
    words = " ".join(f"word{i}" for i in range(3000))
    long = Outgoing(words, "en", "UTC")  # three activities of at most 12,000 characters
    fake.posted.clear()
    answer_normally = fake._connector
    tried: list[str] = []

    def second_refused(method: str, path: str, body: object) -> web.Response:
        tried.append(path)
        if len(tried) == 2:
            return web.json_response({"error": "busy"}, status=503)
        return answer_normally(method, path, body)

    fake._connector = second_refused
    with pytest.raises(DeliveryError):
        await h.adapter.send(anna, None, long, "k:long")
    await h.adapter.send(anna, None, long, "k:long")  # the outbox tries again
    texts = [a["text"] for a in h.chat(ANNA)]
    assert len(tried) == 4 and len(texts) == len(set(texts)) == 3
