"""Telling the coordinators: on an alert they get a private message naming the person and
where it happened — not what they wrote, unless the person agrees (`answers.py`). Mentors are
never told. What coordinators see afterwards is in `coordinators.py`.
"""

from __future__ import annotations

import logging

from bot import Turn
from bot.domain import AlertReason, Programme, SafeguardingAlert
from bot.events import SpaceKind
from bot.i18n import Text, _l
from bot.replies import Reply
from bot.services import people
from bot.services import safeguarding as alerts

log = logging.getLogger("flows.safeguarding.net")  # one logger for the whole safety net

WHERE = {
    SpaceKind.DIRECT: _l("in their direct chat with me"),
    SpaceKind.PAIR: _l("in their pair space"),
    SpaceKind.GROUP: _l("in a group space"),
    SpaceKind.COORDINATORS: _l("in a group space"),
}


def coordinators_besides(turn: Turn, programme: Programme | None) -> list[int]:
    """The programme's coordinators other than the person themself (who may coordinate)."""
    if programme is None or programme.id is None:
        return []
    return [c for c in people.coordinators_of(turn.session, programme.id) if c != turn.person_id]


def tell_coordinators(
    turn: Turn,
    alert: SafeguardingAlert,
    programme: Programme | None,
    conversation: Text | None,
) -> int:
    """Tell the coordinators of a new alert; how many were told."""
    if programme is None or programme.id is None:
        log.warning("safeguarding: alert %s has no programme and no coordinator", alert.id)
        return 0
    where = WHERE[turn.space.kind]
    if conversation is not None:
        where = _l("{space}, during “{conversation}”", space=where, conversation=conversation)
    params = {
        "person": alerts.name_of(turn.session, turn.person_id),
        "where": where,
        "programme": programme.name,
    }
    if alert.reason == AlertReason.REQUEST:
        text = _l(
            "Safety net: {person} asked for help now ('hulp' / 'help now'), {where} "
            "({programme}). They were shown the crisis line and the referral text and "
            "asked whether a coordinator may contact them; I will tell you their answer. "
            "'safeguarding' lists everyone to follow up.",
            **params,
        )
    else:
        text = _l(
            "Safety net: {person} may be in danger: something they wrote {where} "
            "({programme}) matched the safety net's phrases. They were shown the crisis "
            "line and the referral text and asked whether a coordinator may contact them; "
            "I will tell you their answer. What they wrote stays private unless they agree "
            "to share it. 'safeguarding' lists everyone to follow up.",
            **params,
        )
    coordinators = coordinators_besides(turn, programme)
    for coordinator in coordinators:
        turn.tell(coordinator, Reply(text))
    if not coordinators:
        log.warning(
            "safeguarding: no coordinator of %s to tell about alert %s",
            programme.slug,
            alert.id,
        )
    return len(coordinators)


def notify(turn: Turn, programme: Programme | None, notice: Text) -> None:
    """Pass the person's answer on to the coordinators."""
    for coordinator in coordinators_besides(turn, programme):
        turn.tell(coordinator, Reply(notice))
