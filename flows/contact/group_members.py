"""A mentor group's members, which group a `groupmeeting` command means, and a message to one
member in the group's space.

The group meeting modules share these: the poll (`group_poll`), its votes and choice
(`group_poll_votes`), the chosen meeting's invites (`group_meetings`) and moving or cancelling
it (`group_meeting_changes`).
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot import Turn
from bot.domain import GroupMember, MentorGroup
from bot.engine import Outbound
from bot.events import SpaceKind
from bot.i18n import Text, _l
from bot.replies import Reply
from bot.services import people
from bot.spaces import space_of

NO_GROUP = {
    "plan": _l(
        "I found no group you can plan a meeting for. Mentors type 'groupmeeting'; "
        "coordinators type 'groupmeeting GROUPNAME'."
    ),
    "move": _l(
        "I found no group whose meeting you can move. Mentors type 'groupmeeting move'; "
        "coordinators type 'groupmeeting move GROUPNAME'."
    ),
    "cancel": _l(
        "I found no group whose meeting you can cancel. Mentors type 'groupmeeting cancel'; "
        "coordinators type 'groupmeeting cancel GROUPNAME'."
    ),
}
WHICH_GROUP = {
    "plan": _l("Which group? Type 'groupmeeting GROUPNAME'; the groups: {names}."),
    "move": _l("Which group? Type 'groupmeeting move GROUPNAME'; the groups: {names}."),
    "cancel": _l("Which group? Type 'groupmeeting cancel GROUPNAME'; the groups: {names}."),
}


def members_of(session: Session, group: MentorGroup) -> list[int]:
    """The mentor first, then the mentees."""
    mentees = session.exec(
        select(GroupMember.person_id)
        .where(GroupMember.group_id == group.id)
        .order_by(col(GroupMember.person_id))
    ).all()
    return [group.mentor_id, *[m for m in mentees if m != group.mentor_id]]


def _groups_for(turn: Turn, wanted: str) -> list[MentorGroup]:
    """The groups this person may start a poll for: their own as mentor, and every group of
    a programme they coordinate; narrowed to the name `wanted` when given."""
    session = turn.session
    groups = list(session.exec(select(MentorGroup).where(MentorGroup.mentor_id == turn.person_id)))
    coordinated = [p.id for p in people.coordinated_programmes(session, turn.person_id)]
    if coordinated:
        groups += [
            g
            for g in session.exec(
                select(MentorGroup)
                .where(col(MentorGroup.programme_id).in_(coordinated))
                .order_by(col(MentorGroup.id))
            )
            if g.id not in {own.id for own in groups}
        ]
    if wanted:
        groups = [g for g in groups if g.name.casefold() == wanted.casefold()]
    return groups


def to_member(session: Session, group: MentorGroup, person_id: int, reply: Reply) -> Outbound:
    """A message addressed to one member in the group space (their direct chat without one)."""
    space = space_of(group, SpaceKind.GROUP)
    ref = people.ref_on(session, person_id, space.platform) if space else None
    if space is None or ref is None:
        return Outbound(person_id, reply)
    return Outbound(person_id, reply, space, ref)


def pick_group(turn: Turn, args: tuple[str, ...], action: str = "plan") -> MentorGroup | None:
    """The one group `args` names (or the only one this person may plan for); otherwise says
    which groups there are and returns None. `action` is "plan", "move" or "cancel"."""
    groups = _groups_for(turn, " ".join(args).strip())
    if not groups:
        turn.say(NO_GROUP[action])
        return None
    if len(groups) > 1:
        turn.say(Text(WHICH_GROUP[action].msgid, {"names": [g.name for g in groups]}))
        return None
    return groups[0]
