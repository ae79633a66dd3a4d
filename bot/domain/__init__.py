"""The domain model (SQLModel tables)."""

from bot.domain.conversations import FlowRun, RunStatus
from bot.domain.goals import CheckIn, Goal, GoalStatus
from bot.domain.inbox import InboxEvent
from bot.domain.meetings import OPEN_MEETING, Escalation, Meeting, MeetingStatus
from bot.domain.outbox import OutboxItem, ProcessedEvent
from bot.domain.pairs import (
    EndRequest,
    EndSource,
    MatchProposal,
    Pair,
    PairStatus,
    ProposalStatus,
)
from bot.domain.people import Consent, Identity, IntakeAnswer, Person, Source
from bot.domain.platform import ConversationReference, HeldFile
from bot.domain.polls import Poll, PollInvite, PollResponse, PollStatus
from bot.domain.programmes import (
    Grant,
    GroupMember,
    IntakeState,
    Membership,
    MentorGroup,
    Programme,
    Role,
)
from bot.domain.safeguarding import AlertReason, SafeguardingAlert

__all__ = [
    "OPEN_MEETING",
    "AlertReason",
    "CheckIn",
    "Consent",
    "ConversationReference",
    "EndRequest",
    "EndSource",
    "Escalation",
    "FlowRun",
    "Goal",
    "GoalStatus",
    "Grant",
    "GroupMember",
    "HeldFile",
    "Identity",
    "InboxEvent",
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
    "SafeguardingAlert",
    "Source",
]
