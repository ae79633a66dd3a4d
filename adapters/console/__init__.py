"""The console adapter: Maatje in a terminal, for the demo and for scripted tests."""

from adapters.console.adapter import ConsoleAdapter, create_adapter
from adapters.console.repl import Repl

__all__ = ["ConsoleAdapter", "Repl", "create_adapter"]
