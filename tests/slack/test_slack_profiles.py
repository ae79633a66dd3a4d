"""People's Slack profiles: `users.info` into a name, zone and locale; lookups paced to the
method's rate tier; the bot's own user mentions."""

from __future__ import annotations

import pytest

from adapters.slack.profiles import Turns, profile_of
from bot.adapter import DeliveryError
from bot.events import PersonRef
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


async def test_lookups_keep_to_the_tier_without_waiting(running) -> None:
    """Two at once, then 1.5 a second: a lookup beyond that is told when its turn is, and its
    turn is kept for it."""
    now = [0.0]
    running.adapter.profiles.turns = Turns(1.5, burst=2, monotonic=lambda: now[0])
    for user in ("U1", "U2", "U3", "U4"):
        running.fake.add_user(user, user)
    refused = {}
    for user in ("U1", "U2", "U3", "U4"):
        try:
            await running.adapter.profile(PersonRef("slack", "T0TEAM", user))
        except DeliveryError as exc:
            assert not exc.permanent
            refused[user] = exc.retry_after
    assert refused == pytest.approx({"U3": 1 / 1.5, "U4": 2 / 1.5})
    assert len(running.fake.calls_to("users.info")) == 2
    now[0] = 1 / 1.5
    await running.adapter.profile(PersonRef("slack", "T0TEAM", "U3"))  # its turn
    with pytest.raises(DeliveryError):
        await running.adapter.profile(PersonRef("slack", "T0TEAM", "U4"))  # not yet
    now[0] = 2 / 1.5
    await running.adapter.profile(PersonRef("slack", "T0TEAM", "U4"))
    assert len(running.fake.calls_to("users.info")) == 4


async def test_a_turn_kept_when_the_lookup_is_planned_is_its_turn(running) -> None:
    """The core asks for a newcomer's turn when it plans the lookup (`lookup_turn`): the
    lookup that comes then goes, and a lookup nobody planned waits behind the kept turns."""
    now = [0.0]
    running.adapter.profiles.turns = Turns(1.5, burst=2, monotonic=lambda: now[0])
    for user in ("U1", "U2", "U3", "U4"):
        running.fake.add_user(user, user)
    ref = {user: PersonRef("slack", "T0TEAM", user) for user in ("U1", "U2", "U3", "U4")}
    kept = [running.adapter.lookup_turn(ref[user]) for user in ("U1", "U2", "U3")]
    assert kept == pytest.approx([0, 0, 1 / 1.5])
    assert running.adapter.lookup_turn(ref["U3"]) == pytest.approx(1 / 1.5)  # the same turn
    await running.adapter.profile(ref["U1"])
    await running.adapter.profile(ref["U2"])
    with pytest.raises(DeliveryError) as early:
        await running.adapter.profile(ref["U4"])  # not planned: after U3's kept turn
    assert early.value.retry_after == pytest.approx(2 / 1.5)
    now[0] = 1 / 1.5
    await running.adapter.profile(ref["U3"])
    assert [call["user"] for call in running.fake.calls_to("users.info")] == ["U1", "U2", "U3"]


def test_a_mention_is_made_by_the_bot_from_the_user_id_only(running) -> None:
    assert running.adapter.mention("U0ANNA", "Anna") == "<@U0ANNA>"
    assert running.adapter.mention("<!channel>", "Anna <b>") == "Anna &lt;b&gt;"
