"""A mentee's intake in the personal chat over Teams' protocol: Adaptive Cards answered with
`Action.Execute` (the card is replaced by what was chosen), a form card with inline errors,
typed answers — against the real core on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from bot.domain import FlowRun, Identity, Person, ProcessedEvent
from tests.teams.support import ANNA, button, card_action, inputs, install, message

MENTEE_TYPED = [
    "Plan my first year better",
    "1,3",
    "2,4",
    "3",
    "20-10-2026",
    "3",
    "1",
    "1",
    "nee",
    "4",
    "I want to find my way faster.",
    "ja",
]


async def start_intake(h) -> dict:
    """Anna says hello, consents and picks mentee; returns the studies form card."""
    h.fake.add_user(ANNA, "Anna de Vries", locale="nl-NL")
    await h.say(ANNA, "hello")
    consent = h.last(ANNA)
    assert "Mag ik je antwoorden" in h.texts(ANNA)[-1]
    answer = await h.click(ANNA, button(consent, consent_yes(consent)))
    assert answer.body["statusCode"] == 200
    assert answer.body["type"] == "application/vnd.microsoft.card.adaptive"
    shown = answer.body["value"]["body"]
    assert shown[-1]["text"].startswith("✓ ")  # the card now says what was chosen
    assert "actions" not in answer.body["value"]
    role = h.last(ANNA)
    await h.click(ANNA, button(role, "Als mentee"))  # Anna's Teams speaks Dutch
    return h.last(ANNA)


def role_actions(card: dict) -> list[dict]:
    return [a for att in card["attachments"] for a in att["content"].get("actions", [])]


def consent_yes(card: dict) -> str:
    return role_actions(card)[0]["title"]


async def test_intake_with_cards_forms_and_typed_answers(start):
    h = await start()
    form = await start_intake(h)
    fields = {i["id"]: i for i in inputs(form)}
    assert set(fields) == {"v_programme", "v_year"}
    assert fields["v_year"]["type"] == "Input.Number"
    submit = role_actions(form)[0]["data"]

    refused = await h.send(
        card_action(h.fake, ANNA, {**submit, "v_programme": "Rechten", "v_year": 99})
    )
    card = refused.body["value"]
    assert refused.body["type"] == "application/vnd.microsoft.card.adaptive"
    errors = [e for e in card["body"] if e.get("color") == "Attention"]
    assert errors and "10" in errors[0]["text"]
    filled = {e["id"]: e.get("value") for e in card["body"] if e.get("id")}
    assert filled == {"v_programme": "Rechten", "v_year": 99}

    again = role_actions({"attachments": [{"content": card}]})[0]["data"]
    accepted = await h.send(
        card_action(h.fake, ANNA, {**again, "v_programme": "Rechten", "v_year": 2})
    )
    assert "actions" not in accepted.body["value"]
    for text in MENTEE_TYPED:
        await h.say(ANNA, text)
    assert "je intake is compleet" in h.texts(ANNA)[-1]
    with h.core.store.session() as session:
        run = session.exec(select(FlowRun)).one()
        person = session.exec(select(Person)).one()
        identity = session.exec(select(Identity)).one()
    assert run.answers["studies"] == {"programme": "Rechten", "year": 2}
    assert run.answers["hopes"] == "Plan my first year better"
    assert identity.user_id == ANNA  # the AAD object id, not the 29: account
    assert person.display_name == "Anna de Vries"


async def test_a_redelivered_activity_is_answered_once(start, fake):
    h = await start()
    hello = message(fake, ANNA, "hello")
    first = await h.send(hello)
    again = await h.send(hello)  # Teams did not see our 200 and sends it again
    assert first.status == again.status == 200
    assert len(h.chat(ANNA)) == 1
    with h.core.store.session() as session:
        assert [e.event_id for e in session.exec(select(ProcessedEvent))] == [hello["id"]]


async def test_a_redelivered_card_action_gets_the_same_card_and_changes_nothing(start, fake):
    h = await start()
    await h.say(ANNA, "hello")
    click = card_action(fake, ANNA, button(h.last(ANNA), consent_yes(h.last(ANNA))))
    first = await h.send(click)
    posted = len(h.chat(ANNA))
    second = await h.send(click)
    assert second.body == first.body
    assert len(h.chat(ANNA)) == posted


async def test_a_button_from_before_a_restart_still_works(start, fake):
    h = await start()
    await h.say(ANNA, "hello")
    consent = h.last(ANNA)
    h2 = await start()  # a new process on the same database
    await h2.click(ANNA, button(consent, consent_yes(consent)))
    assert "mentee" in h2.texts(ANNA)[-1].lower()


async def test_the_first_message_after_installing_gets_a_reply(start, fake):
    h = await start()
    assert (await h.send(install(fake, ANNA))).status == 200
    await h.say(ANNA, "hi")
    assert "May I store" in h.texts(ANNA)[-1]
