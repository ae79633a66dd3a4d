"""Inbound auth over the real protocol: only activities signed by a Bot Framework key for this
bot and this service URL get in; every other request is a 401 and changes nothing."""

from __future__ import annotations

import time

from sqlmodel import select

from bot.domain import ProcessedEvent
from tests.teams.support import ANNA, message, token, unsigned
from tests.teams.teams_fake import APP_ID, KID, OTHER_KEY, SIGNING_KEY, jwk


def _refused(h) -> None:
    with h.core.store.session() as session:
        assert session.exec(select(ProcessedEvent)).all() == []
    assert h.chat(ANNA) == []


REFUSED = {
    "missing": lambda url: None,
    "not bearer": lambda url: "Basic abc",
    "alg none": lambda url: "Bearer " + unsigned(url),
    "unknown kid": lambda url: "Bearer " + token(url, kid="unknown-kid"),
    "wrong signature": lambda url: "Bearer " + token(url, key=OTHER_KEY),
    "wrong issuer": lambda url: "Bearer " + token(url, iss="https://sts.example.net/"),
    "wrong audience": lambda url: "Bearer " + token(url, aud="another-bot"),
    "expired": lambda url: "Bearer " + token(url, exp=int(time.time()) - 3600),
    "other serviceurl": lambda url: "Bearer " + token("https://smba.example.net/evil/"),
    "no serviceurl": lambda url: "Bearer " + token(url, serviceurl=None),
}


async def test_a_request_without_an_acceptable_token_is_refused(start, fake):
    h = await start()
    for name, make in REFUSED.items():
        activity = message(fake, ANNA, "hello")
        answer = await h.post(activity, authorization=make(activity["serviceUrl"]))
        assert answer.status == 401, name
    await h.core.dispatcher.run_due()
    _refused(h)


async def test_a_properly_signed_activity_is_accepted(start, fake):
    h = await start()
    answer = await h.post(message(fake, ANNA, "hello"))
    assert answer.status == 200
    await h.core.dispatcher.run_due()
    assert "May I store" in "".join(h.texts(ANNA))
    assert fake.find("GET", "/v1/.well-known/openidconfiguration")  # keys from the metadata


async def test_a_key_not_endorsed_for_teams_is_refused(start, fake):
    fake.keys = [jwk(SIGNING_KEY, KID, ["skype"])]
    h = await start()
    answer = await h.post(message(fake, ANNA, "hello"))
    assert answer.status == 401
    _refused(h)


async def test_a_rolled_key_is_fetched_when_first_seen(start, fake):
    h = await start()
    assert (await h.post(message(fake, ANNA, "hello"))).status == 200
    fake.keys = [*fake.keys, jwk(OTHER_KEY, "rolled", ["msteams"])]
    activity = message(fake, ANNA, "hello again")
    answer = await h.post(
        activity, f"Bearer {token(activity['serviceUrl'], key=OTHER_KEY, kid='rolled')}"
    )
    assert answer.status == 200
    assert len(fake.find("GET", "/v1/.well-known/keys")) == 2


async def test_outbound_tokens_come_from_the_configured_url_and_are_reused(start, fake):
    h = await start()
    for text in ("hello", "yes", "help"):
        await h.say(ANNA, text)
    posts = fake.find("POST", r"/svc/v3/conversations/.+/activities")
    assert len(posts) >= 3
    connector_tokens = [t for t in fake.tokens_issued if "botframework" in t["scope"]]
    assert len(connector_tokens) == 1  # one token, reused for every post
    assert connector_tokens[0]["grant_type"] == "client_credentials"
    assert connector_tokens[0]["client_id"] == APP_ID
    assert {c.token for c in posts} == {f"token-1-{connector_tokens[0]['scope']}"}
