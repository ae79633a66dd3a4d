"""Maatje's platform-neutral core. Flows and adapters import from here and from the named
submodules `bot.domain`, `bot.engine`, `bot.events`, `bot.i18n`, `bot.replies`, `bot.services`."""

from bot.behaviour import Behaviour, CommandSpec, Turn
from bot.core import Core, Outcome
from bot.home import Home

__all__ = ["Behaviour", "CommandSpec", "Core", "Home", "Outcome", "Turn"]
