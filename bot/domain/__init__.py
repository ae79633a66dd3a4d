"""The domain model (SQLModel tables)."""

from bot.domain.conversations import FlowRun, RunStatus
from bot.domain.goals import CheckIn, Goal, GoalStatus
from bot.domain.meetings import OPEN_MEETING, Escalation, Meeting, MeetingStatus
from bot.domain.outbox import OutboxItem, ProcessedEvent
from bot.domain.pairs import MatchProposal, Pair, PairStatus, ProposalStatus
from bot.domain.people import Consent, Identity, IntakeAnswer, Person
from bot.domain.platform import ConversationReference, HeldFile
from bot.domain.polls import Poll, PollInvite, PollResponse, PollStatus
from bot.domain.programmes import (
    GroupMember,
    IntakeState,
    Membership,
    MentorGroup,
    Programme,
    Role,
)

__all__ = [
    "OPEN_MEETING",
    "CheckIn",
    "Consent",
    "ConversationReference",
    "Escalation",
    "FlowRun",
    "Goal",
    "GoalStatus",
    "GroupMember",
    "HeldFile",
    "Identity",
    "IntakeAnswer",
    "IntakeState",
    "MatchProposal",
    "Meeting",
    "MeetingStatus",
    "Membership",
    "MentorGroup",
    "OutboxItem",
    "Pair",
    "PairStatus",
    "Person",
    "Poll",
    "PollInvite",
    "PollResponse",
    "PollStatus",
    "ProcessedEvent",
    "Programme",
    "ProposalStatus",
    "Role",
    "RunStatus",
]
