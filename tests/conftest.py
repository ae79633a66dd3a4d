"""Shared fixtures: both databases, a clock the tests move, no network beyond loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.clock import FrozenClock
from bot.store import Store
from bot.testing import Conversation, build_app, console_adapter, programme_config
from tests.pg_server import PostgresServer

START = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def _loopback(address: object) -> bool:
    if not isinstance(address, tuple):
        return True  # unix sockets
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to somewhere other than this machine fails the test."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(self, address):
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    def connect_ex(self, address):
        if not _loopback(address):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        server.prepare_template()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'maatje.db'}"
    return request.getfixturevalue("postgres").fresh_database()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store without an app (store and dispatcher tests)."""
    store = Store(database_url)
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def console():
    return console_adapter()


@pytest.fixture
def app(database_url: str, clock: FrozenClock, console):
    application = build_app(database_url, clock, adapters={"console": console})
    yield application
    application.store.dispose()


@pytest.fixture
def chat(app, console) -> Conversation:
    return Conversation(app.core, console)


@pytest.fixture
def make_app(database_url, clock):
    """`make_app(**programme settings)` → (app, chat) on the test database."""
    apps = []

    def factory(**settings):
        console = console_adapter()
        app = build_app(
            database_url,
            clock,
            adapters={"console": console},
            programmes=(programme_config(**settings),),
        )
        apps.append(app)
        return app, Conversation(app.core, console)

    yield factory
    for app in apps:
        app.store.dispose()
