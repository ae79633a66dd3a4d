"""Reading one TOML table: typed keys, required or with a default, and unknown keys refused.

Every problem is a `ConfigError` naming the full key (`programmes[1].timezone`) and what is
wrong with it, so start-up can print it and stop.
"""

from __future__ import annotations

from datetime import date
from typing import Any


class ConfigError(ValueError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config: {key}: {problem}")
        self.key = key
        self.problem = problem


class Section:
    """Reads typed keys out of one TOML table, remembering which were used."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, "must be a table")
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise ConfigError(self.key(name), "is required")
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise ConfigError(self.key(name), f"must be {_kind_name(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise ConfigError(self.key(name), f"must be {_kind_name(kinds)}")
        return value

    def text(self, name: str, default: Any = ..., choices: tuple[str, ...] = ()) -> Any:
        value = self.get(name, str, default)
        if value is not None and choices and value not in choices:
            raise ConfigError(self.key(name), f"must be one of {', '.join(choices)}, not {value!r}")
        if value == "" and default is ...:
            raise ConfigError(self.key(name), "must not be empty")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(self.key(unknown[0]), "is not a known key")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        bool: "true or false",
        float: "a number",
        list: "a list",
        dict: "a table",
        date: "a date (YYYY-MM-DD)",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)
