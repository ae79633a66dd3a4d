"""`pause until DATE`: no reminders or nudges for a while (holidays, exams, illness).

The pause ends at the start of DATE in the person's own time zone; `pause off` ends it at once.
Stalled-pair checks leave a pair alone while one of them is paused.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot import Turn
from bot.engine.inputs import parse_date
from bot.i18n import _l
from bot.services import people

OFF = ("off", "stop", "end", "uit", "klaar")


def pause(turn: Turn, args: tuple[str, ...]) -> None:
    words = [a for a in args if a.lower() not in ("until", "tot")]
    zone = ZoneInfo(people.timezone_of(turn.session, turn.person))
    if words and words[0].lower() in OFF:
        turn.person.paused_until = None
        turn.session.add(turn.person)
        turn.say(_l("Welcome back! Reminders are on again."))
        return
    day = parse_date(" ".join(words), turn.now.astimezone(zone).date()) if words else None
    if day is None or day <= turn.now.astimezone(zone).date():
        paused = turn.person.paused_until
        if paused and paused > turn.now:
            turn.say(
                _l(
                    "Your reminders are paused until {date}. Type 'pause off' to turn them "
                    "on again.",
                    date=paused.astimezone(zone).date(),
                )
            )
            return
        turn.say(
            _l(
                "To stop my reminders for a while, type for example 'pause until 14-03-2027' "
                "(a date from tomorrow on). 'pause off' turns them on again."
            )
        )
        return
    turn.person.paused_until = datetime.combine(day, time(0), zone).astimezone(ZoneInfo("UTC"))
    turn.session.add(turn.person)
    turn.say(
        _l(
            "Okay: no reminders from me until {date}. Type 'pause off' to turn them on earlier.",
            date=day,
        )
    )
