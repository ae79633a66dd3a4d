"""The `maatje` command: run, demo, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.exc import OperationalError

from bot import logs
from bot.app import App, build, load_adapter
from bot.clock import SystemClock
from bot.config import Config, ConfigError, load_config, parse_config
from bot.database_errors import explain
from bot.health import HealthServer
from bot.one_cpu import keep_sqlite_to_one_cpu
from bot.scheduler import Scheduler
from bot.services.questionnaires import QuestionnaireError

T = TypeVar("T")

DEFAULT_CONFIG = Path("config.toml")
DEMO_DATABASE = "sqlite:///maatje-demo.db"

log = logging.getLogger("maatje")


class DatabaseUnavailable(Exception):
    """The store could not be opened; the message is one line for the person running Maatje."""


def _opening(url: str, open_store: Callable[[], T]) -> T:
    """Open (and migrate) the store; a failure `explain` recognises becomes one clear line."""
    try:
        return open_store()
    except Exception as exc:
        line = explain(exc, url)
        if line is None:
            raise
        raise DatabaseUnavailable(line) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maatje", description="Group mentoring in chat.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the bot with the configured adapters")
    run.add_argument(
        "--config",
        type=Path,
        help="config file (default ./config.toml; without one, the console demo starts)",
    )
    demo = sub.add_parser("demo", help="the console with a seeded demo programme")
    demo.add_argument(
        "--database", default=None, help=f"database URL (default {DEMO_DATABASE}, or DATABASE_URL)"
    )
    demo.add_argument("--as", dest="acting", default="anna", help="who you are at the start")
    demo.add_argument(
        "--files",
        type=Path,
        default=None,
        help="folder for the files Maatje sends (.ics, PDF, CSV); default: beside the database",
    )
    discord = sub.add_parser("discord", help="Discord set-up")
    discord_sub = discord.add_subparsers(dest="discord_command", required=True)
    invite = discord_sub.add_parser("invite-url", help="the OAuth2 link that adds the bot")
    invite.add_argument(
        "--application-id",
        type=int,
        default=None,
        help="the application id (default: read from DISCORD_TOKEN)",
    )
    teams = sub.add_parser("teams", help="Microsoft Teams set-up")
    teams_sub = teams.add_subparsers(dest="teams_command", required=True)
    package = teams_sub.add_parser("manifest", help="write the Teams app package (a zip)")
    package.add_argument("--config", type=Path, default=None, help="for [teams] app_id")
    package.add_argument("--app-id", default=None, help="the bot's Microsoft App ID")
    package.add_argument("--out", type=Path, default=Path("maatje-teams.zip"))
    package.add_argument("--website", default=None, help="https URL shown in the app's details")
    out = sub.add_parser("export", help="a programme's pairs, meetings, goals, polls as CSV")
    out.add_argument("programme", help="the programme's slug")
    out.add_argument("--out", type=Path, default=Path("."), help="folder for the CSV files")
    out.add_argument("--config", type=Path, default=None)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.add_argument("--config", type=Path, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            if args.config is None and not DEFAULT_CONFIG.exists():
                return asyncio.run(_demo(_demo_config(None), "anna", None))
            config = load_config(args.config or DEFAULT_CONFIG)
            logs.configure(config.log_level)
            return asyncio.run(_serve(config))
        if args.command == "demo":
            return asyncio.run(_demo(_demo_config(args.database), args.acting, args.files))
        if args.command == "discord":
            return _discord_invite(args.application_id)
        if args.command == "teams":
            return _teams_manifest(args)
        if args.command == "export":
            return _export(_config_for_db(args.config), args.programme, args.out)
        if args.command == "db":
            config = _config_for_db(args.config)
            from bot.store import Store

            store = _opening(config.database_url, lambda: Store(config.database_url))
            _opening(config.database_url, store.upgrade)
            print(f"database at {store.engine.url.render_as_string()} is up to date")
            return 0
    except (ConfigError, DatabaseUnavailable, QuestionnaireError) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 1


def _discord_invite(application_id: int | None) -> int:
    import importlib
    import os

    from bot.app import ADAPTER_MODULES

    discord = importlib.import_module(ADAPTER_MODULES["discord"])
    if application_id is None:
        application_id = discord.application_id_from_token(os.environ.get("DISCORD_TOKEN", ""))
    if application_id is None:
        print("give --application-id, or set DISCORD_TOKEN to the bot's token", file=sys.stderr)
        return 2
    print(discord.invite_url(application_id))
    return 0


def _teams_manifest(args: argparse.Namespace) -> int:
    import importlib

    from bot.app import ADAPTER_MODULES, load_behaviour
    from bot.i18n import Translator

    app_id = args.app_id or _config_for_db(args.config).teams.app_id
    if not app_id:
        print("give --app-id, or set [teams] app_id in config.toml", file=sys.stderr)
        return 2
    translator = Translator()
    specs = sorted(
        (c for c in load_behaviour().commands if c.summary is not None),
        key=lambda c: c.coordinator_only,
    )
    commands = [(c.name, translator.render(c.summary, "en")) for c in specs if c.summary]
    details = {"website": args.website} if args.website else {}
    teams = importlib.import_module(ADAPTER_MODULES["teams"])
    args.out.write_bytes(teams.app_package(app_id, commands, **details))
    print(args.out)
    return 0


def _export(config: Config, slug: str, folder: Path) -> int:
    from sqlmodel import select

    from bot.domain import Programme
    from bot.services.export import export
    from bot.store import Store

    store = _opening(config.database_url, lambda: Store(config.database_url))
    _opening(config.database_url, store.upgrade)
    with store.session() as session:
        programme = session.exec(select(Programme).where(Programme.slug == slug)).first()
        if programme is None:
            print(f"no programme {slug!r} in the database", file=sys.stderr)
            return 2
        files = export(session, programme)
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / f"{slug}-{name}").write_bytes(content)
        print(folder / f"{slug}-{name}")
    return 0


def _config_for_db(path: Path | None) -> Config:
    """The configuration `maatje run` would use: without a config.toml, the demo's database."""
    if path is not None or DEFAULT_CONFIG.exists():
        return load_config(path or DEFAULT_CONFIG)
    return _demo_config(None)


def _demo_config(database: str | None) -> Config:
    from bot.demo import demo_programme

    base = parse_config({})
    url = database or (
        base.database_url if base.database_url != "sqlite:///maatje.db" else DEMO_DATABASE
    )
    return Config(
        database_url=url, console=True, programmes=(demo_programme(datetime.now(UTC).date()),)
    )


def _demo_files(database_url: str) -> Path:
    """Where the demo saves files: beside its SQLite database (maatje-demo.db →
    maatje-demo-files/), or ./maatje-demo-files for another database."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(url.database)
        return database.with_name(f"{database.stem}-files")
    return Path("maatje-demo-files")


async def _demo(config: Config, acting: str, files: Path | None) -> int:
    from adapters.console import ConsoleAdapter, Repl
    from bot import demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    clock = SystemClock()
    names = {p.user_id: p.name for p in demo.PEOPLE}
    console = ConsoleAdapter(names=names, files_dir=files or _demo_files(config.database_url))
    app = _opening(config.database_url, lambda: build(config, clock, adapters={"console": console}))
    with app.store.session() as session:
        demo.seed(session, clock.now())
    if acting not in names:
        print(f"unknown person {acting!r}; choose one of {', '.join(names)}", file=sys.stderr)
        return 2
    scheduler = Scheduler(app.core.dispatcher, config.scheduler.tick_seconds)
    scheduler.start()
    try:
        programme = config.programmes[0]
        database = app.store.engine.url.render_as_string(hide_password=True)
        await Repl(
            app.core, console, names, acting, timezone=programme.timezone, database=database
        ).run()
    finally:
        scheduler.shutdown()
        await app.core.drain()
        app.store.dispose()
    return 0


async def _serve(config: Config) -> int:
    clock = SystemClock()
    app = _opening(config.database_url, lambda: build(config, clock))
    keep_sqlite_to_one_cpu(config, app.store.dialect)  # its threads, and all started later
    names = [
        name
        for name, on in (
            ("slack", config.slack.enabled),
            ("discord", config.discord.enabled),
            ("teams", config.teams.enabled),
            ("console", config.console),
        )
        if on
    ]
    if not names:
        raise ConfigError(
            "slack.enabled", "no adapter is enabled (slack, discord, teams or console)"
        )
    for name in names:
        app.adapters[name] = load_adapter(name, config)
    stop = asyncio.Event()  # from here on SIGTERM stops cleanly, also during start-up
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await _start(app, names)
    try:
        await app.core.redrive()  # events a previous process accepted but never handled
    except OperationalError:
        log.warning("the database is unavailable; the inbox waits for the scheduler's tick")
    health = None
    served = (config.slack.enabled and config.slack.mode == "http") or (
        config.teams.enabled and config.teams.port == config.health.port
    )
    if not served:  # Slack's HTTP server (and Teams' on that port) answer /healthz themselves
        health = HealthServer(app.core.healthy, config.health.host, config.health.port)
        await health.start()
    scheduler = Scheduler(app.core.dispatcher, config.scheduler.tick_seconds, app.core.redrive)
    scheduler.start()
    log.info("maatje is running with %s", ", ".join(names))
    await stop.wait()
    await app.core.inbox.stop()  # a redrive under way finishes; no new one starts
    scheduler.shutdown()
    for adapter in app.adapters.values():
        await adapter.stop()
    if health is not None:
        await health.stop()
    await app.core.drain()
    app.store.dispose()
    return 0


async def _start(app: App, names: list[str]) -> None:
    for name in names:
        await app.adapters[name].start(app.core)


if __name__ == "__main__":
    raise SystemExit(main())
