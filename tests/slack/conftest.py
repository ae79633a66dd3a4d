"""Fixtures for the Slack adapter: a fake Slack on loopback, the adapter's HTTP server on a
free port, signed requests, and the real core (`core_factory`). Any connection or name lookup
off loopback fails the test."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from adapters.slack import SlackAdapter
from tests.slack.slack_fake import FakeSlack
from tests.slack.support import (
    RecordingCore,
    Running,
    SlackPoster,
    load_payload,
    slack_config,
)


def _loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # unix sockets, socketpairs
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection and no DNS lookup beyond this machine (slack.com included)."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guard(address: Any) -> None:
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address}")

    def connect(self: socket.socket, address: Any) -> Any:
        guard(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None:
            guard((name, 0))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def payload() -> Callable[[str], dict[str, Any]]:
    """A stored Slack payload from tests/slack/payloads (a fresh copy each call)."""
    return load_payload


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def running(fake_slack: FakeSlack) -> AsyncIterator[Running]:
    """The adapter's HTTP server on a free port, its Web API client on the fake Slack, and a
    core that records what reaches it."""
    adapter = SlackAdapter(slack_config(fake_slack))
    core = RecordingCore()
    await adapter.start(core)
    yield Running(adapter, core, fake_slack)
    await adapter.stop()


@pytest.fixture
def slack_post(running: Running) -> SlackPoster:
    return SlackPoster(running.url + "/slack/events")


@pytest.fixture
def core_factory(database_url: str, clock: Any) -> Callable[[dict[str, Any]], Any]:
    """Build the real core on one database (SQLite and PostgreSQL, from tests/conftest.py);
    call it again on the same database for a core after a restart."""
    from bot.testing import build_core

    cores: list[Any] = []

    def factory(adapters: dict[str, Any]) -> Any:
        core = build_core(database_url, clock, adapters)
        cores.append(core)
        return core

    yield factory
    for core in cores:
        core.store.dispose()
