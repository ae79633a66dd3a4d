"""What adapters read about a person by their platform account, outside any event: the
overview (Slack's App Home), the language Maatje speaks with them, the spaces they are in.

Read only: each read is its own unit of work on the store, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlmodel import Session

from bot import spaces
from bot.domain import Person
from bot.engine import Flow, runs
from bot.events import PersonRef, SpaceRef
from bot.i18n import DEFAULT_LANGUAGE, Translator, _l
from bot.services import accounts, people, safeguarding
from bot.store import Store


@dataclass(frozen=True)
class Home:
    """A person's overview (Slack's App Home), translated for them."""

    title: str
    programme: str | None
    next_meeting: str | None
    tasks: tuple[str, ...] = field(default=())


def language_of(store: Store, ref: PersonRef) -> str:
    """The language Maatje speaks with the person behind `ref`."""
    with store.session() as session:
        return _language(session, _person(session, ref))


def spaces_of(store: Store, ref: PersonRef) -> list[SpaceRef]:
    """The group and pair spaces this person is in, on the platform of `ref`."""
    with store.session() as session:
        identity = accounts.identity_of(session, ref)
        if identity is None:
            return []
        return spaces.spaces_of(session, identity.person_id, ref.platform)


def home_of(
    store: Store, translator: Translator, flows: Mapping[str, Flow], ref: PersonRef
) -> Home:
    """The person's overview: their programme, then what they have to do — for coordinators
    first whom to follow up, then the conversations they have going (by `flows`' titles)."""
    with store.session() as session:
        person = _person(session, ref)
        language = _language(session, person)
        render = lambda text: translator.render(text, language)  # noqa: E731
        title = render(_l("Maatje, your mentoring programme"))
        if person is None or person.id is None:
            return Home(title, None, None, (render(_l("Send me a message to get started.")),))
        programme = people.main_programme(session, person.id)
        going = runs.select_where(session, runs.IS_ACTIVE, runs.TABLE.c.person_id == person.id)
        tasks = tuple(
            render(flow.title) for run in going if (flow := flows.get(run.flow)) and flow.title
        )
        return Home(
            title,
            programme.name if programme else None,
            None,
            (*_to_follow_up(session, translator, person, language), *tasks),
        )


def _person(session: Session, ref: PersonRef) -> Person | None:
    identity = accounts.identity_of(session, ref)
    return session.get(Person, identity.person_id) if identity else None


def _language(session: Session, person: Person | None) -> str:
    return people.language_of(session, person) if person else DEFAULT_LANGUAGE


def _to_follow_up(
    session: Session, translator: Translator, person: Person, language: str
) -> list[str]:
    """For coordinators only: whom the safety net flagged (docs/safeguarding.md)."""
    coordinated = [p.id or 0 for p in people.coordinated_programmes(session, person.id or 0)]
    if not coordinated:
        return []
    timezone = people.timezone_of(session, person)
    return [
        translator.render(
            _l(
                "Safety net: get in touch with {person} (since {when})",
                person=safeguarding.name_of(session, alert.person_id),
                when=alert.raised_at,
            ),
            language,
            timezone,
        )
        for alert in {
            a.person_id: a for a in reversed(safeguarding.open_alerts(session, coordinated))
        }.values()
    ]
