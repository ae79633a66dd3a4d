"""Posting: no pings, nonces, files, long texts, private replies, rate limits and faults."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from adapters.discord.delivery import GLOBAL_BURST, nonce
from adapters.discord.parse import PLATFORM
from bot.adapter import DeliveryError
from bot.domain import OutboxItem
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.pacing import BULK, URGENT, prioritised
from bot.replies import Attachment, Outgoing, OutgoingOption
from tests.discord.discord_fake import APP_ID, GENERAL_ID
from tests.discord.support import ANNA, component, dm_channel, message_create

MESSAGES = r"/channels/\d+/messages"
ANNA_REF = PersonRef(PLATFORM, APP_ID, ANNA)
GENERAL = SpaceRef(PLATFORM, APP_ID, GENERAL_ID, SpaceKind.GROUP)
RATE_LIMITED = {"message": "You are being rate limited.", "retry_after": 0.05, "global": False}


def outgoing(text: str, **fields) -> Outgoing:
    return Outgoing(text, "en", "Europe/Amsterdam", **fields)


async def test_nothing_a_person_typed_can_ping(fake, running):
    adapter = await running()
    typed = adapter.escape("@everyone look <@&800000000000000077> <@100000000000000102> **now**")
    await adapter.send(ANNA_REF, GENERAL, outgoing(f"Anna wrote: {typed}"), "k1")
    [call] = fake.find("POST", MESSAGES)
    assert call.body["allowed_mentions"] == {"parse": []}
    content = call.body["content"]
    assert "@everyone" not in content and "<@&8" not in content and "<@1" not in content
    assert "\\*\\*now\\*\\*" in content
    assert call.body["flags"] & 4  # no link previews


MARKUP = (
    "<#800000000000000010>",  # a channel link
    "</maatje status:810000000000000001>",  # a clickable command
    "<t:1700000000:R>",  # a date shown in the reader's zone
    "<:pepe:810000000000000002>",  # someone's custom emoji
    "<a:dance:810000000000000003>",  # an animated one
    "<id:customize>",  # a guide link
)


@pytest.mark.parametrize("markup", MARKUP)
async def test_markup_a_person_typed_shows_as_typed(fake, running, markup):
    adapter = await running()
    typed = adapter.escape(f"see {markup} now")
    await adapter.send(ANNA_REF, GENERAL, outgoing(f"Anna wrote: {typed}"), "k-markup")
    [call] = fake.find("POST", MESSAGES)
    content = call.body["content"]
    assert markup not in content  # Discord would render it
    assert content.replace("\u200b", "").replace("\\", "").endswith(f"see {markup} now")


async def test_the_same_key_posts_once(fake, running):
    adapter = await running()
    message = outgoing("Your meeting is tomorrow")
    await adapter.send(ANNA_REF, None, message, "msg:reminder:1:0")
    await adapter.send(ANNA_REF, None, message, "msg:reminder:1:0")  # a retry after a crash
    calls = fake.find("POST", MESSAGES)
    assert [c.body["nonce"] for c in calls] == [nonce("msg:reminder:1:0")] * 2
    assert all(c.body["enforce_nonce"] is True for c in calls)
    assert len(fake.posted(dm_channel(ANNA))) == 1


async def test_long_text_is_split_and_files_are_attached(fake, running):
    adapter = await running()
    text = "\n\n".join(f"Paragraph {i} " + "x" * 900 for i in range(5))
    options = (OutgoingOption("a", "A"), OutgoingOption("b", "B"))
    export = Attachment("maatje-export.json", b'{"name": "Anna"}', "application/json")
    message = outgoing(text, choices=options, choice_token="c:privacy", files=(export,))
    await adapter.send(ANNA_REF, None, message, "k2")
    posted = fake.posted(dm_channel(ANNA))
    assert len(posted) == 3
    assert all(len(m["content"]) <= 2000 for m in posted)
    assert "\n\n".join(m["content"] for m in posted) == text  # cut between paragraphs
    assert [bool(m["components"]) for m in posted] == [False, False, True]
    assert posted[-1]["files"] == {"maatje-export.json": b'{"name": "Anna"}'}
    assert len({m["nonce"] for m in posted}) == 3


async def test_a_private_reply_without_an_interaction_goes_to_the_dm(fake, running):
    adapter = await running()
    await adapter.send(ANNA_REF, GENERAL, outgoing("Only for you", ephemeral=True), "k3")
    assert fake.posted(GENERAL_ID) == []
    assert fake.posted(dm_channel(ANNA))[0]["content"] == "Only for you"


async def test_an_unreachable_channel_falls_back_to_the_dm_or_fails_for_good(fake, running):
    adapter = await running()
    fake.fail("POST", rf"/channels/{GENERAL_ID}/messages", 403, {"code": 50001}, times=2)
    await adapter.send(ANNA_REF, GENERAL, outgoing("Hello group"), "k4")
    assert fake.posted(dm_channel(ANNA))[0]["content"] == "Hello group"
    with pytest.raises(DeliveryError) as failed:
        await adapter.send(None, GENERAL, outgoing("Hello group"), "k5")
    assert failed.value.permanent


async def test_a_short_429_is_waited_out_in_place(fake, running):
    adapter = await running()
    fake.fail("POST", MESSAGES, 429, RATE_LIMITED, {"Via": "1.1 google", "Retry-After": "1"})
    await adapter.send(ANNA_REF, None, outgoing("Hello"), "k6")
    assert len(fake.find("POST", MESSAGES)) == 2
    assert [m["content"] for m in fake.posted()] == ["Hello"]


async def test_a_429_without_via_is_handed_to_the_outbox_with_its_wait(fake, running):
    adapter = await running()
    fake.fail("POST", MESSAGES, 429, RATE_LIMITED, {"Retry-After": "7"})  # not from Discord
    with pytest.raises(DeliveryError) as failed:
        await adapter.send(ANNA_REF, None, outgoing("Hello"), "k7")
    assert not failed.value.permanent and failed.value.retry_after == 7.0


async def test_a_long_429_delays_the_reply_but_loses_nothing(start, clock):
    h = await start()
    long_wait = {**RATE_LIMITED, "retry_after": 120}
    fake = h.fake
    fake.fail("POST", MESSAGES, 429, long_wait, {"Via": "1.1 google", "Retry-After": "120"})
    await h.send("MESSAGE_CREATE", message_create(ANNA, "hello"))
    assert fake.posted() == []
    with h.core.store.session() as session:
        [item] = session.exec(select(OutboxItem).where(OutboxItem.kind == "send")).all()
    assert item.done_at is None and "rate limited" in (item.last_error or "")
    assert (item.due_at - clock.now()) >= timedelta(seconds=120)

    await h.core.dispatcher.run_due()
    assert fake.posted() == []  # not yet due
    clock.advance(timedelta(seconds=121))
    await h.core.dispatcher.run_due()
    [posted] = fake.posted()
    assert "May I store" in posted["content"]


async def test_a_private_reply_to_a_button_in_a_channel_is_an_ephemeral_followup(fake, running):
    adapter = await running()
    click = component(ANNA, "mj:c:c:privacy|export", channel_id=GENERAL_ID, guild=True)
    await fake.dispatch("INTERACTION_CREATE", click)
    await fake.wait_for("POST", rf"/interactions/{click['id']}/[^/]+/callback")
    await adapter.idle()
    key = f"msg:discord:{click['id']}:0"
    await adapter.send(ANNA_REF, GENERAL, outgoing("Your data", ephemeral=True), key)
    [followup] = fake.find("POST", rf"/webhooks/{APP_ID}/{click['token']}")
    assert followup.body["flags"] & 64 and followup.body["content"] == "Your data"
    assert followup.body["allowed_mentions"] == {"parse": []}
    assert fake.posted(GENERAL_ID) == []

    fake.fail("POST", rf"/webhooks/{APP_ID}/[^/]+", 404, {"code": 10015})  # token expired
    await adapter.send(ANNA_REF, GENERAL, outgoing("More data", ephemeral=True), key + "1")
    assert fake.posted(dm_channel(ANNA))[-1]["content"] == "More data"


async def test_a_reply_passes_a_poll_queued_for_discords_global_limit(fake, running):
    """Posts wait for Discord's global limit (50 a second per bot), urgent ones first."""
    adapter = await running()

    async def post(text: str, priority: int) -> None:
        with prioritised(priority):
            await adapter.send(None, GENERAL, outgoing(text), f"k-{text}")

    backlog = GLOBAL_BURST + 20
    poll = [asyncio.create_task(post(f"poll {n}", BULK)) for n in range(backlog)]
    await asyncio.sleep(0)  # the poll's posts are all waiting for their turn now
    await post("reply", URGENT)
    texts = [m["content"] for m in fake.posted(GENERAL_ID)]
    assert "reply" in texts
    assert len(texts) < backlog, "the reply waited for the whole poll"
    await asyncio.gather(*poll)
    assert len(fake.posted(GENERAL_ID)) == backlog + 1
