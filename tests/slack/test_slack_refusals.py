"""What strangers send to the Slack endpoint: refused on the signature before the body is read,
malformed bodies refused with 400, and no traceback or log line per request."""

from __future__ import annotations

import json
import logging
import time

import pytest

from adapters.slack import verify
from tests.slack.support import post_to_slack_endpoint

JSON, FORM = "application/json", "application/x-www-form-urlencoded"
UNREADABLE = (
    ("{not json", JSON),
    ("[1, 2]", JSON),
    ('"a string"', JSON),
    ("payload=%7Bnot+json", FORM),
    ("payload=%5B%5D", FORM),
)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE)
async def test_an_unsigned_body_is_refused_before_it_is_read(running, body, content_type, caplog):
    url = running.url + "/slack/events"
    forged = await post_to_slack_endpoint(url, body, content_type, signature="v0=" + "0" * 64)
    assert forged.status == 401
    unsigned = await post_to_slack_endpoint(
        url, body, content_type, headers={"X-Slack-Signature": ""}
    )
    assert unsigned.status == 401
    await running.adapter.idle()
    assert running.core.events == []
    assert tracebacks(caplog) == []


@pytest.mark.parametrize(("body", "content_type"), UNREADABLE)
async def test_a_signed_body_that_cannot_be_read_gets_400(running, body, content_type, caplog):
    answer = await post_to_slack_endpoint(running.url + "/slack/events", body, content_type)
    assert answer.status == 400
    await running.adapter.idle()
    assert running.core.events == []
    assert tracebacks(caplog) == []


async def test_a_flood_of_forged_requests_is_summarised(running, slack_post, payload, caplog):
    caplog.set_level(logging.INFO)
    body = payload("event_message_im.json")
    before = len(caplog.records)
    for n in range(60):
        answer = await slack_post.event(body | {"event_id": f"EvFORGED{n}"}, secret="guessed")
        assert answer.status == 401
    stale = int(time.time()) - 3600
    assert (await slack_post.event(body, timestamp=stale)).status == 401
    during = [r.getMessage() for r in caplog.records[before:]]
    assert len(during) == 1, during  # the first refusal, then only counting
    assert "refused a request" in during[0] and "bad signature" in during[0]
    assert json.dumps(body)[:20] not in during[0]  # nothing of what a stranger sent

    await running.adapter.stop()  # the summary is written at the latest on stop
    summary = [r.getMessage() for r in caplog.records[before:]][1:]
    assert summary == [
        "slack: refused 60 more requests (bad signature: 59, stale or bad timestamp: 1)"
    ]
    assert running.core.events == []


async def test_slacks_certificate_probe_is_answered(running) -> None:
    answer = await post_to_slack_endpoint(
        running.url + "/slack/events", "ssl_check=1&token=x", FORM, signature="v0=bad"
    )
    assert answer.status == 200
    assert running.core.events == []


def test_the_signature_is_slacks_hmac_of_timestamp_and_body() -> None:
    from tests.slack.support import SECRET, sign

    raw = b'{"type":"event_callback"}'
    now = 1_700_000_000
    headers = {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": sign(raw.decode(), now)}
    verify.check_signature(SECRET, raw, headers, now=lambda: now + 299)
    with pytest.raises(verify.Refusal, match="stale"):
        verify.check_signature(SECRET, raw, headers, now=lambda: now + 301)
    with pytest.raises(verify.Refusal, match="bad signature"):
        verify.check_signature(SECRET, raw + b" ", headers, now=lambda: now)
    with pytest.raises(verify.Refusal, match="unsigned"):
        verify.check_signature(SECRET, raw, {}, now=lambda: now)
