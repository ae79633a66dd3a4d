"""What a person tells Maatje about themselves: the name others see and their time zone.

Both win over what their platform reports (`bot.profiles` never overwrites them). Like
everything a person tells Maatje, they are stored only once the person has joined a
programme (consent) — coordinators, who have no intake, at once.
"""

from __future__ import annotations

from bot import Turn, profiles, zones
from bot.domain import Source
from bot.i18n import _l
from bot.services import people


def _may_store(turn: Turn) -> bool:
    if people.may_store_profile(turn.session, turn.person_id):
        return True
    turn.say(
        _l(
            "I can only remember that once you have joined a programme. Send me a message to "
            "start your intake."
        )
    )
    return False


def name_command(turn: Turn, args: tuple[str, ...]) -> None:
    """`name` shows the name others see; `name Anna de Vries` changes it."""
    name = " ".join(args).strip()[: profiles.NAME_LENGTH]
    if not name:
        turn.say(
            _l(
                "Others in your programme see you as {name}. To change it, type 'name' and "
                "the name you want, for example 'name Anna de Vries'.",
                name=turn.person.display_name or "?",
            )
        )
        return
    if not _may_store(turn):
        return
    profiles.set_name(turn.person, name, Source.SELF)
    turn.session.add(turn.person)
    turn.say(_l("Done: from now on others see you as {name}.", name=name))


def timezone_command(turn: Turn, args: tuple[str, ...]) -> None:
    """`timezone` shows the zone times are shown in; `timezone New York` changes it."""
    typed = " ".join(args).strip()
    if not typed:
        turn.say(
            _l(
                "I show dates and times in {zone}. To change it, type 'timezone' and a large "
                "city in your zone or the zone's name, for example 'timezone New York'.",
                zone=people.timezone_of(turn.session, turn.person),
            )
        )
        return
    zone = zones.find(typed)
    if zone is None:
        turn.say(
            _l(
                "I don't know the time zone '{zone}'. Type a large city in your zone, like "
                "New York, or the zone's name, like America/New_York.",
                zone=typed[:60],
            )
        )
        return
    if not _may_store(turn):
        return
    profiles.set_timezone(turn.person, zone, Source.SELF)
    turn.session.add(turn.person)
    turn.say(_l("Done: from now on I show dates and times in {zone}.", zone=zone))
