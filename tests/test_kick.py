"""`Core.kick`: work announced at the moment a dispatcher run ends still goes at once.

A run's task has returned before its done-callback removes it from the core's set; a kick in
that gap used to take the finished task for one still running and start nothing, so a reply
handed over just then waited for the scheduler's next tick (up to a second, seen in the
kick-off benchmark with one person writing at a time)."""

from __future__ import annotations

import asyncio

from bot.delivery import enqueue_outbound
from bot.engine import Outbound
from bot.replies import Reply
from bot.services import accounts
from bot.testing import Conversation, build_app, console_adapter


async def test_a_kick_as_a_run_ends_starts_another_run(database_url, clock) -> None:
    console = console_adapter()
    app = build_app(database_url, clock, adapters={"console": console}, auto_dispatch=True)
    try:
        chat = Conversation(app.core, console)
        await chat.send("anna", "hello")
        await app.core.drain()
        chat.new("anna")
        with app.store.session() as session:
            identity = accounts.identity_of(session, chat.ref("anna"))
            assert identity is not None
            enqueue_outbound(
                session, [Outbound(identity.person_id, Reply("ping"))], "kick", clock.now()
            )

        app.core.kick(claim=False)  # a run with nothing to do: it ends in its first step
        asyncio.get_running_loop().call_soon(app.core.kick)  # the message, announced then
        await app.core.drain()

        assert chat.new("anna") == ["ping"]
    finally:
        app.store.dispose()
