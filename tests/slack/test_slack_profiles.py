"""People's Slack profiles: `users.info` into a name, zone and locale; lookups paced to the
method's rate tier; the bot's own user mentions."""

from __future__ import annotations

import pytest

from adapters.slack.profiles import profile_of
from bot.adapter import DeliveryError
from bot.events import PersonRef
from bot.pacing import Pacer
from tests.slack.support import load_payload

ANNA = PersonRef("slack", "T0TEAM", "U0ANNA")


def test_the_full_name_comes_first_then_the_display_name_then_the_handle() -> None:
    user = load_payload("users_info.json")["user"]
    profile = profile_of(user)
    assert profile.display_name == "Anna Jansen"
    assert (profile.timezone, profile.locale) == ("America/New_York", "en-US")
    user["real_name"] = user["profile"]["real_name"] = ""
    assert profile_of(user).display_name == "anna <3"  # raw: whoever shows it escapes it
    user["profile"]["display_name"] = ""
    assert profile_of(user).display_name == "anna.jansen"
    assert profile_of({}).display_name is None


async def test_a_profile_is_asked_of_users_info_with_the_locale(running) -> None:
    running.fake.add_user("U0ANNA", "Anna Jansen", tz="America/New_York", locale="en-US")
    profile = await running.adapter.profile(ANNA)
    assert (profile.display_name, profile.timezone, profile.locale) == (
        "Anna Jansen",
        "America/New_York",
        "en-US",
    )
    [asked] = running.fake.calls_to("users.info")
    assert asked["user"] == "U0ANNA" and asked["include_locale"] in (True, "true", "1")


async def test_an_unknown_user_is_a_permanent_failure(running) -> None:
    with pytest.raises(DeliveryError) as failed:
        await running.adapter.profile(ANNA)
    assert failed.value.permanent


async def test_a_rate_limited_lookup_comes_back_with_slacks_retry_after(running) -> None:
    running.fake.fail("users.info", status=429, headers={"Retry-After": "30"}, times=2)
    with pytest.raises(DeliveryError) as failed:
        await running.adapter.profile(ANNA)
    assert not failed.value.permanent and failed.value.retry_after == 30


async def test_lookups_keep_to_the_tier(running) -> None:
    now, waits = [0.0], []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    running.adapter.profiles.pacer = Pacer(1.5, burst=2, monotonic=lambda: now[0], sleep=sleep)
    running.fake.add_user("U0ANNA", "Anna Jansen")
    for _ in range(4):
        await running.adapter.profile(ANNA)
    assert waits == pytest.approx([1 / 1.5, 1 / 1.5])  # two at once, then 1.5 a second


def test_a_mention_is_made_by_the_bot_from_the_user_id_only(running) -> None:
    assert running.adapter.mention("U0ANNA", "Anna") == "<@U0ANNA>"
    assert running.adapter.mention("<!channel>", "Anna <b>") == "Anna &lt;b&gt;"
