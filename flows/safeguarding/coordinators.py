"""What coordinators see of the safety net (and only they): who needs following up, in
`safeguarding`, `status` and `pair NAME`; `safeguarding done NAME` once they have."""

from __future__ import annotations

from sqlmodel import Session

from bot import Turn
from bot.domain import AlertReason, Pair, Person, Programme, SafeguardingAlert
from bot.events import SpaceKind
from bot.i18n import Lines, Text, _l
from bot.services import people
from bot.services import safeguarding as alerts
from flows.safeguarding.notices import WHERE

ANSWERS = {True: _l("yes"), False: _l("no"), None: _l("not answered yet")}


def safeguarding_command(turn: Turn, args: tuple[str, ...]) -> None:
    """`safeguarding`: everyone to follow up; `safeguarding done NAME`: followed up."""
    programmes = people.coordinated_programmes(turn.session, turn.person_id)
    if args and args[0].lower() in ("done", "klaar"):
        _done(turn, programmes, " ".join(args[1:]))
        return
    for programme in programmes:
        lines = [
            _detail(turn, alert) for alert in alerts.open_alerts(turn.session, [programme.id or 0])
        ]
        if lines:
            turn.say(
                _l(
                    "Safety net, {programme}: to follow up\n{lines}\n\nWhen you have been in "
                    "touch: 'safeguarding done NAME'.",
                    programme=programme.name,
                    lines=Lines(tuple(lines)),
                )
            )
        else:
            turn.say(_l("Safety net, {programme}: no one to follow up.", programme=programme.name))


def _detail(turn: Turn, alert: SafeguardingAlert) -> Text:
    flow = turn.engine.flows.get(alert.flow) if alert.flow else None
    where = WHERE.get(SpaceKind(alert.space_kind), WHERE[SpaceKind.GROUP])
    if flow is not None and flow.title is not None:
        where = _l("{space}, during “{conversation}”", space=where, conversation=flow.title)
    return _l(
        "{person}: {reason} on {when}, {where}; may a coordinator contact them: {contact}",
        person=alerts.name_of(turn.session, alert.person_id),
        reason=_l("asked for help now")
        if alert.reason == AlertReason.REQUEST
        else _l("worrying words"),
        when=alert.raised_at,
        where=where,
        contact=ANSWERS[alert.contact],
    )


def _done(turn: Turn, programmes: list[Programme], who: str) -> None:
    if not who:
        turn.say(_l("Whom have you followed up? For example: safeguarding done Anna."))
        return
    ids = [p.id or 0 for p in programmes]
    open_people = {a.person_id for a in alerts.open_alerts(turn.session, ids)}
    found = _matching(turn.session, open_people, who)
    if len(found) != 1:
        turn.say(
            _l("I couldn't find one person to follow up called '{name}'.", name=who[:60])
            if not found
            else _l("'{name}' fits more than one person; type more of the name.", name=who[:60])
        )
        return
    (person_id,) = found
    alerts.close(turn.session, person_id, ids, turn.person_id, turn.now)
    turn.say(
        _l(
            "Thank you. {person} is marked as followed up.",
            person=alerts.name_of(turn.session, person_id),
        )
    )


def _matching(session: Session, person_ids: set[int], who: str) -> set[int]:
    """By name (or its start), chat account id, or `#id`."""
    wanted = who.lstrip("@#").casefold()
    names = {}
    for person_id in person_ids:
        person = session.get(Person, person_id)
        names[person_id] = (person.display_name or "").casefold() if person else ""
    exact = {
        p
        for p, name in names.items()
        if name == wanted or str(p) == wanted or _account(session, p) == wanted
    }
    return exact or {p for p, name in names.items() if name and name.startswith(wanted)}


def _account(session: Session, person_id: int) -> str | None:
    ref = people.reachable_ref(session, person_id)
    return ref.user_id.casefold() if ref else None


def status_lines(session: Session, programme: Programme) -> list[Text]:
    """For `status`: who asked at intake for more help, and whom the safety net flagged."""
    referrals = [
        alerts.name_of(session, p) for p in alerts.asked_for_referral(session, programme.id or 0)
    ]
    flagged = [
        _since(session, alert)
        for alert in first_per_person(alerts.open_alerts(session, [programme.id or 0]))
    ]
    return [
        _l(
            "Asked at intake for more help than mentoring gives: {people}",
            people=referrals or _l("no one"),
        ),
        _l("Safety net, to follow up ('safeguarding'): {people}", people=flagged or _l("no one")),
    ]


def _since(session: Session, alert: SafeguardingAlert) -> Text:
    return _l(
        "{person} (since {when})",
        person=alerts.name_of(session, alert.person_id),
        when=alert.raised_at,
    )


def first_per_person(open_alerts: list[SafeguardingAlert]) -> list[SafeguardingAlert]:
    """Each person once, with their oldest open alert."""
    first: dict[int, SafeguardingAlert] = {}
    for alert in open_alerts:
        first.setdefault(alert.person_id, alert)
    return list(first.values())


def pair_notes(session: Session, pair: Pair) -> Text | None:
    """For `pair NAME`: the safety net's alerts and the intake's referral, for both members."""
    members = (pair.mentor_id, pair.mentee_id)
    notes: list[Text] = []
    referred = set(alerts.asked_for_referral(session, pair.programme_id))
    for person_id in members:
        if person_id in referred:
            notes.append(
                _l(
                    "{person} said at intake they may need more help than mentoring gives.",
                    person=alerts.name_of(session, person_id),
                )
            )
    for alert in alerts.alerts_of(session, list(members)):
        notes.append(
            _l(
                "{when}: the safety net went off for {person} ({state}).",
                when=alert.raised_at,
                person=alerts.name_of(session, alert.person_id),
                state=_l("open") if alert.closed_at is None else _l("followed up"),
            )
        )
    if not notes:
        return None
    return _l("Safeguarding (coordinators only):\n{lines}", lines=Lines(tuple(notes)))
