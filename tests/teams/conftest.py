"""Fixtures for the Teams adapter: the fake Microsoft cloud on a free loopback port, and the
adapter on it in front of the real core (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.teams import TeamsAdapter
from bot.testing import build_core, programme_config
from tests.teams.support import CORA, Harness, teams_config
from tests.teams.teams_fake import FakeCloud


def programme(**overrides: Any):
    coordinators = {"console": ("cora",), "teams": (CORA,)}
    return programme_config(coordinators=coordinators, **overrides)


@pytest.fixture
async def fake() -> AsyncIterator[FakeCloud]:
    cloud = FakeCloud()
    await cloud.start()
    yield cloud
    await cloud.stop()


@pytest.fixture
async def start(fake: FakeCloud, database_url: str, clock: Any):
    """`await start(**config)` → a `Harness`: a new adapter and a new core on the same database
    each call (a second call is a restart)."""
    started: list[Harness] = []

    async def starter(programmes: tuple | None = None, **overrides: Any) -> Harness:
        for earlier in started:
            await earlier.adapter.stop()
        adapter = TeamsAdapter(teams_config(fake, **overrides))
        core = build_core(database_url, clock, {"teams": adapter}, programmes or (programme(),))
        await adapter.start(core)
        harness = Harness(fake, adapter, core)
        started.append(harness)
        return harness

    yield starter
    for harness in started:
        await harness.adapter.stop()
        harness.core.store.dispose()
