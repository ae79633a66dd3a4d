"""Coordinator rights follow config.toml: whoever leaves a programme's `coordinators` list loses
the rights at the next start, with a log line; whoever stays keeps them. (Rights from a
Discord role: tests/discord/test_discord_roles.py.)"""

from __future__ import annotations

import logging

from bot.testing import Conversation, build_app, console_adapter, programme_config

REFUSED = "only the programme's coordinators"


def started(database_url, clock, coordinators: tuple[str, ...]):
    console = console_adapter()
    programme = programme_config(coordinators={"console": coordinators})
    app = build_app(database_url, clock, adapters={"console": console}, programmes=(programme,))
    return app, Conversation(app.core, console)


async def test_a_coordinator_left_out_of_the_config_loses_the_rights_at_the_next_start(
    database_url, clock, caplog
) -> None:
    first, chat = started(database_url, clock, ("cora", "dora"))
    for who in ("cora", "dora"):
        await chat.command(who, "status")
        assert "Mentoraat Test" in chat.last(who)
    first.store.dispose()

    caplog.set_level(logging.WARNING)
    second, chat = started(database_url, clock, ("dora",))  # cora was taken off the list
    try:
        ended = [r.getMessage() for r in caplog.records if "coordinator rights" in r.getMessage()]
        assert len(ended) == 1, ended
        assert "programme test ended: no longer listed" in ended[0]
        await chat.command("cora", "status")
        assert REFUSED in chat.last("cora")
        await chat.command("dora", "status")
        assert "Mentoraat Test" in chat.last("dora")
    finally:
        second.store.dispose()

    third, chat = started(database_url, clock, ("cora", "dora"))  # and put back on it
    try:
        await chat.command("cora", "status")
        assert "Mentoraat Test" in chat.last("cora")
    finally:
        third.store.dispose()
