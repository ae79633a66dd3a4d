"""The `[slack]`, `[discord]` and `[teams]` sections, with their secrets from the environment.

An enabled platform without its token (or, for Teams, its app and tenant ids) is refused here,
before any connection is tried.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config.model import DiscordConfig, SlackConfig, TeamsConfig
from bot.config.section import ConfigError, Section


def parse_slack(data: Any, env: Mapping[str, str]) -> SlackConfig:
    s = Section(data, "slack")
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


def parse_discord(data: Any, env: Mapping[str, str]) -> DiscordConfig:
    s = Section(data, "discord")
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


def parse_teams(data: Any, env: Mapping[str, str]) -> TeamsConfig:
    s = Section(data, "teams")
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
