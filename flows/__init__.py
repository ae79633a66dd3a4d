"""Maatje's conversations and commands. The application loads this package by name and calls
`behaviour()`; nothing in `bot` imports it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import Behaviour, CommandSpec
from bot.domain import OutboxItem
from bot.engine import Outbound
from bot.i18n import _l
from bot.services import people
from flows import commands, greeting, intake, introductions, kennismaking, matching, pairing, status


def _forget(session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
    """Erase someone who said no to consent, unless they said yes since."""
    person_id = item.payload["person"]
    if not people.has_consented(session, person_id):
        people.erase(session, person_id)
    return []


def behaviour() -> Behaviour:
    listed = [
        CommandSpec(
            "language", commands.language, _l("switch language: 'language nl' or 'language en'")
        ),
        CommandSpec(
            "privacy", commands.privacy, _l("see, download or erase what I store about you")
        ),
        CommandSpec(
            "status",
            status.status,
            _l("the programme at a glance (coordinators)"),
            coordinator_only=True,
        ),
        CommandSpec(
            "match",
            matching.match,
            _l("review, change and approve the matching proposal (coordinators)"),
            coordinator_only=True,
        ),
    ]
    help_spec = CommandSpec("help", commands.help_command(tuple(listed)), _l("this overview"))
    return Behaviour(
        flows=(intake.INTAKE, kennismaking.KENNISMAKING),
        commands=(
            help_spec,
            *listed,
            CommandSpec("join", greeting.join, summary=None, keeps_conversation=False),
            CommandSpec("fit", pairing.fit, summary=None),
        ),
        greet=greeting.greet,
        jobs={intake.FORGET_KIND: _forget, pairing.FIT_CHECK: pairing.fit_check},
        space_opened=introductions.space_opened,
    )
