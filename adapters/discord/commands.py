"""The `/maatje` application command: one command, a subcommand per core command.

The subcommands come from the core's command list at start-up (those with a summary for
`help`), so a command the programme logic adds appears in Discord without touching the
adapter. Each takes one optional free-text option `args` (`/maatje language args:nl`,
`/maatje pairs args:stalled`); a parsed `/maatje <name> args:<words>` becomes
`Command(name, words)`. Descriptions are translated into every language Maatje speaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Discord's interaction contexts and installation types
GUILD, BOT_DM = 0, 1
GUILD_INSTALL = 0
_SUB_COMMAND, _STRING = 1, 3
DESCRIPTION = 100
_NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
# Discord's locale names for the languages Maatje speaks (English is the default text).
LOCALES = {"nl": ("nl",), "en": ("en-US", "en-GB")}
# The adapter's own words (the core's catalogues hold the programme's texts, not Discord's UI).
COMMAND_DESCRIPTION = {"en": "Maatje, your mentoring programme", "nl": "Maatje, je mentorprogramma"}
ARGS_DESCRIPTION = {
    "en": "more words for the command, for example 'nl' after language",
    "nl": "meer woorden voor de opdracht, bijvoorbeeld 'nl' na language",
}


@dataclass(frozen=True)
class Subcommand:
    name: str
    descriptions: dict[str, str]
    """Description per language (`en` is the default)."""


def _description(text: str) -> str:
    text = " ".join(text.split()) or "-"
    return text if len(text) <= DESCRIPTION else text[: DESCRIPTION - 1] + "…"


def _localised(descriptions: dict[str, str]) -> dict[str, str]:
    localised: dict[str, str] = {}
    for language, text in descriptions.items():
        for locale in LOCALES.get(language, ()):
            localised[locale] = _description(text)
    return localised


def definition(
    command: str,
    subcommands: Iterable[Subcommand],
    contexts: Iterable[int] | None = (GUILD, BOT_DM),
) -> dict[str, Any]:
    """The command as Discord's bulk-overwrite endpoint takes it. `contexts` (where a global
    command may be used) is None for a guild's own command, which Discord scopes itself."""
    own, args = COMMAND_DESCRIPTION, ARGS_DESCRIPTION
    options = []
    for sub in subcommands:
        if not _NAME.match(sub.name):
            continue  # a core command Discord cannot name; reachable through buttons only
        options.append(
            {
                "type": _SUB_COMMAND,
                "name": sub.name,
                "description": _description(sub.descriptions.get("en", sub.name)),
                "description_localizations": _localised(sub.descriptions),
                "options": [
                    {
                        "type": _STRING,
                        "name": "args",
                        "description": _description(args.get("en", "args")),
                        "description_localizations": _localised(args),
                        "required": False,
                        "max_length": 200,
                    }
                ],
            }
        )
    definition: dict[str, Any] = {
        "name": command,
        "type": 1,
        "description": _description(own.get("en", command)),
        "description_localizations": _localised(own),
        "options": options[:25],
    }
    if contexts is not None:
        definition["contexts"] = list(contexts)
        definition["integration_types"] = [GUILD_INSTALL]
    return definition
