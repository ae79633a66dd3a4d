"""Posts in shared spaces are rendered for the people in them (`bot.audience`): in the language
they share or in each of theirs, with times in every zone they live in; a question for one
member says so and mentions them; a click on someone else's question says whose it is."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import spaces
from bot.audience import audience_of, audiences_of
from bot.delivery import enqueue_outbound
from bot.domain import FlowRun, Identity, MentorGroup, Pair, Person, RunStatus
from bot.events import SpaceKind
from bot.i18n import Mention, _l
from bot.replies import Option, Reply
from flows.contact import meeting_messages as msg
from flows.matchmaking import introductions
from tests.meeting_support import enter_pair, make_pair, pair_posts

WHEN = datetime(2026, 10, 13, 17, 0, tzinfo=UTC)  # 19:00 in Amsterdam, 13:00 in New York
DIVIDER = "\n\n—\n\n"


async def post_to_pair(app, text, **reply) -> None:
    now = app.core.clock.now()
    with app.store.session() as session:
        pair = session.get(Pair, 1)
        enqueue_outbound(session, msg.to_pair(session, pair, Reply(text, **reply)), "t", now)
    await app.core.dispatcher.run_due()


def pair_with(app, now, mentor: dict, mentee: dict) -> None:
    with app.store.session() as session:
        make_pair(session, now, mentor_fields=mentor, mentee_fields=mentee)


CONFIRMED = _l(
    "Meeting {number} is confirmed for {when}. See you both then! I've sent each of you a "
    "calendar invite.",
    number=1,
    when=WHEN,
)


async def test_an_english_pair_in_a_dutch_programme_reads_english(make_app, clock) -> None:
    app, chat = make_app(language="nl")
    pair_with(app, clock.now(), {"language": "en"}, {"language": "en"})
    await post_to_pair(app, CONFIRMED)
    assert pair_posts(chat) == [
        "Meeting 1 is confirmed for Tuesday, October 13, 2026, 7:00\u202fPM. See you both "
        "then! I've sent each of you a calendar invite."
    ]


async def test_a_mixed_pair_reads_both_languages_the_programmes_first(make_app, clock) -> None:
    app, chat = make_app(language="en")
    pair_with(app, clock.now(), {"language": "nl"}, {"language": "en"})
    options = (Option("yes", _l("Yes")), Option("no", _l("No")))
    await post_to_pair(app, CONFIRMED, choices=options, choice_token="c:x")
    [post] = chat.messages("#pair-test-maarten-anna")
    english, dutch = post.text.split(DIVIDER)
    assert english.startswith("Meeting 1 is confirmed for Tuesday, October 13, 2026")
    assert dutch.startswith("Afspraak 1 staat vast op dinsdag 13 oktober 2026, 19:00.")
    assert [o.label for o in post.choices] == ["Yes / Ja", "No / Nee"]


async def test_members_in_two_zones_see_the_time_in_both(make_app, clock) -> None:
    app, chat = make_app(language="nl")
    pair_with(
        app,
        clock.now(),
        {"language": "nl", "timezone": "Europe/Amsterdam"},
        {"language": "nl", "timezone": "America/New_York"},
    )
    await post_to_pair(app, CONFIRMED)
    assert pair_posts(chat) == [
        "Afspraak 1 staat vast op dinsdag 13 oktober 2026, 19:00 (Amsterdam) / 13:00 (New "
        "York). Tot dan, allebei! Jullie hebben elk een agenda-uitnodiging van me gekregen."
    ]


async def test_a_group_space_is_welcomed_in_its_members_languages(make_app, clock) -> None:
    app, chat = make_app(language="nl")
    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(
            session, now, mentor_fields={"language": "en"}, mentee_fields={"language": "nl"}
        )
        group = session.get(MentorGroup, pair.group_id)
        spaces.plan_group(session, group, [pair.mentor_id, pair.mentee_id], now)
    await app.core.dispatcher.run_due()
    [welcome] = chat.messages("#group-test-group-maarten")
    dutch, english = welcome.text.split(DIVIDER)  # the programme's language first
    assert english.startswith("Welcome to the group of Maarten in Mentoraat Test!")
    assert dutch.startswith("Welkom in de groep van Maarten in Mentoraat Test!")


async def test_a_question_for_one_member_names_them_and_the_other_cannot_answer_it(
    app, chat, clock
) -> None:
    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(session, now, mentee_fields={"language": "nl"})
        pair.guide = {}
        work = spaces.Work(session, app.core.engine, now)
        space = spaces.space_of(pair, SpaceKind.PAIR)
        introductions.space_opened(work, f"pair:{pair.id}", space, [])
        enqueue_outbound(session, work.outbound, "opened", now)
    await app.core.dispatcher.run_due()
    enter_pair(chat, "maarten", "anna")
    anna_asked = chat.last_message("anna")
    assert anna_asked.text.startswith("@Anna: Laten we de kennismakingsgids")
    assert [m.name for m in anna_asked.mentions] == ["Anna"]
    assert chat.last("maarten").startswith("@Maarten: Let's fill in the introduction guide")

    await chat.click("maarten", "1", token=anna_asked.choice_token)  # Anna's question
    refused = chat.last_message("maarten")
    assert refused.ephemeral and refused.text == ("This one is for Anna: only they can answer it.")
    assert chat.outcome is not None and chat.outcome.declined
    with app.store.session() as session:
        runs = {r.person_id: r for r in session.exec(select(FlowRun)).all()}
        assert runs[pair.mentee_id].status == RunStatus.ACTIVE
        assert runs[pair.mentee_id].answers == {"side": "mentee"}
    assert not any(re.search(r"\d:\d\d:\d\d", m.text) for _, m in chat.console.sent)


async def test_someone_elses_question_elsewhere_names_no_one(app, chat) -> None:
    await chat.send("anna", "hello")
    token = chat.last_message("anna").choice_token
    await chat.click("maarten", "yes", token=token)  # from his own direct chat
    assert chat.last("maarten") == "That button no longer works. Send me a message to continue."
    assert chat.outcome is not None and not chat.outcome.declined


def test_a_batch_finds_the_same_audiences_as_one_message_at_a_time(app, clock) -> None:
    """The dispatcher looks up a claimed batch's readers and mentioned people together
    (`audiences_of`): the same accounts, languages and names as one message at a time — the
    account seen most recently, one never seen last, and the platform's for a mention."""
    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(session, now, mentee_fields={"language": "en"})
        mentee = session.get(Person, pair.mentee_id)
        accounts = [
            ("console", "old", now - timedelta(days=3)),
            ("console", "new", now - timedelta(days=1)),
            ("console", "unseen", None),
            ("slack", "elsewhere", now),
        ]
        for platform, user_id, seen in accounts:
            session.add(
                Identity(
                    person_id=mentee.id,
                    platform=platform,
                    workspace="w",
                    user_id=user_id,
                    last_seen_at=seen,
                )
            )
        session.commit()
        space = {"platform": "console", "workspace": "test", "kind": "pair"}
        reply = Reply(_l("{person}: {message}", person=Mention(pair.mentee_id), message="hi"))
        payloads = [
            {"person": pair.mentee_id, "ref": None, "space": None, "reply": reply.to_json()},
            {
                "person": pair.mentor_id,
                "ref": None,
                "space": {**space, "channel_id": pair.space_channel},
                "reply": reply.to_json(),
            },
            {"person": 999, "ref": None, "space": None, "reply": reply.to_json()},
        ]
    with app.store.session() as session:
        one_by_one = [audience_of(session, payload) for payload in payloads]
    with app.store.session() as session:
        together = audiences_of(session, payloads)
    assert together == one_by_one
    direct, posted, erased = together
    assert direct is not None and direct.ref is not None and direct.ref.user_id == "elsewhere"
    assert direct.languages == ("en",)
    assert posted is not None and posted.mentions[pair.mentee_id][0].user_id == "new"
    assert erased is None


def test_a_batchs_audiences_read_each_space_and_person_once(app, clock) -> None:
    """However many of a batch's messages go to one pair's space and its members, their
    audiences cost the same few statements: the space, its members and their accounts are
    read once for the batch."""
    from sqlalchemy import event

    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(session, now, mentee_fields={"language": "en"})
        space = {
            "platform": "console",
            "workspace": "test",
            "kind": "pair",
            "channel_id": pair.space_channel,
        }
        reply = Reply(_l("{person}: {message}", person=Mention(pair.mentee_id), message="hi"))
        post = {"person": pair.mentor_id, "ref": None, "space": space, "reply": reply.to_json()}
        direct = {"person": pair.mentee_id, "ref": None, "space": None, "reply": reply.to_json()}
    seen: list[str] = []
    event.listen(app.store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))

    def statements(payloads: list[dict]) -> int:
        seen.clear()
        with app.store.session() as session:
            found = audiences_of(session, payloads)
        assert all(audience is not None for audience in found)
        return len(seen)

    assert statements([post, direct] * 10) == statements([post, direct])


def test_a_batchs_readers_and_their_accounts_are_one_statement(app, clock) -> None:
    """The audiences of messages to several people, none naming an account, cost one
    statement: the people and their accounts read together."""
    from sqlalchemy import event

    now = clock.now()
    with app.store.session() as session:
        zone = {"timezone": "Europe/Amsterdam"}  # else `people.reader` looks for a programme
        pair = make_pair(
            session,
            now,
            mentor_fields={"language": "nl", **zone},
            mentee_fields={"language": "en", **zone},
        )
        people = [pair.mentor_id, pair.mentee_id]
    reply = Reply("hi").to_json()
    payloads = [{"person": p, "ref": None, "space": None, "reply": reply} for p in people]
    seen: list[str] = []
    event.listen(app.store.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    with app.store.session() as session:
        found = audiences_of(session, payloads)
    assert [a.ref.user_id for a in found if a and a.ref] == ["maarten", "anna"]
    assert [a.languages for a in found if a] == [("nl",), ("en",)]
    assert len(seen) == 1


def test_a_language_chosen_in_the_transaction_renders_its_replies(app, clock) -> None:
    """Replies claimed in the turn that wrote them (`Dispatcher.claim_written`) are rendered
    for the person as the turn left them, before anything is flushed: a language chosen in
    that turn is the reply's language."""
    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(session, now, mentee_fields={"language": "en"})
    reply = Reply("hi").to_json()
    with app.store.session() as session:
        mentee = session.get(Person, pair.mentee_id)
        mentee.language = "nl"
        (found,) = audiences_of(
            session, [{"person": pair.mentee_id, "ref": None, "space": None, "reply": reply}]
        )
        session.rollback()
    assert found is not None and found.languages == ("nl",)


def test_a_reply_to_the_person_the_transaction_holds_reads_nothing(app, clock) -> None:
    """A turn's reply in its writer's direct chat names their account, and the turn holds
    the writer: its audience costs no statement."""
    from sqlalchemy import event

    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(
            session,
            now,
            mentee_fields={"language": "en", "timezone": "Europe/Amsterdam"},
        )
    ref = {"platform": "console", "workspace": "test", "user_id": "anna"}
    payload = {"person": pair.mentee_id, "ref": ref, "space": None, "reply": Reply("hi").to_json()}
    seen: list[str] = []
    with app.store.session() as session:
        writer = session.get(Person, pair.mentee_id)
        event.listen(app.store.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
        (found,) = audiences_of(session, [payload])
        assert writer is not None
    assert found is not None and found.languages == ("en",) and found.ref.user_id == "anna"
    assert seen == []


def test_a_reply_addressed_to_the_writer_in_their_pair_space_reads_no_account(app, clock) -> None:
    """A turn's reply to its writer in their pair's space mentions them by the account they
    wrote from: when `people.resolve` found it is their only one, the audience costs no
    statement, and is the audience a fresh read finds."""
    from sqlalchemy import event

    from bot.events import PersonRef
    from bot.services import people

    now = clock.now()
    with app.store.session() as session:
        zone = {"language": "en", "timezone": "Europe/Amsterdam"}  # no programme to look up
        pair = make_pair(session, now, mentee_fields=zone)
        channel = pair.space_channel
    space = {"platform": "console", "workspace": "test", "kind": "pair", "channel_id": channel}
    ref = {"platform": "console", "workspace": "test", "user_id": "anna"}
    reply = Reply("hi").to_json()
    with app.store.session() as session:
        mentee, _ = people.resolve(session, PersonRef(**ref), now + timedelta(hours=1))
        payload = {"person": mentee.id, "ref": ref, "space": space, "reply": reply}
        seen: list[str] = []
        note = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(app.store.engine, "before_cursor_execute", note)
        try:
            (found,) = audiences_of(session, [payload])
        finally:
            event.remove(app.store.engine, "before_cursor_execute", note)
    assert seen == []
    with app.store.session() as session:
        (fresh,) = audiences_of(session, [payload])
    assert found == fresh
    assert found is not None and found.addressed
    assert found.mentions[mentee.id][0] == PersonRef(**ref)


def test_an_account_added_in_the_transaction_is_found(app, clock) -> None:
    """What `people.resolve` learnt of a person's accounts holds only while the transaction
    adds, moves or deletes none: a second account written after it is found, by the people
    service and by an audience."""
    from bot.events import PersonRef
    from bot.services import people

    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(session, now)
    ref = PersonRef("console", "test", "anna")
    slack = PersonRef("slack", "T1", "U1")
    with app.store.session() as session:
        mentee, _ = people.resolve(session, ref, now)
        assert people.reachable_ref(session, pair.mentee_id) == ref
        session.add(
            Identity(
                person_id=pair.mentee_id,
                platform=slack.platform,
                workspace=slack.workspace,
                user_id=slack.user_id,
                last_seen_at=now + timedelta(minutes=5),
            )
        )
        assert people.reachable_ref(session, pair.mentee_id) == slack
        assert people.ref_on(session, pair.mentee_id, "slack") == slack
        payload = {"person": mentee.id, "ref": None, "space": None, "reply": Reply("hi").to_json()}
        (found,) = audiences_of(session, [payload])
    assert found is not None and found.ref == slack


def test_an_account_moved_to_another_person_is_not_theirs_any_more(app, clock) -> None:
    from bot.events import PersonRef
    from bot.services import people

    now = clock.now()
    with app.store.session() as session:
        pair = make_pair(session, now)
    with app.store.session() as session:
        mentee, identity = people.resolve(session, PersonRef("console", "test", "anna"), now)
        assert people.ref_on(session, mentee.id, "console") is not None
        identity.person_id = pair.mentor_id
        assert people.ref_on(session, mentee.id, "console") is None
        assert people.reachable_ref(session, mentee.id) is None
        session.rollback()


def test_a_messages_account_and_space_are_written_whole(app, clock) -> None:
    """The payload names a message's account and space by every field they have (as
    `dataclasses.asdict` gives them), so its audience is found from the payload alone."""
    from dataclasses import asdict

    from bot.audience import space_from_json
    from bot.domain import OutboxItem
    from bot.engine import Outbound
    from bot.events import PersonRef, SpaceRef

    ref = PersonRef("console", "test", "anna")
    space = SpaceRef("console", "test", "pair-1", SpaceKind.PAIR)
    with app.store.session() as session:
        enqueue_outbound(session, [Outbound(1, Reply("hi"), space, ref)], "whole", clock.now())
    with app.store.session() as session:
        item = session.exec(select(OutboxItem).where(OutboxItem.idempotency_key == "whole:0")).one()
    assert item.payload["ref"] == asdict(ref)
    assert item.payload["space"] == {**asdict(space), "kind": "pair"}
    assert space_from_json(item.payload["space"]) == space
