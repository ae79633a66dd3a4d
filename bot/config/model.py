"""What a valid configuration is: frozen dataclasses for `config.toml` and its sections.

Reading and checking the file is `bot.config`'s job; these only hold the result, with the
defaults a missing key takes. Secrets (tokens, passwords) are kept out of `repr`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class QuietPeriod:
    start: date
    end: date
    reason: str = ""


@dataclass(frozen=True)
class AgendaItem:
    """One meeting's theme and a suggested exercise (meeting_agenda, in meeting order)."""

    theme: str
    exercise: str = ""


@dataclass(frozen=True)
class ProgrammeConfig:
    name: str
    slug: str
    language: str
    timezone: str
    start: date
    end: date
    meeting_cadence: str
    meetings: int
    quiet_periods: tuple[QuietPeriod, ...] = ()
    coordinators: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    referral: str = ""
    crisis_line: str = ""
    """Shown with `referral` when the safety net goes off or someone asks for help now."""
    intake_reminder_hours: int = 48
    intake_expiry_days: int = 21
    guide_reminder_hours: int = 72
    fit_check_days: int = 7
    mentor_reflection_months: int = 3
    """Every this many months from `start`, mentors get the mentor-quarterly questionnaire
    (0: never)."""
    group_size: int | None = None
    min_fit: float = 0.2
    matching_weights: Mapping[str, float] = field(default_factory=dict)
    meeting_minutes: int = 60
    nudge_hours: tuple[int, ...] = (24, 1)
    meeting_agenda: tuple[AgendaItem, ...] = ()
    """Empty: the four #Ibelong meeting themes that come with Maatje."""
    stalled_first_meeting_days: int = 21
    stalled_missed_in_row: int = 2
    stalled_silence_days: int = 10
    stalled_step_days: int = 3
    digest_weekday: str = "monday"
    retention_days: int = 365
    poll_min_responses: int = 5
    poll_reminder_days: int = 3
    poll_reminders: int = 2
    final_evaluation_anonymous: bool = True
    """The closing's final evaluation (mentees judging their mentor) is anonymous."""
    institution: str = ""
    certificate_signer: str = ""
    certificate_signer_role: str = ""
    certificate_criteria: Mapping[str, Any] = field(
        default_factory=lambda: {"mentees": 1, "meetings": 1}
    )
    certificate_comprised: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class SlackConfig:
    enabled: bool = False
    mode: str = "http"
    host: str = "0.0.0.0"
    port: int = 3000
    path: str = "/slack/events"
    api_base_url: str = "https://slack.com/api/"
    command: str = "/maatje"
    coordinators_join_spaces: bool = False
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DiscordConfig:
    enabled: bool = False
    guild_ids: tuple[int, ...] = ()
    command: str = "maatje"
    pair_space: str = "thread"
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    coordinator_role: str | None = None
    shard_id: int | None = None
    """With `shard_count`: this process's gateway shard (one process per shard)."""
    shard_count: int | None = None
    token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class TeamsConfig:
    enabled: bool = False
    host: str = "0.0.0.0"
    port: int = 3978
    path: str = "/api/messages"
    app_id: str = ""
    """The bot's Microsoft App ID: the audience of inbound tokens, the client of outbound ones."""
    tenant_id: str = ""
    pair_space: str = "chat"
    team_id: str = ""
    openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    token_url: str = "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    app_password: str | None = field(default=None, repr=False)

    @property
    def token_endpoint(self) -> str:
        """`token_url` with `{tenant_id}` filled in."""
        return self.token_url.replace("{tenant_id}", self.tenant_id)


@dataclass(frozen=True)
class HealthConfig:
    """Where `GET /healthz` is served when neither Slack's HTTP mode nor Teams serves it."""

    host: str = "0.0.0.0"
    port: int = 3000


@dataclass(frozen=True)
class SchedulerConfig:
    tick_seconds: float = 1.0
    claim_lease_seconds: float = 60.0
    max_attempts: int = 8
    batch_size: int = 50


@dataclass(frozen=True)
class Config:
    database_url: str = field(default="sqlite:///maatje.db", repr=False)
    one_cpu: bool = True
    """On SQLite, `maatje run` keeps its process on one CPU (`bot.one_cpu`)."""
    console: bool = False
    slack: SlackConfig = field(default_factory=SlackConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    teams: TeamsConfig = field(default_factory=TeamsConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    programmes: tuple[ProgrammeConfig, ...] = ()
    log_level: str = "INFO"
    questionnaires_dirs: tuple[Path, ...] = ()
    """Folders with the programmes' own questionnaire files, after the built-in ones."""
