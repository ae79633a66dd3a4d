"""Fixtures for the Discord adapter: a fake Discord (REST and gateway) on a free loopback port,
and the adapter on it in front of the real core (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.discord import DiscordAdapter
from bot.testing import build_core
from tests.discord.discord_fake import FakeDiscord
from tests.discord.support import Harness, load_payload, make_adapter


@pytest.fixture
def payload() -> Callable[[str], dict[str, Any]]:
    """A stored Discord payload from tests/discord/payloads (a fresh copy each call)."""
    return load_payload


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def start(fake: FakeDiscord, database_url: str, clock: Any):
    """`await start(**config)` → a `Harness`: a new adapter and a new core on the same
    database each call (a second call is a restart)."""
    started: list[Harness] = []

    async def starter(**overrides: Any) -> Harness:
        for earlier in started:
            await earlier.adapter.stop()
        adapter: DiscordAdapter = make_adapter(fake, **overrides)
        core = build_core(database_url, clock, {"discord": adapter})
        harness = Harness(fake, adapter, core)
        harness.watch()
        await adapter.start(core)
        started.append(harness)
        return harness

    yield starter
    for harness in started:
        await harness.adapter.stop()
        harness.core.store.dispose()


class StubCore:
    """The core's seam as the adapter sees it, for tests of spaces and delivery alone."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    async def handle(self, event: Any) -> Any:
        from bot.core import Outcome

        self.events.append(event)
        return Outcome()


@pytest.fixture
async def running(fake: FakeDiscord):
    """`await running(**config)` → a started adapter in front of a `StubCore` (no database);
    a second call stops the first (a restart)."""
    adapters: list[DiscordAdapter] = []

    async def starter(**overrides: Any) -> DiscordAdapter:
        for earlier in adapters:
            await earlier.stop()
        adapter = make_adapter(fake, **overrides)
        await adapter.start(StubCore())
        adapters.append(adapter)
        return adapter

    yield starter
    for adapter in adapters:
        await adapter.stop()
