"""Names, time zones and languages as the platform reports them (`bot.profiles`), and what a
person tells Maatje about themselves, through the console adapter and the real core."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlmodel import col, select

from adapters.console import ConsoleAdapter
from bot.adapter import DeliveryError, Profile
from bot.domain import Identity, OutboxItem, Person, Source
from bot.events import Message, PersonRef
from bot.profiles import REFRESH, ProfileRefresh
from bot.testing import Conversation, build_app


class Platform(ConsoleAdapter):
    """The console with a profile per person, and a switch to make lookups fail."""

    def __init__(self) -> None:
        super().__init__(out=io.StringIO(), workspace="test")
        self.profiles: dict[str, Profile] = {}
        self.down = False
        self.come_back_in: float | None = None
        self.turn_in = 0.0
        self.asked: list[str] = []
        self.turns: list[str] = []

    async def profile(self, person: PersonRef) -> Profile:
        self.asked.append(person.user_id)
        if self.down:
            raise DeliveryError("the platform is down")
        if self.come_back_in is not None:
            raise DeliveryError("paced", retry_after=self.come_back_in)
        return self.profiles.get(person.user_id, Profile())

    def lookup_turn(self, person: PersonRef) -> float:
        self.turns.append(person.user_id)
        return self.turn_in


def start(database_url, clock, **programme):
    from bot.testing import programme_config

    platform = Platform()
    app = build_app(
        database_url,
        clock,
        adapters={"console": platform},
        programmes=(programme_config(**programme),),
    )
    return app, platform, Conversation(app.core, platform)


def stored(app, who: str) -> tuple[Person, Identity]:
    with app.store.session() as session:
        identity = session.exec(select(Identity).where(Identity.user_id == who)).one()
        return session.get(Person, identity.person_id), identity


def lookups(app) -> list[OutboxItem]:
    """The profile lookups in the outbox, done or not."""
    with app.store.session() as session:
        return list(session.exec(select(OutboxItem).where(OutboxItem.kind == REFRESH)).all())


def kinds(app) -> list[str]:
    """The messages and lookups in the outbox, in the order they were written."""
    with app.store.session() as session:
        rows = session.exec(select(OutboxItem.kind).order_by(OutboxItem.id)).all()
    return [kind for kind in rows if kind in ("send", REFRESH)]


async def test_the_platforms_profile_after_consent_and_again_a_day_later(
    database_url, clock
) -> None:
    app, platform, chat = start(database_url, clock, language="nl")
    try:
        platform.profiles["anna"] = Profile("Anna Jansen", "en-US", "America/New_York")
        await chat.send("anna", "hallo")
        assert "Mag ik je antwoorden" in chat.last("anna")  # before the lookup: the programme's
        # the lookup comes after the reply, and before consent keeps only the language
        assert kinds(app) == ["send", REFRESH]
        person, identity = stored(app, "anna")
        assert (person.display_name, person.timezone, person.language) == (None, None, "en")
        assert identity.profile_at is None

        await chat.send("anna", "yes")
        assert "joining as a mentee" in chat.last("anna")  # the rest of the intake in English
        person, identity = stored(app, "anna")
        assert (person.display_name, person.name_source) == ("Anna Jansen", Source.PLATFORM)
        assert (person.timezone, person.timezone_source) == ("America/New_York", "platform")
        assert identity.profile_at == clock.now()

        platform.profiles["anna"] = Profile("Anna de Vries", "nl-NL", "Europe/Amsterdam")
        await chat.send("anna", "1")
        assert kinds(app).count(REFRESH) == 2  # fresh: not asked again the same day
        clock.advance(timedelta(days=1, minutes=1))
        await chat.send("anna", "help")
        person, _ = stored(app, "anna")
        assert (person.display_name, person.timezone) == ("Anna de Vries", "Europe/Amsterdam")
        assert person.language == "en"  # a language once known is not switched by the platform
        assert platform.asked == ["anna"] * 3
    finally:
        app.store.dispose()


async def test_what_people_say_about_themselves_wins_over_the_platform(database_url, clock) -> None:
    app, platform, chat = start(database_url, clock)
    try:
        platform.profiles["anna"] = Profile("anna.j", None, "Europe/Amsterdam")
        await chat.command("anna", "name", "Anna", "<b>Jansen</b>")
        assert "only remember that once you have joined" in chat.last("anna")
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        chat.new("anna")
        await chat.command("anna", "name", "Anna", "<b>Jansen</b>")
        said = chat.new("anna")[0]  # then the pending question again
        assert said == "Done: from now on others see you as Anna <b>Jansen</b>."
        await chat.command("anna", "timezone", "Atlantis")
        assert "I don't know the time zone 'Atlantis'" in chat.new("anna")[0]
        await chat.command("anna", "timezone", "new", "york")
        assert "dates and times in America/New_York" in chat.new("anna")[0]
        clock.advance(timedelta(days=2))
        await chat.command("anna", "name")
        assert "Others in your programme see you as Anna <b>Jansen</b>." in chat.new("anna")[0]
        person, identity = stored(app, "anna")
        assert identity.profile_at == clock.now()  # looked up again, and ignored
        assert (person.display_name, person.name_source) == ("Anna <b>Jansen</b>", Source.SELF)
        assert (person.timezone, person.timezone_source) == ("America/New_York", Source.SELF)
    finally:
        app.store.dispose()


async def test_a_platform_that_fails_lookups_never_holds_up_the_conversation(
    database_url, clock
) -> None:
    app, platform, chat = start(database_url, clock)
    try:
        platform.down = True
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        await chat.click("anna", "mentee")
        assert "your studies" in chat.last("anna")
        person, identity = stored(app, "anna")
        assert person.display_name is None and identity.profile_at is None
        failed = lookups(app)
        assert failed and all(r.done_at is None and r.last_error for r in failed)

        platform.down = False
        platform.profiles["anna"] = Profile("Anna Jansen")
        clock.advance(timedelta(minutes=10))  # past the outbox's backoff
        await app.core.dispatcher.run_due()
        assert stored(app, "anna")[0].display_name == "Anna Jansen"
    finally:
        app.store.dispose()


async def test_a_lookup_the_platform_paces_comes_back_when_it_says(database_url, clock) -> None:
    """As at a kick-off, when Slack's pacing puts a crowd's lookups off for minutes: the one
    planned at the first message is still waiting when Anna says yes, so none is added; when it
    comes back it stores what her consent allows by then."""
    app, platform, chat = start(database_url, clock)
    try:
        platform.profiles["anna"] = Profile("Anna Jansen")
        platform.come_back_in = 30
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        await chat.click("anna", "mentee")
        assert "your studies" in chat.last("anna")
        rows = lookups(app)
        waiting = [r.due_at for r in rows if r.done_at is None]
        assert waiting == [clock.now() + timedelta(seconds=30)]
        assert all(r.failed_at is None for r in rows)  # put off, not failed
        assert platform.asked == ["anna"]
        platform.come_back_in = None
        clock.advance(timedelta(seconds=30))
        await app.core.dispatcher.run_due()
        person, identity = stored(app, "anna")
        assert (person.display_name, identity.profile_at) == ("Anna Jansen", clock.now())
        assert platform.asked == ["anna"] * 2  # refused once, then answered: one lookup
    finally:
        app.store.dispose()


async def test_a_lookup_is_due_at_the_turn_the_platform_keeps_for_it(database_url, clock) -> None:
    """At a kick-off the platform's pacing has turns for lookups minutes ahead: the lookup is
    planned for the turn kept for it, and not tried (and put off) before then."""
    app, platform, chat = start(database_url, clock)
    try:
        platform.profiles["anna"] = Profile("Anna Jansen")
        platform.turn_in = 45
        await chat.send("anna", "hello")
        await chat.send("anna", "yes")
        assert "joining as a mentee" in chat.last("anna")
        rows = lookups(app)
        turn = clock.now() + timedelta(seconds=45)
        assert [(r.due_at, r.done_at) for r in rows] == [(turn, None)]
        assert platform.turns == ["anna"]  # one turn kept: the yes planned no second lookup
        clock.advance(timedelta(seconds=44))
        await app.core.dispatcher.run_due()
        assert platform.asked == []
        clock.advance(timedelta(seconds=1))
        await app.core.dispatcher.run_due()
        assert platform.asked == ["anna"]
        assert stored(app, "anna")[0].display_name == "Anna Jansen"
    finally:
        app.store.dispose()


async def test_a_lookup_under_way_when_consent_comes_stores_the_name(database_url, clock) -> None:
    """A lookup claimed before the yes stores its answer after the yes's transaction, and so
    reads the consent: no second lookup is needed."""
    app, platform, chat = start(database_url, clock)
    try:
        platform.profiles["anna"] = Profile("Anna Jansen")
        platform.come_back_in = 30
        await chat.send("anna", "hello")
        with app.store.session() as session:
            unfinished = select(OutboxItem).where(
                OutboxItem.kind == REFRESH, col(OutboxItem.done_at).is_(None)
            )
            [waiting] = session.exec(unfinished).all()
            waiting.claimed_by = app.core.dispatcher.worker
            waiting.claimed_until = clock.now() + timedelta(minutes=1)
            session.add(waiting)
        await chat.send("anna", "yes")
        with app.store.session() as session:
            [under_way] = session.exec(unfinished).all()  # none added
        platform.come_back_in = None
        record = await ProfileRefresh(app.store, {"console": platform})(under_way)
        app.core.dispatcher.recorder.record_action(under_way, record)
        person, identity = stored(app, "anna")
        assert (person.display_name, identity.profile_at) == ("Anna Jansen", clock.now())
    finally:
        app.store.dispose()


async def test_a_zone_the_event_carries_is_kept_after_consent(database_url, clock) -> None:
    """As Teams reports it with every activity (clientInfo)."""
    app, _, chat = start(database_url, clock)
    try:

        async def say(text: str, zone: str) -> None:
            common = {"person": chat.ref("anna"), "space": chat.space("anna")}
            await chat.event(Message(text=text, event_id=text, timezone=zone, **common))

        await say("hello", "America/New_York")
        assert stored(app, "anna")[0].timezone is None
        await say("yes", "Mars/Olympus_Mons")  # not a zone: ignored
        assert stored(app, "anna")[0].timezone is None
        await say("1", "America/New_York")
        assert stored(app, "anna")[0].timezone == "America/New_York"
    finally:
        app.store.dispose()


async def test_intake_asks_the_zone_only_when_the_platform_reported_none(
    database_url, clock
) -> None:
    from tests.test_intake import MENTEE_ANSWERS

    app, platform, chat = start(database_url, clock)
    try:
        platform.profiles["eva"] = Profile("Eva", None, "Asia/Kolkata")
        for who in ("anna", "eva"):
            await chat.send(who, "hello")
            for key, answer in MENTEE_ANSWERS:
                if key == "timezone" and who == "eva":
                    continue  # not asked: Eva's platform reported hers
                if key == "timezone":
                    assert "Which time zone are you in?" in chat.last(who)
                    assert "Europe/Amsterdam, the programme's" in chat.last(who)
                    await chat.send(who, "Tokio")
                    assert "I don't know the time zone 'Tokio'" in chat.new(who)[-2]
                    answer = "Tokyo"
                if isinstance(answer, dict):
                    await chat.submit(who, answer)
                else:
                    await chat.send(who, answer)
            assert "intake is complete" in chat.last(who)
        assert stored(app, "anna")[0].timezone == "Asia/Tokyo"
        assert stored(app, "anna")[0].timezone_source == Source.SELF
        assert stored(app, "eva")[0].timezone == "Asia/Kolkata"
    finally:
        app.store.dispose()
