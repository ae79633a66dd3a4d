"""The seam between the core and a chat platform.

An adapter turns platform traffic into `bot.events` and hands them to `Core.handle`; the core
reaches back only through the methods below. Adapters declare what their platform can show
(`Capabilities`) and keep every platform limit to themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.events import PersonRef, SpaceKind, SpaceRef
from bot.replies import Outgoing

if TYPE_CHECKING:
    from bot.core import Core


@dataclass(frozen=True)
class Capabilities:
    buttons_per_message: int = 5
    options_per_select: int = 100
    modals: bool = True
    max_text_length: int = 4000
    coordinators_read_spaces: bool = False
    """Coordinators can read group and pair spaces (Slack `coordinators_join_spaces`, a
    Discord `coordinator_role`): the pair's welcome says so."""


@dataclass(frozen=True)
class Profile:
    """What a platform says about a person. Any field may be missing; `timezone` is an IANA
    name (`America/New_York`), `locale` a platform locale (`en-US`, `nl`)."""

    display_name: str | None = None
    locale: str | None = None
    timezone: str | None = None


class DeliveryError(Exception):
    """A send failed. Retryable unless `permanent`; `retry_after` is the platform's hint."""

    def __init__(self, reason: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        self.permanent = permanent


class Adapter(Protocol):
    platform: str
    capabilities: Capabilities

    def escape(self, text: str) -> str:
        """Make user-typed text inert on this platform (no mentions, links or markup)."""
        ...

    async def start(self, core: Core) -> None: ...

    async def stop(self) -> None: ...

    async def send(
        self, person: PersonRef | None, space: SpaceRef | None, message: Outgoing, key: str
    ) -> None:
        """Post `message` in `space`, or in a direct conversation with `person` when no space.

        `key` is the message's idempotency key; platforms that support it use it to refuse
        a duplicate post.
        """
        ...

    async def open_space(
        self,
        kind: SpaceKind,
        name: str,
        members: Sequence[PersonRef],
        key: str,
        parent: SpaceRef | None = None,
    ) -> SpaceRef:
        """Create a private space for a pair or group, or find it again by `key`.

        Called again with the same key, it returns the same space and makes sure every member
        given is in it (a mentee added to an existing group). `parent` is the group's space when
        a pair space is opened; platforms that make pair spaces threads open them there.
        """
        ...

    async def profile(self, person: PersonRef) -> Profile:
        """The person's name, locale and time zone as the platform knows them (looked up off
        the hot path by the `profile.refresh` outbox action, at most daily per person). Raise
        `DeliveryError` when the platform cannot answer now."""
        ...

    def lookup_turn(self, person: PersonRef) -> float:
        """Seconds until `profile` may look `person` up within the platform's limits, that
        turn kept for them from now on (0: at once). Called on the store's thread by the turn
        that plans the lookup (`bot.profiles.plan`), so that the lookup is due when it may go
        instead of being tried at once and put off. A platform whose client waits for its
        limits by itself answers 0."""
        ...

    def mention(self, user_id: str, name: str) -> str:
        """Text that mentions (and notifies) a user in a message: Slack `<@U…>`, Discord
        `<@…>`; a platform without mentions writes the name (escaped). The rendered message
        lists whom it mentions in `Outgoing.mentions`."""
        ...
