"""The dispatcher's claim (`bot.dispatcher`): one transaction that records the messages sent
since the last one (`bot.recording`), looks at what is due (`bot.claims.look`, kept by the
dispatcher's `bot.horizon`), claims what the free places allow and reads what the claimed
messages need to be sent (the prefetch).

It runs Core statements on a connection (`Store.transaction`), without an ORM session: the
session's set-up and commit cost more than a claim that finds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import claims
from bot.clock import Clock
from bot.domain import OutboxItem
from bot.horizon import Horizon
from bot.recording import mark_sent
from bot.store import Store

Prefetch = Callable[[Session, list[OutboxItem]], None]
"""Reads what `send` will need for a claimed batch, in the claim's transaction."""


@dataclass(frozen=True)
class Places:
    """How much a claim may take (`claims.claim_found`): in all, of bulk work, of other
    actions (not messages, not jobs), and of jobs."""

    total: int
    bulk: int
    others: int
    jobs: int


@dataclass(frozen=True)
class Claimer:
    """One dispatcher's claims: its store and clock, its worker's name, its job kinds, what
    it knows of the next due time, and what it reads for the messages it claims."""

    store: Store
    clock: Clock
    worker: str
    jobs: Iterable[str]
    horizon: Horizon
    prefetch: Prefetch | None

    def claim(
        self, now: datetime, lease: timedelta, places: Places, sent: Sequence[OutboxItem] = ()
    ) -> list[OutboxItem]:
        """Record `sent` messages done, then look and claim (and read what the claimed
        messages need): one transaction. What the look finds is kept (`horizon`)."""
        with self.store.transaction() as connection:
            farewell = mark_sent(connection, sent, self.worker, self.clock.now())
            self.horizon.looking()
            found = claims.look(connection, now)
            self.horizon.looked(now, found.empty, found.next_due)
            items = claims.claim_found(
                connection,
                found,
                self.worker,
                now,
                lease,
                places.total,
                places.bulk,
                places.others,
                self.jobs,
                places.jobs,
            )
            if items and self.prefetch is not None:
                with self.store.session_on(connection) as session:
                    self.prefetch(session, items)  # in the claim's transaction
        if farewell:
            self.store.checkpoint()
        return items
