"""Private spaces for mentor groups and pairs, opened through the platform adapters.

`plan_group` / `plan_pairs` write a `space.open` outbox action; the dispatcher carries it out
through the adapter of the mentor's platform (idempotent by key, so a retry after a crash finds
the space instead of making a second one), stores the space on the group or pair, and lets the
programme logic greet people there (`Behaviour.space_opened`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot import outbox
from bot.adapter import Adapter, DeliveryError
from bot.domain import GroupMember, MentorGroup, Pair, PairStatus, Person, Programme
from bot.engine import Engine, Outbound
from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.prepared import Prepared
from bot.replies import Reply
from bot.services import people
from bot.store import Store, loaded, read_prepared

OPEN_SPACE = "space.open"


@dataclass
class Work:
    """What programme logic gets when the core runs something on its behalf (not an event)."""

    session: Session
    engine: Engine
    now: datetime
    outbound: list[Outbound] = field(default_factory=list)
    coordinators_read: bool = False
    """In `space_opened`: the programme's coordinators can read the new space too."""

    def tell(self, person_id: int, reply: Reply, space: SpaceRef | None = None) -> None:
        """A message to a person (their direct space), or a post for everyone in `space`."""
        self.outbound.append(Outbound(person_id, reply, space))

    def start(
        self,
        flow: str,
        person: Person,
        space: SpaceRef,
        ref: PersonRef,
        programme: Programme | None,
        subject: str,
        answers: dict[str, Any] | None = None,
    ) -> None:
        self.outbound.extend(
            self.engine.start(
                self.session,
                flow,
                person,
                space,
                ref,
                self.now,
                programme=programme,
                answers=answers,
                subject=subject,
            )
        )


SpaceOpened = Callable[[Work, str, SpaceRef, list[int]], None]
"""(work, subject "group:<id>" or "pair:<id>", the space, the members to welcome)"""


def space_of(row: MentorGroup | Pair, kind: SpaceKind) -> SpaceRef | None:
    if not row.space_channel or not row.space_platform or row.space_workspace is None:
        return None
    return SpaceRef(row.space_platform, row.space_workspace, row.space_channel, kind)


_PROGRAMME = Programme.__table__
_PROGRAMME_COLUMNS = tuple(_PROGRAMME.c)


def _space_and_programme(model: type[Pair | MentorGroup], *columns: Any) -> Prepared:
    """`columns` of the pair or group whose space is given, then its programme's columns."""
    table = model.__table__  # type: ignore[attr-defined]
    return Prepared(
        select(*columns, *_PROGRAMME_COLUMNS)
        .select_from(table.outerjoin(_PROGRAMME, _PROGRAMME.c.id == table.c.programme_id))
        .where(
            table.c.space_channel == bindparam("channel"),
            table.c.space_platform == bindparam("platform"),
            table.c.space_workspace == bindparam("workspace"),
        )
    )


# Every post to a shared space reads who is in it: built and prepared once (`bot.prepared`),
# the programme read in the same statement.
_PAIR_SPACE = _space_and_programme(Pair, col(Pair.mentor_id), col(Pair.mentee_id))
_GROUP_SPACE = _space_and_programme(MentorGroup, col(MentorGroup.id), col(MentorGroup.mentor_id))
_GROUP_MEMBERS = Prepared(
    select(GroupMember.person_id)
    .where(GroupMember.group_id == bindparam("group"))
    .order_by(col(GroupMember.person_id))
)


def members_of(session: Session, space: SpaceRef) -> tuple[list[int], Programme | None] | None:
    """Who reads a pair or group space (its mentor first) and its programme; None for a space
    that is neither (a direct chat, a channel Maatje was only mentioned in). Changes pending in
    the session are flushed first, as the ORM's reads would; the programme is the session's
    object (`store.loaded`)."""
    if space.kind not in (SpaceKind.PAIR, SpaceKind.GROUP):
        return None
    where = {"channel": space.channel_id, "platform": space.platform, "workspace": space.workspace}
    if space.kind is SpaceKind.PAIR:
        rows = read_prepared(session, _PAIR_SPACE, where)
        if not rows:
            return None
        members, programme = list(rows[0][:2]), rows[0][2:]
    else:
        rows = read_prepared(session, _GROUP_SPACE, where)
        if not rows:
            return None
        (group, mentor), programme = rows[0][:2], rows[0][2:]
        found = read_prepared(session, _GROUP_MEMBERS, {"group": group})
        members = [mentor, *(person_id for (person_id,) in found)]
    if programme[0] is None:
        return members, None
    values = zip(_PROGRAMME_COLUMNS, programme, strict=True)
    return members, loaded(session, Programme, {column.key: value for column, value in values})


def spaces_of(session: Session, person_id: int, platform: str) -> list[SpaceRef]:
    groups = session.exec(select(MentorGroup).where(MentorGroup.mentor_id == person_id)).all()
    groups += session.exec(
        select(MentorGroup)
        .join(GroupMember, GroupMember.group_id == MentorGroup.id)
        .where(GroupMember.person_id == person_id)
    ).all()
    pairs = session.exec(
        select(Pair).where((Pair.mentor_id == person_id) | (Pair.mentee_id == person_id))
    ).all()
    found = [space_of(g, SpaceKind.GROUP) for g in groups]
    found += [space_of(p, SpaceKind.PAIR) for p in pairs if p.status == PairStatus.ACTIVE]
    return [s for s in found if s is not None and s.platform == platform]


def _lane(group_id: int | None) -> str:
    """A group's space and its pairs' spaces open one after another (a pair's space may be a
    thread in the group's); different groups' open side by side."""
    return f"spaces:group:{group_id}"


def plan_group(session: Session, group: MentorGroup, welcome: list[int], now: datetime) -> None:
    """Open the group's space, or bring `welcome` (new members) into the existing one."""
    members = [
        group.mentor_id,
        *session.exec(select(GroupMember.person_id).where(GroupMember.group_id == group.id)).all(),
    ]
    payload = {"subject": f"group:{group.id}", "members": members, "welcome": welcome}
    key = f"space:group:{group.id}:{len(members)}"
    outbox.enqueue(session, OPEN_SPACE, payload, key, now, now, lane=_lane(group.id))


def plan_pairs(session: Session, pairs: list[Pair], now: datetime) -> None:
    """Open each pair's private space (one write for all: approving a programme's matches
    plans thousands at once)."""
    outbox.enqueue_many(
        session,
        (
            {
                "kind": OPEN_SPACE,
                "payload": {
                    "subject": f"pair:{pair.id}",
                    "members": [pair.mentor_id, pair.mentee_id],
                    "welcome": [pair.mentor_id, pair.mentee_id],
                },
                "idempotency_key": f"space:pair:{pair.id}",
                "due_at": now,
                "created_at": now,
                "lane": _lane(pair.group_id),
            }
            for pair in pairs
        ),
    )


class SpaceOpener:
    """The `space.open` platform action."""

    def __init__(
        self,
        store: Store,
        adapters: Mapping[str, Adapter],
        engine: Engine,
        opened: SpaceOpened | None,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.engine = engine
        self.opened = opened

    async def __call__(self, item) -> Callable[[Session, datetime], list[Outbound]] | None:
        subject: str = item.payload["subject"]
        kind_name, _, raw_id = subject.partition(":")
        kind = SpaceKind.GROUP if kind_name == "group" else SpaceKind.PAIR
        with self.store.session() as session:
            row = session.get(MentorGroup if kind is SpaceKind.GROUP else Pair, int(raw_id))
            if row is None:
                return None  # ended or erased meanwhile
            owner = row.mentor_id
            anchor = people.reachable_ref(session, owner)
            if anchor is None:
                raise DeliveryError("the mentor has no platform account", permanent=True)
            refs = [
                ref
                for pid in item.payload["members"]
                if (ref := people.ref_on(session, pid, anchor.platform))
            ]
            parent = None
            if kind is SpaceKind.PAIR:
                group = session.get(MentorGroup, row.group_id)
                parent = space_of(group, SpaceKind.GROUP) if group else None
                if parent is None:
                    raise DeliveryError("the group space is not there yet", retry_after=5)
            name = _space_name(session, row, kind)
        adapter = self.adapters.get(anchor.platform)
        if adapter is None:
            raise DeliveryError(f"platform {anchor.platform} is not running")
        space = await adapter.open_space(kind, name, refs, f"maatje-{subject}", parent)

        def record(session: Session, now: datetime) -> list[Outbound]:
            target = session.get(MentorGroup if kind is SpaceKind.GROUP else Pair, int(raw_id))
            if target is None:
                return []
            target.space_platform, target.space_workspace = space.platform, space.workspace
            target.space_channel = space.channel_id
            session.add(target)
            work = Work(
                session,
                self.engine,
                now,
                coordinators_read=adapter.capabilities.coordinators_read_spaces,
            )
            if self.opened:
                self.opened(work, subject, space, list(item.payload.get("welcome", [])))
            return work.outbound

        return record


def _space_name(session: Session, row: MentorGroup | Pair, kind: SpaceKind) -> str:
    programme = session.get(Programme, row.programme_id)
    slug = programme.slug if programme else "maatje"
    mentor = session.get(Person, row.mentor_id)
    mentor_name = (mentor.display_name if mentor else None) or f"mentor{row.mentor_id}"
    if kind is SpaceKind.GROUP:
        return f"{slug} group {mentor_name}"
    assert isinstance(row, Pair)
    mentee = session.get(Person, row.mentee_id)
    mentee_name = (mentee.display_name if mentee else None) or f"mentee{row.mentee_id}"
    return f"{slug} {mentor_name} {mentee_name}"
