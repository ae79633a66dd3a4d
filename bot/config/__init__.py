"""Configuration: `config.toml` read with tomllib, validated into frozen dataclasses.

Secrets come only from the environment. An invalid file raises `ConfigError` whose message
names the key (`programmes[1].timezone`) and what is wrong with it; start-up prints it and
stops. Every key is documented in `config.example.toml`.

This module reads the file and its small top-level sections (database, console, logging,
scheduler, health, questionnaires_dir); `bot.config.programme` and `bot.config.platforms` read
the larger ones, `bot.config.section` holds the typed reader they share and
`bot.config.model` the dataclasses.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot.config.model import Config, HealthConfig, SchedulerConfig
from bot.config.platforms import parse_discord, parse_slack, parse_teams
from bot.config.programme import parse_programme
from bot.config.section import ConfigError, Section

__all__ = ["Config", "ConfigError", "load_config", "parse_config"]


def _scheduler(data: Any) -> SchedulerConfig:
    s = Section(data, "scheduler")
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
    s = Section(data, "health")
    cfg = HealthConfig(host=s.text("host", "0.0.0.0"), port=s.get("port", int, 3000))
    s.finish()
    if not 0 <= cfg.port <= 65535:
        raise ConfigError("health.port", "must be a port number (0 to 65535)")
    return cfg


def _questionnaire_dirs(root: Section, base: Path) -> tuple[Path, ...]:
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
    root = Section(dict(data), "")
    database = Section(root.get("database", dict, {}), "database")
    url = env.get("DATABASE_URL") or database.text("url", "sqlite:///maatje.db")
    database.used.add("url")
    one_cpu = database.get("one_cpu", bool, True)
    database.finish()
    console = Section(root.get("console", dict, {}), "console")
    console_enabled = console.get("enabled", bool, False)
    console.finish()
    programmes = tuple(
        parse_programme(p, i) for i, p in enumerate(root.get("programmes", list, []))
    )
    slugs = [p.slug for p in programmes]
    for i, slug in enumerate(slugs):
        if slugs.index(slug) != i:
            raise ConfigError(f"programmes[{i}].slug", f"{slug!r} is used twice")
    log = Section(root.get("logging", dict, {}), "logging")
    level = log.text("level", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    log.finish()
    config = Config(
        database_url=url,
        one_cpu=one_cpu,
        console=console_enabled,
        slack=parse_slack(root.get("slack", dict, {}), env),
        discord=parse_discord(root.get("discord", dict, {}), env),
        teams=parse_teams(root.get("teams", dict, {}), env),
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
