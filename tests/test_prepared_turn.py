"""The statements of a turn prepared once (`bot.prepared`) give what SQLAlchemy's execution
gives, on SQLite and PostgreSQL: the person's account (and what is read along with it), the
run lookups, a run's update, the audience's people and accounts, the members of a shared
space. `members_of` still sees what the session has not flushed yet."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot import audience, spaces
from bot.domain import (
    Consent,
    FlowRun,
    GroupMember,
    Identity,
    Membership,
    MentorGroup,
    Pair,
    Person,
    Programme,
    Role,
    RunStatus,
)
from bot.engine import lookups, runs
from bot.events import SpaceKind, SpaceRef
from bot.prepared import Prepared
from bot.services import accounts, people
from bot.store import Store

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
SLACK = {"platform": "slack", "workspace": "T1"}
PAIR_SPACE = SpaceRef("slack", "T1", "P1", SpaceKind.PAIR)
GROUP_SPACE = SpaceRef("slack", "T1", "G1", SpaceKind.GROUP)


def _seed(store: Store) -> dict[str, int]:
    """A programme with a mentor (a coordinator too), a mentee with two accounts, a consent,
    an active run, and a group and a pair with spaces of their own. Returns their ids."""
    with store.session() as session:
        programme = Programme(
            slug="p",
            name="Programme",
            language="nl",
            timezone="Europe/Amsterdam",
            start=date(2026, 9, 1),
            end=date(2027, 6, 30),
            meeting_cadence="weekly",
            meetings=10,
            settings={"nested": [1, "é", None]},
        )
        mentor = Person(display_name="Mentor", language="nl", created_at=NOW)
        mentee = Person(timezone="Europe/London", paused_until=NOW, created_at=NOW)
        other = Person(created_at=NOW)
        session.add_all([programme, mentor, mentee, other])
        session.flush()
        assert programme.id and mentor.id and mentee.id and other.id
        account = Identity(person_id=mentee.id, user_id="U2", direct_channel="D2", **SLACK)
        session.add_all(
            [
                Identity(person_id=mentor.id, user_id="U1", last_seen_at=NOW, **SLACK),
                account,
                Identity(person_id=mentee.id, platform="discord", workspace="G", user_id="U3"),
            ]
        )
        for person, role in ((mentor, Role.COORDINATOR), (mentee, Role.MENTEE)):
            session.add(
                Membership(programme_id=programme.id, person_id=person.id, role=role, joined_at=NOW)
            )
        session.add(
            Consent(
                person_id=mentee.id,
                programme_id=programme.id,
                purpose="profile",
                text_version=1,
                given=True,
                at=NOW,
            )
        )
        run = FlowRun(
            flow="intake",
            version=1,
            subject=f"person:{mentee.id}",
            person_id=mentee.id,
            programme_id=programme.id,
            space_platform="slack",
            space_workspace="T1",
            space_channel="D2",
            space_kind="direct",
            step="ask",
            ask_seq=2,
            answers={"goal": ["read", "é"], "n": 1.5},
            status=RunStatus.ACTIVE,
            started_at=NOW,
            updated_at=NOW,
        )
        group = MentorGroup(programme_id=programme.id, mentor_id=mentor.id, name="g")
        group.space_platform, group.space_workspace, group.space_channel = "slack", "T1", "G1"
        session.add_all([run, group])
        session.flush()
        assert group.id and run.id and account.id
        session.add_all(
            [
                GroupMember(group_id=group.id, person_id=other.id),
                GroupMember(group_id=group.id, person_id=mentee.id),
                Pair(
                    programme_id=programme.id,
                    group_id=group.id,
                    mentor_id=mentor.id,
                    mentee_id=mentee.id,
                    matched_at=NOW,
                    space_platform="slack",
                    space_workspace="T1",
                    space_channel="P1",
                ),
            ]
        )
        ids = {"mentor": mentor.id, "mentee": mentee.id, "other": other.id, "run": run.id}
        return ids | {"group": group.id, "programme": programme.id, "account": account.id}


@pytest.fixture
def seeded(store: Store) -> tuple[Store, dict[str, int]]:
    return store, _seed(store)


def _typed(rows: Any) -> list[list[tuple[type, Any]]]:
    return [[(type(value), value) for value in row] for row in rows]


Case = Callable[[dict[str, int]], tuple[Prepared, dict[str, Any]]]
ACCOUNT = {**SLACK, "user_id": "U2"}
ACTIVE_IN_DIRECT = {"along_platform": "slack", "along_workspace": "T1", "along_channel": "D2"}
CASES: dict[str, Case] = {
    "resolve": lambda ids: (accounts._RESOLVE, ACCOUNT),
    "account by id": lambda ids: (accounts._BY_ID, {"identity": ids["account"]}),
    "resolve with the run": lambda ids: (
        lookups._ALONG_RUN,
        {**ACCOUNT, "along_run": ids["run"]},
    ),
    "resolve with the active run": lambda ids: (
        lookups._ALONG_ACTIVE,
        {**ACCOUNT, **ACTIVE_IN_DIRECT},
    ),
    "resolve with no active run": lambda ids: (
        lookups._ALONG_ACTIVE,
        {**ACCOUNT, **ACTIVE_IN_DIRECT, "along_channel": "elsewhere"},
    ),
    "the run": lambda ids: (lookups._RUN, {"run": ids["run"]}),
    "the active runs": lambda ids: (
        lookups._ACTIVE_RUNS,
        {"person": ids["mentee"], "platform": "slack", "workspace": "T1", "channel": "D2"},
    ),
    "people and accounts": lambda ids: (
        audience._PEOPLE_AND_ACCOUNTS,
        {"ids": [ids["mentor"], ids["mentee"], ids["other"], 999]},
    ),
    "latest account": lambda ids: (people._LATEST_IDENTITY, {"person": ids["mentee"]}),
    "account on a platform": lambda ids: (
        people._IDENTITY_ON,
        {"person": ids["mentee"], "platform": "slack"},
    ),
    "pair space": lambda ids: (spaces._PAIR_SPACE, {**SLACK, "channel": "P1"}),
    "group space": lambda ids: (spaces._GROUP_SPACE, {**SLACK, "channel": "G1"}),
    "group members": lambda ids: (spaces._GROUP_MEMBERS, {"group": ids["group"]}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_turns_prepared_read_gives_what_sqlalchemy_gives(
    seeded: tuple[Store, dict[str, int]], case: str
) -> None:
    store, ids = seeded
    statement, parameters = CASES[case](ids)
    with store.engine.connect() as connection:
        theirs = _typed(connection.execute(statement.statement, parameters).all())
        ours = _typed(statement.execute(connection, parameters).rows)
    assert ours == theirs
    assert theirs  # the case found something to compare


def _run_row(connection: Connection, run_id: int) -> list[list[tuple[type, Any]]]:
    table = runs.TABLE
    return _typed(connection.execute(select(table).where(table.c.id == run_id)).all())


@pytest.mark.parametrize(
    "changes",
    [
        {"step": "next", "ask_seq": 3, "updated_at": NOW + timedelta(minutes=1)},
        {"answers": {"goal": ["write"], "é": None}, "status": RunStatus.DONE, "version": 2},
    ],
)
def test_a_runs_prepared_update_writes_what_sqlalchemy_writes(
    seeded: tuple[Store, dict[str, int]], changes: dict[str, Any]
) -> None:
    store, ids = seeded
    columns = tuple(changes)
    parameters = {"run_id": ids["run"], **changes}
    prepared = runs._update(columns)
    with store.engine.connect() as connection:
        assert connection.execute(prepared.statement, parameters).rowcount == 1
        theirs = _run_row(connection, ids["run"])
        connection.rollback()
        assert _run_row(connection, ids["run"]) != theirs
        assert prepared.execute(connection, parameters).rowcount == 1
        ours = _run_row(connection, ids["run"])
        connection.rollback()
    assert ours == theirs
    assert runs._update(columns) is prepared  # prepared once per set of columns


def test_members_of_a_shared_space(seeded: tuple[Store, dict[str, int]]) -> None:
    store, ids = seeded
    with store.session() as session:
        held = session.get(Programme, ids["programme"])
        assert spaces.members_of(session, PAIR_SPACE) == ([ids["mentor"], ids["mentee"]], held)
        members, programme = spaces.members_of(session, GROUP_SPACE) or ([], None)
        assert members == [ids["mentor"], *sorted([ids["mentee"], ids["other"]])]
        assert programme is held
        unknown = SpaceRef("slack", "T1", "nowhere", SpaceKind.PAIR)
        assert spaces.members_of(session, unknown) is None
        direct = SpaceRef("slack", "T1", "D2", SpaceKind.DIRECT)
        assert spaces.members_of(session, direct) is None
    with store.session() as session:  # the programme not held yet: read with the members
        _, programme = spaces.members_of(session, PAIR_SPACE) or ([], None)
        assert programme is not None and programme.slug == "p"
        assert programme.start == date(2026, 9, 1)
        assert programme.settings == {"nested": [1, "é", None]}
        assert session.get(Programme, ids["programme"]) is programme


def test_members_of_sees_what_the_session_has_not_flushed(
    seeded: tuple[Store, dict[str, int]],
) -> None:
    store, ids = seeded
    moved = SpaceRef("slack", "T1", "G2", SpaceKind.GROUP)
    with store.session() as session:
        group = session.get(MentorGroup, ids["group"])
        assert group is not None
        group.space_channel = "G2"
        session.add(GroupMember(group_id=ids["group"], person_id=ids["mentor"]))
        found = spaces.members_of(session, moved)
        assert found is not None
        assert found[0] == [ids["mentor"], *sorted(ids[p] for p in ("mentor", "mentee", "other"))]
        assert spaces.members_of(session, GROUP_SPACE) is None
        session.rollback()
