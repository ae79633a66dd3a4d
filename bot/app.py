"""Wiring: configuration in, a running bot out.

`bot` never imports `flows` or `adapters` directly; they are loaded by module name here, so
the dependency arrows of docs/architecture.md hold.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot import inbox, outbox, profiles, retention
from bot.adapter import Adapter
from bot.behaviour import Behaviour
from bot.clock import Clock
from bot.config import Config
from bot.core import Core
from bot.delivery import Deliverer
from bot.dispatcher import Dispatcher
from bot.engine import EXPIRE, REMIND, Engine
from bot.i18n import Translator
from bot.services import programmes
from bot.spaces import OPEN_SPACE, SpaceOpener, Work
from bot.store import Store

log = logging.getLogger(__name__)

FLOWS_MODULE = "flows"
ADAPTER_MODULES = {
    "console": "adapters.console",
    "slack": "adapters.slack",
    "discord": "adapters.discord",
    "teams": "adapters.teams",
}


def load_behaviour(config: Config | None = None) -> Behaviour:
    return importlib.import_module(FLOWS_MODULE).behaviour(config)


def load_adapter(name: str, config: Config, **options: object) -> Adapter:
    module = importlib.import_module(ADAPTER_MODULES[name])
    return module.create_adapter(config, **options)


def _engine_jobs(engine: Engine) -> dict:
    def remind(session, item, now):
        p = item.payload
        return engine.remind(session, p["run"], p["step"], p["ask_seq"], now)

    def expire(session, item, now):
        p = item.payload
        return engine.expire(session, p["run"], p["step"], p["ask_seq"], now)

    return {REMIND: remind, EXPIRE: expire}


def _with_work(engine: Engine, job):
    """Adapt a job that starts conversations to the dispatcher's `(session, item, now)`."""

    def run(session, item, now):
        work = Work(session, engine, now)
        job(work, item)
        return work.outbound

    return run


@dataclass
class App:
    config: Config
    store: Store
    core: Core
    adapters: dict[str, Adapter]


def build(
    config: Config,
    clock: Clock,
    adapters: Mapping[str, Adapter] | None = None,
    translator: Translator | None = None,
    auto_dispatch: bool = True,
    migrate: bool = True,
) -> App:
    """Build store, core and dispatcher; migrate and synchronise programmes from config."""
    store = Store(config.database_url)
    if migrate:
        store.upgrade()
    with store.session() as session:
        store.serialise(session, "programmes")
        programmes.sync(session, config.programmes)
        if store.dialect == "sqlite":  # one process per SQLite store: earlier claims are dead
            outbox.release_all_claims(session)
            inbox.due_now(session, clock.now())  # and so are the handlings of earlier events
        retention.plan(session, clock.now().date() + timedelta(days=1), clock.now())
    translator = translator or Translator()
    behaviour = load_behaviour(config)
    registry: dict[str, Adapter] = dict(adapters or {})
    deliverer = Deliverer(store, translator, registry)
    engine = Engine({f.name: f for f in behaviour.flows}, translator)
    jobs = {
        retention.DAILY: retention.daily,
        **_engine_jobs(engine),
        **behaviour.jobs,
        **{kind: _with_work(engine, job) for kind, job in behaviour.work_jobs.items()},
    }
    actions = {
        OPEN_SPACE: SpaceOpener(store, registry, engine, behaviour.space_opened),
        profiles.REFRESH: profiles.ProfileRefresh(store, registry),
    }
    dispatcher = Dispatcher(
        store,
        clock,
        deliverer.deliver,
        jobs,
        config.scheduler,
        actions=actions,
        prefetch=deliverer.prefetch,
    )
    core = Core(store, clock, translator, behaviour, engine, dispatcher, registry, auto_dispatch)
    return App(config, store, core, registry)
