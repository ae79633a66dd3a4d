"""Configuration: `config.toml` read with tomllib, validated into frozen dataclasses.

Secrets come only from the environment. An invalid file raises `ConfigError` whose message
names the key (`programmes[1].timezone`) and what is wrong with it; start-up prints it and
stops. Every key is documented in `config.example.toml`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import LANGUAGES

CADENCES = ("weekly", "biweekly", "monthly")
MIN_POLL_RESPONSES = 5
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config: {key}: {problem}")
        self.key = key
        self.problem = problem


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


class _Section:
    """Reads typed keys out of one TOML table, remembering which were used."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, "must be a table")
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(name)
        if name not in self.data:
            if default is ...:
                raise ConfigError(self.key(name), "is required")
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise ConfigError(self.key(name), f"must be {_kind_name(kinds)}, not a boolean")
        if not isinstance(value, kinds):
            raise ConfigError(self.key(name), f"must be {_kind_name(kinds)}")
        return value

    def text(self, name: str, default: Any = ..., choices: tuple[str, ...] = ()) -> Any:
        value = self.get(name, str, default)
        if value is not None and choices and value not in choices:
            raise ConfigError(self.key(name), f"must be one of {', '.join(choices)}, not {value!r}")
        if value == "" and default is ...:
            raise ConfigError(self.key(name), "must not be empty")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(self.key(unknown[0]), "is not a known key")


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "a whole number",
        bool: "true or false",
        float: "a number",
        list: "a list",
        dict: "a table",
        date: "a date (YYYY-MM-DD)",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _timezone(section: _Section, name: str, default: Any = ...) -> str:
    value = section.text(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(section.key(name), f"unknown time zone {value!r}") from None
    return value


def _date(section: _Section, name: str) -> date:
    value = section.get(name, (date, str))
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                section.key(name), f"must be a date (YYYY-MM-DD), not {value!r}"
            ) from None
    return value


WEIGHT_KEYS = ("field", "topics", "availability", "language")


def _weights(s: _Section) -> dict[str, float]:
    w = _Section(s.get("matching_weights", dict, {}), s.key("matching_weights"))
    weights = {}
    for key in WEIGHT_KEYS:
        value = w.get(key, (int, float), None)
        if value is not None:
            if value < 0:
                raise ConfigError(w.key(key), "must not be negative")
            weights[key] = float(value)
    w.finish()
    return weights


def _agenda(s: _Section) -> tuple[AgendaItem, ...]:
    items = []
    for i, raw in enumerate(s.get("meeting_agenda", list, [])):
        a = _Section(raw, f"{s.key('meeting_agenda')}[{i}]")
        items.append(AgendaItem(a.text("theme"), a.text("exercise", "")))
        a.finish()
    return tuple(items)


def _nudge_hours(s: _Section) -> tuple[int, ...]:
    hours = s.get("nudge_hours", list, [24, 1])
    if not all(isinstance(h, int) and not isinstance(h, bool) and 0 < h <= 24 * 14 for h in hours):
        raise ConfigError(s.key("nudge_hours"), "must be a list of whole hours from 1 to 336")
    return tuple(sorted(set(hours), reverse=True))


def _meeting_keys(s: _Section) -> dict[str, Any]:
    values = {
        "meeting_minutes": s.get("meeting_minutes", int, 60),
        "nudge_hours": _nudge_hours(s),
        "meeting_agenda": _agenda(s),
        "stalled_first_meeting_days": s.get("stalled_first_meeting_days", int, 21),
        "stalled_missed_in_row": s.get("stalled_missed_in_row", int, 2),
        "stalled_silence_days": s.get("stalled_silence_days", int, 10),
        "stalled_step_days": s.get("stalled_step_days", int, 3),
        "digest_weekday": s.text("digest_weekday", "monday", choices=WEEKDAYS),
    }
    if not 10 <= values["meeting_minutes"] <= 480:
        raise ConfigError(s.key("meeting_minutes"), "must be between 10 and 480")
    for key in ("stalled_first_meeting_days", "stalled_missed_in_row", "stalled_silence_days"):
        if values[key] < 0:
            raise ConfigError(s.key(key), "must not be negative (0 switches the rule off)")
    if values["stalled_step_days"] < 1:
        raise ConfigError(s.key("stalled_step_days"), "must be at least 1")
    return values


def _evaluation_keys(s: _Section) -> dict[str, Any]:
    """Polls (the k threshold, reminders) and certificates (text and criteria)."""
    c = _Section(s.get("certificate_criteria", dict, {"mentees": 1}), s.key("certificate_criteria"))
    criteria = {
        "mentees": c.get("mentees", int, 1),
        "meetings": c.get("meetings", int, 1),
        "evaluation": c.text("evaluation", ""),
    }
    c.finish()
    comprised = []
    for i, raw in enumerate(s.get("certificate_comprised", list, [])):
        entry = _Section(raw, f"{s.key('certificate_comprised')}[{i}]")
        comprised.append({"nl": entry.text("nl"), "en": entry.text("en")})
        entry.finish()
    values = {
        "retention_days": s.get("retention_days", int, 365),
        "poll_min_responses": s.get("poll_min_responses", int, 5),
        "poll_reminder_days": s.get("poll_reminder_days", int, 3),
        "poll_reminders": s.get("poll_reminders", int, 2),
        "final_evaluation_anonymous": s.get("final_evaluation_anonymous", bool, True),
        "institution": s.text("institution", ""),
        "certificate_signer": s.text("certificate_signer", ""),
        "certificate_signer_role": s.text("certificate_signer_role", ""),
        "certificate_criteria": criteria,
        "certificate_comprised": tuple(comprised),
    }
    if values["retention_days"] < 0:
        raise ConfigError(s.key("retention_days"), "must not be negative (0 keeps everything)")
    if values["poll_min_responses"] < MIN_POLL_RESPONSES:
        raise ConfigError(
            s.key("poll_min_responses"),
            f"must be at least {MIN_POLL_RESPONSES}: with fewer answers, results can show "
            "who said what",
        )
    return values


def _programme(data: Any, index: int) -> ProgrammeConfig:
    s = _Section(data, f"programmes[{index}]")
    slug = s.text("slug")
    if not slug.replace("-", "").replace("_", "").isalnum() or slug.lower() != slug:
        raise ConfigError(s.key("slug"), "use lower-case letters, digits, '-' and '_' only")
    start, end = _date(s, "start"), _date(s, "end")
    if end < start:
        raise ConfigError(s.key("end"), "must not be before start")
    meetings = s.get("meetings", int)
    if not 1 <= meetings <= 52:
        raise ConfigError(s.key("meetings"), "must be between 1 and 52")
    quiet = []
    for i, item in enumerate(s.get("quiet_periods", list, [])):
        q = _Section(item, f"{s.key('quiet_periods')}[{i}]")
        period = QuietPeriod(_date(q, "from"), _date(q, "to"), q.text("reason", ""))
        if period.end < period.start:
            raise ConfigError(q.key("to"), "must not be before 'from'")
        q.finish()
        quiet.append(period)
    coordinators = {}
    c = _Section(s.get("coordinators", dict, {}), s.key("coordinators"))
    for platform in ("slack", "discord", "teams", "console"):
        ids = c.get(platform, list, [])
        if not all(isinstance(i, str | int) and not isinstance(i, bool) for i in ids):
            raise ConfigError(c.key(platform), "must be a list of user ids")
        coordinators[platform] = tuple(str(i) for i in ids)
    c.finish()
    programme = ProgrammeConfig(
        name=s.text("name"),
        slug=slug,
        language=s.text("language", choices=LANGUAGES),
        timezone=_timezone(s, "timezone"),
        start=start,
        end=end,
        meeting_cadence=s.text("meeting_cadence", choices=CADENCES),
        meetings=meetings,
        quiet_periods=tuple(quiet),
        coordinators=coordinators,
        referral=s.text("referral", ""),
        crisis_line=s.text("crisis_line", ""),
        intake_reminder_hours=s.get("intake_reminder_hours", int, 48),
        intake_expiry_days=s.get("intake_expiry_days", int, 21),
        guide_reminder_hours=s.get("guide_reminder_hours", int, 72),
        fit_check_days=s.get("fit_check_days", int, 7),
        mentor_reflection_months=s.get("mentor_reflection_months", int, 3),
        group_size=s.get("group_size", int, None),
        min_fit=float(s.get("min_fit", (int, float), 0.2)),
        matching_weights=_weights(s),
        **_meeting_keys(s),
        **_evaluation_keys(s),
    )
    if not 0 <= programme.mentor_reflection_months <= 12:
        raise ConfigError(s.key("mentor_reflection_months"), "must be between 0 and 12")
    if programme.group_size is not None and programme.group_size < 1:
        raise ConfigError(s.key("group_size"), "must be at least 1")
    if not 0 <= programme.min_fit <= 1:
        raise ConfigError(s.key("min_fit"), "must be between 0 and 1")
    s.finish()
    return programme


def _slack(data: Any, env: Mapping[str, str]) -> SlackConfig:
    s = _Section(data, "slack")
    cfg = SlackConfig(
        enabled=s.get("enabled", bool, False),
        mode=s.text("mode", "http", choices=("http", "socket")),
        host=s.text("host", "0.0.0.0"),
        port=s.get("port", int, 3000),
        path=s.text("path", "/slack/events"),
        api_base_url=s.text("api_base_url", "https://slack.com/api/"),
        command=s.text("command", "/maatje"),
        coordinators_join_spaces=s.get("coordinators_join_spaces", bool, False),
        bot_token=env.get("SLACK_BOT_TOKEN"),
        signing_secret=env.get("SLACK_SIGNING_SECRET"),
        app_token=env.get("SLACK_APP_TOKEN"),
    )
    s.finish()
    if not cfg.path.startswith("/"):
        raise ConfigError("slack.path", "must start with '/'")
    if not cfg.command.startswith("/"):
        raise ConfigError("slack.command", "must start with '/'")
    if cfg.enabled:
        if not cfg.bot_token:
            raise ConfigError("slack.enabled", "needs SLACK_BOT_TOKEN in the environment")
        if cfg.mode == "http" and not cfg.signing_secret:
            raise ConfigError(
                "slack.mode", "http mode needs SLACK_SIGNING_SECRET in the environment"
            )
        if cfg.mode == "socket" and not cfg.app_token:
            raise ConfigError("slack.mode", "socket mode needs SLACK_APP_TOKEN in the environment")
    return cfg


def _discord(data: Any, env: Mapping[str, str]) -> DiscordConfig:
    s = _Section(data, "discord")
    guild_ids = s.get("guild_ids", list, [])
    if not all(isinstance(g, int) and not isinstance(g, bool) for g in guild_ids):
        raise ConfigError("discord.guild_ids", "must be a list of numeric guild ids")
    cfg = DiscordConfig(
        enabled=s.get("enabled", bool, False),
        guild_ids=tuple(guild_ids),
        command=s.text("command", "maatje"),
        pair_space=s.text("pair_space", "thread", choices=("thread", "channel")),
        api_base_url=s.text("api_base_url", "https://discord.com/api/v10"),
        gateway_url=s.text("gateway_url", "wss://gateway.discord.gg"),
        coordinator_role=s.text("coordinator_role", None),
        shard_id=s.get("shard_id", int, None),
        shard_count=s.get("shard_count", int, None),
        token=env.get("DISCORD_TOKEN"),
    )
    s.finish()
    if cfg.enabled and not cfg.token:
        raise ConfigError("discord.enabled", "needs DISCORD_TOKEN in the environment")
    if (cfg.shard_id is None) != (cfg.shard_count is None):
        raise ConfigError("discord.shard_id", "shard_id and shard_count go together")
    if cfg.shard_count is not None and not 0 <= (cfg.shard_id or 0) < cfg.shard_count:
        raise ConfigError("discord.shard_id", "must be at least 0 and less than shard_count")
    if cfg.coordinator_role and not cfg.guild_ids:
        raise ConfigError(
            "discord.coordinator_role",
            "needs discord.guild_ids: the servers where the role makes someone a coordinator",
        )
    return cfg


_URL_KEYS = ("openid_metadata_url", "token_url", "graph_base_url")


def _teams(data: Any, env: Mapping[str, str]) -> TeamsConfig:
    s = _Section(data, "teams")
    defaults = TeamsConfig()
    cfg = TeamsConfig(
        enabled=s.get("enabled", bool, False),
        host=s.text("host", defaults.host),
        port=s.get("port", int, defaults.port),
        path=s.text("path", defaults.path),
        app_id=s.text("app_id", ""),
        tenant_id=s.text("tenant_id", ""),
        pair_space=s.text("pair_space", "chat", choices=("chat", "channel")),
        team_id=s.text("team_id", ""),
        **{key: s.text(key, getattr(defaults, key)) for key in _URL_KEYS},
        app_password=env.get("TEAMS_APP_PASSWORD"),
    )
    s.finish()
    if not cfg.path.startswith("/"):
        raise ConfigError("teams.path", "must start with '/'")
    if not 0 <= cfg.port <= 65535:
        raise ConfigError("teams.port", "must be a port number (0 to 65535)")
    for key in _URL_KEYS:
        if not getattr(cfg, key).startswith(("https://", "http://")):
            raise ConfigError(f"teams.{key}", "must be an http(s) URL")
    if cfg.pair_space == "channel" and not cfg.team_id:
        raise ConfigError("teams.team_id", 'is required when pair_space = "channel"')
    if cfg.enabled:
        if not cfg.app_id:
            raise ConfigError("teams.app_id", "is required (the bot's Microsoft App ID)")
        if not cfg.tenant_id:
            raise ConfigError("teams.tenant_id", "is required (your Microsoft 365 tenant id)")
        if not cfg.app_password:
            raise ConfigError("teams.enabled", "needs TEAMS_APP_PASSWORD in the environment")
    return cfg


def _scheduler(data: Any) -> SchedulerConfig:
    s = _Section(data, "scheduler")
    cfg = SchedulerConfig(
        tick_seconds=float(s.get("tick_seconds", (int, float), 1.0)),
        claim_lease_seconds=float(s.get("claim_lease_seconds", (int, float), 60.0)),
        max_attempts=s.get("max_attempts", int, 8),
        batch_size=s.get("batch_size", int, 50),
    )
    s.finish()
    if cfg.tick_seconds <= 0 or cfg.claim_lease_seconds <= 0:
        raise ConfigError("scheduler", "tick_seconds and claim_lease_seconds must be positive")
    return cfg


def _health(data: Any) -> HealthConfig:
    s = _Section(data, "health")
    cfg = HealthConfig(host=s.text("host", "0.0.0.0"), port=s.get("port", int, 3000))
    s.finish()
    if not 0 <= cfg.port <= 65535:
        raise ConfigError("health.port", "must be a port number (0 to 65535)")
    return cfg


def _questionnaire_dirs(root: _Section, base: Path) -> tuple[Path, ...]:
    """`questionnaires_dir`: a folder or a list of folders, relative to the config file."""
    raw = root.get("questionnaires_dir", (str, list), [])
    listed = [raw] if isinstance(raw, str) else raw
    folders = []
    for index, entry in enumerate(listed):
        key = "questionnaires_dir" if isinstance(raw, str) else f"questionnaires_dir[{index}]"
        if not isinstance(entry, str) or not entry.strip():
            raise ConfigError(key, "must be a folder name")
        folder = base / Path(entry).expanduser()
        if not folder.is_dir():
            raise ConfigError(key, f"no such folder: {folder}")
        folders.append(folder)
    return tuple(folders)


def parse_config(
    data: Mapping[str, Any], env: Mapping[str, str] | None = None, base: Path | None = None
) -> Config:
    """`base`: the folder relative paths in the file are read from (the config file's)."""
    env = os.environ if env is None else env
    root = _Section(dict(data), "")
    database = _Section(root.get("database", dict, {}), "database")
    url = env.get("DATABASE_URL") or database.text("url", "sqlite:///maatje.db")
    database.used.add("url")
    database.finish()
    console = _Section(root.get("console", dict, {}), "console")
    console_enabled = console.get("enabled", bool, False)
    console.finish()
    programmes = tuple(_programme(p, i) for i, p in enumerate(root.get("programmes", list, [])))
    slugs = [p.slug for p in programmes]
    for i, slug in enumerate(slugs):
        if slugs.index(slug) != i:
            raise ConfigError(f"programmes[{i}].slug", f"{slug!r} is used twice")
    log = _Section(root.get("logging", dict, {}), "logging")
    level = log.text("level", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    log.finish()
    config = Config(
        database_url=url,
        console=console_enabled,
        slack=_slack(root.get("slack", dict, {}), env),
        discord=_discord(root.get("discord", dict, {}), env),
        teams=_teams(root.get("teams", dict, {}), env),
        scheduler=_scheduler(root.get("scheduler", dict, {})),
        health=_health(root.get("health", dict, {})),
        programmes=programmes,
        log_level=level,
        questionnaires_dirs=_questionnaire_dirs(root, base or Path.cwd()),
    )
    root.finish()
    return config


def load_config(path: Path, env: Mapping[str, str] | None = None) -> Config:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"is not valid TOML ({exc})") from None
    return parse_config(data, env, path.resolve().parent)
