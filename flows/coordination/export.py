"""`export` for coordinators: the programme's pairs, meetings, goals and polls as CSV files."""

from __future__ import annotations

from bot import Turn
from bot.i18n import _l
from bot.replies import Attachment
from bot.services import people
from bot.services.export import export


def export_command(turn: Turn, args: tuple[str, ...]) -> None:
    for programme in people.coordinated_programmes(turn.session, turn.person_id):
        files = export(turn.session, programme)
        turn.say(
            _l(
                "The export of {programme}: pairs, meetings, goals and poll counts, as CSV files "
                "(they open in a spreadsheet).",
                programme=programme.name,
            ),
            files=tuple(
                Attachment(f"{programme.slug}-{name}", content, "text/csv")
                for name, content in files.items()
            ),
        )
