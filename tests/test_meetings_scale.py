"""A thousand pairs whose reminders fall in the same minute: every one is enqueued once and
delivered once, while a slow (paced) platform makes the batch outlive its first lease."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot import outbox
from bot.domain import (
    Identity,
    Meeting,
    MeetingStatus,
    MentorGroup,
    OutboxItem,
    Pair,
    Person,
    Programme,
)
from bot.testing import build_app, console_adapter, programme_config
from flows.contact import meeting_nudges

PAIRS = 1000


class PacedConsole:
    """The console adapter, but every post takes a simulated second (as a paced Slack would),
    and it checks that the dispatcher still holds what it has not sent yet."""

    def __init__(self, clock, store) -> None:
        self.inner = console_adapter()
        self.clock = clock
        self.store = store
        self.worker: str | None = None
        self.sent = self.inner.sent
        self.platform, self.capabilities = self.inner.platform, self.inner.capabilities
        self.escape = self.inner.escape

    async def send(self, person, space, message, key) -> None:
        self.clock.advance(timedelta(seconds=1))
        if len(self.sent) % 10 == 0:
            self.check_claims()
        await self.inner.send(person, space, message, key)

    def check_claims(self) -> None:
        with self.store.session() as session:
            held = session.exec(
                select(OutboxItem.claimed_until).where(
                    OutboxItem.claimed_by == self.worker, col(OutboxItem.done_at).is_(None)
                )
            ).all()
        assert all(until > self.clock.now() for until in held), "a claim ran out mid-batch"


def _thousand_pairs(session, now) -> None:
    programme = session.exec(select(Programme)).one()
    people = [
        Person(display_name=f"P{i}", language="en", timezone="Europe/Amsterdam", created_at=now)
        for i in range(2 * PAIRS)
    ]
    session.add_all(people)
    session.flush()
    session.add_all(
        Identity(person_id=p.id, platform="console", workspace="test", user_id=f"u{p.id}")
        for p in people
    )
    groups = [
        MentorGroup(programme_id=programme.id, mentor_id=people[2 * i].id, name=str(i))
        for i in range(PAIRS)
    ]
    session.add_all(groups)
    session.flush()
    pairs = [
        Pair(
            programme_id=programme.id,
            group_id=groups[i].id,
            mentor_id=people[2 * i].id,
            mentee_id=people[2 * i + 1].id,
            matched_at=now,
        )
        for i in range(PAIRS)
    ]
    session.add_all(pairs)
    session.flush()
    start = now + timedelta(hours=25)
    meetings = [
        Meeting(
            programme_id=programme.id,
            pair_id=pair.id,
            number=1,
            starts_at=start,
            status=MeetingStatus.CONFIRMED,
            ics_uid=f"scale-{pair.id}@maatje",
            created_at=now,
        )
        for pair in pairs
    ]
    session.add_all(meetings)
    session.flush()
    for meeting in meetings:
        meeting_nudges.schedule(session, meeting, programme, now)
        meeting_nudges.schedule(session, meeting, programme, now)  # twice: still once


async def test_a_thousand_pairs_reminded_in_the_same_minute(database_url, clock, monkeypatch):
    renewals: list[int] = []
    real_renew = outbox.renew

    def counting_renew(session, ids, worker, until):
        renewals.append(len(ids))
        return real_renew(session, ids, worker, until)

    monkeypatch.setattr(outbox, "renew", counting_renew)
    app = build_app(database_url, clock, programmes=(programme_config(nudge_hours=[24]),))
    adapter = PacedConsole(clock, app.store)
    app.adapters["console"] = adapter
    adapter.worker = app.core.dispatcher.worker
    try:
        with app.store.session() as session:
            _thousand_pairs(session, clock.now())
        with app.store.session() as session:
            kinds = session.exec(select(OutboxItem.kind)).all()
        assert kinds.count(meeting_nudges.NUDGE) == PAIRS
        assert kinds.count(meeting_nudges.PREPARE) == PAIRS

        clock.advance(timedelta(hours=1))  # 24 hours before all thousand meetings
        await app.core.dispatcher.run_due()
        texts = [(who, m.text) for who, m in adapter.sent]
        reminders = [t for t in texts if "starts in 24 hours" in t[1]]
        assert len(reminders) == 2 * PAIRS
        assert len(set(reminders)) == 2 * PAIRS  # each person once
        assert sum("a suggested agenda" in t for _, t in texts) == PAIRS
        assert sum("three short questions" in t for _, t in texts) == PAIRS
        assert len(texts) == 4 * PAIRS
        assert renewals, "the dispatcher never renewed its claims"

        await app.core.dispatcher.run_due()
        assert len(adapter.sent) == 4 * PAIRS
        with app.store.session() as session:
            pending = session.exec(
                select(OutboxItem).where(
                    col(OutboxItem.done_at).is_(None), OutboxItem.due_at <= clock.now()
                )
            ).all()
        assert pending == []
    finally:
        app.store.dispose()
