"""The domain model (SQLModel tables)."""

from bot.domain.conversations import FlowRun, RunStatus
from bot.domain.outbox import OutboxItem, ProcessedEvent
from bot.domain.pairs import MatchProposal, Pair, PairStatus, ProposalStatus
from bot.domain.people import Consent, Identity, IntakeAnswer, Person
from bot.domain.programmes import (
    GroupMember,
    IntakeState,
    Membership,
    MentorGroup,
    Programme,
    Role,
)

__all__ = [
    "Consent",
    "FlowRun",
    "GroupMember",
    "Identity",
    "IntakeAnswer",
    "IntakeState",
    "MatchProposal",
    "Membership",
    "MentorGroup",
    "OutboxItem",
    "Pair",
    "PairStatus",
    "Person",
    "ProcessedEvent",
    "Programme",
    "ProposalStatus",
    "Role",
    "RunStatus",
]
