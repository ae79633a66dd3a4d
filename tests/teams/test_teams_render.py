"""Pure parts of the Teams adapter: escaping, mentions, cards, typed commands, profiles, the
app package and the [teams] configuration."""

from __future__ import annotations

import io
import json
import struct
import zipfile

import pytest

from adapters.teams import app_package, parse
from adapters.teams.escape import escape, unescape
from adapters.teams.profiles import iana_zone, profile_from
from adapters.teams.render import mention_text, render
from bot.config import ConfigError, parse_config
from bot.replies import Mentioned, Outgoing, OutgoingOption

COMMANDS = {"help": False, "goals": False, "status": True, "poll": True}


def test_escaped_text_has_no_tags_links_or_markup():
    typed = "<at>Bob</at> [x](https://e.example) <a href='x'>y</a> www.e.nl me@e.nl *b* _i_"
    shown = escape(typed)
    for live in ("<at", "<a ", "](", "https://", "www.e", "me@e"):
        assert live not in shown
    assert unescape(shown) == typed


def test_only_the_bots_own_mention_is_live_and_only_in_shared_chats():
    text = f"Hi {mention_text('Anna')}, {escape('<at>Bob</at>')} and <at>Eve</at>"
    message = Outgoing(text, "en", "UTC", mentions=(Mentioned("aad-anna", "Anna"),))
    [activity] = render(message, shared=True)
    assert activity["entities"] == [
        {
            "type": "mention",
            "text": "<at>Anna</at>",
            "mentioned": {"id": "aad-anna", "name": "Anna"},
        }
    ]
    assert activity["text"].count("<at>") == 1  # Eve's forged tag is escaped here too
    [direct] = render(message, shared=False)
    assert "entities" not in direct and "<at" not in direct["text"]
    assert "Hi Anna," in direct["text"]


def test_a_mention_on_a_card_carries_its_entity_in_the_card():
    message = Outgoing(
        f"{mention_text('Anna')}, your turn",
        "en",
        "UTC",
        choices=(OutgoingOption("yes", "Yes"),),
        choice_token="f:1:x",
        mentions=(Mentioned("aad-anna", "Anna"),),
    )
    [card] = render(message, shared=True)
    content = card["attachments"][0]["content"]
    assert content["msteams"]["entities"][0]["mentioned"]["id"] == "aad-anna"


def test_many_options_become_a_choice_list_and_long_text_several_messages():
    options = tuple(OutgoingOption(str(i), f"Option {i}") for i in range(12))
    message = Outgoing("word " * 5000, "en", "UTC", choices=options, choice_token="f:1:x")
    activities = render(message, shared=False)
    assert len(activities) == 3 and "attachments" in activities[-1]
    body = activities[-1]["attachments"][0]["content"]["body"]
    [choices] = [e for e in body if e["type"] == "Input.ChoiceSet"]
    assert len(choices["choices"]) == 12 and choices["style"] == "compact"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status", ("status", ())),
        ("Status", ("status", ())),
        ("maatje status", ("status", ())),
        ("/status", ("status", ())),
        ("maatje", ("help", ())),
        ("maatje frobnicate", ("frobnicate", ())),
        (
            "poll send relationship to all mentees",
            ("poll", ("send", "relationship", "to", "all", "mentees")),
        ),
        ("goals new", ("goals", ("new",))),
        ("help me plan my first year", None),
        ("hello", None),
        ("", None),
    ],
)
def test_typed_commands(text, expected):
    assert parse.command_in(text, COMMANDS) == expected


def test_the_bots_mention_is_removed_and_others_become_names():
    activity = {
        "text": "<at>Maatje</at> hi <at>Anna&nbsp;V</at><br>next &amp; last",
        "recipient": {"id": "28:bot"},
        "entities": [{"type": "mention", "mentioned": {"id": "28:bot", "name": "Maatje"}}],
    }
    assert parse.plain_text(activity) == "hi @Anna V\nnext & last"


def test_a_long_conversation_id_gets_a_short_stable_key():
    long_id = "a:1" + "x" * 150
    assert (
        parse.channel_key(long_id) == parse.channel_key(long_id)
        and len(parse.channel_key(long_id)) <= 64
    )
    assert parse.channel_key("19:abc@thread.tacv2;messageid=123") == "19:abc@thread.tacv2"


def test_profiles_from_the_connector_and_graph():
    profile = profile_from(
        None,
        {"displayName": "Anna de Vries", "preferredLanguage": "nl-NL"},
        {"timeZone": "Eastern Standard Time", "language": {"locale": "en-US"}},
    )
    assert profile.display_name == "Anna de Vries"
    assert profile.locale == "en" and profile.timezone == "America/New_York"
    assert iana_zone("Europe/Amsterdam") == "Europe/Amsterdam"
    assert iana_zone("Atlantis Standard Time") is None


def test_the_app_package():
    package = zipfile.ZipFile(io.BytesIO(app_package("app-1", [("help", "this overview")])))
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(package.read("manifest.json"))
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] == "app-1" and bot["supportsFiles"] is True
    assert bot["commandLists"][0]["commands"] == [{"title": "help", "description": "this overview"}]
    for name, size in (("color.png", 192), ("outline.png", 32)):
        png = package.read(name)
        assert png.startswith(b"\x89PNG") and struct.unpack(">II", png[16:24]) == (size, size)


def test_the_manifest_command_lists_every_menu_command(tmp_path):
    from bot.cli import main

    out = tmp_path / "maatje.zip"
    assert main(["teams", "manifest", "--app-id", "app-2", "--out", str(out)]) == 0
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    titles = [c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]]
    assert titles[:3] == ["help", "language", "privacy"]
    assert len(titles) <= 10


def test_teams_configuration():
    env = {"TEAMS_APP_PASSWORD": "secret"}
    config = parse_config(
        {"teams": {"enabled": True, "app_id": "a", "tenant_id": "t", "port": 0}}, env
    ).teams
    assert config.token_endpoint == "https://login.microsoftonline.com/t/oauth2/v2.0/token"
    with pytest.raises(ConfigError, match="TEAMS_APP_PASSWORD"):
        parse_config({"teams": {"enabled": True, "app_id": "a", "tenant_id": "t"}}, {})
    with pytest.raises(ConfigError, match=r"teams\.team_id"):
        parse_config({"teams": {"pair_space": "channel"}}, env)
    with pytest.raises(ConfigError, match=r"teams\.token_url"):
        parse_config({"teams": {"token_url": "ftp://x"}}, env)
    coordinators = (
        parse_config(
            {
                "programmes": [
                    {
                        "name": "P",
                        "slug": "p",
                        "language": "en",
                        "timezone": "UTC",
                        "start": "2026-01-01",
                        "end": "2026-12-31",
                        "meeting_cadence": "weekly",
                        "meetings": 4,
                        "coordinators": {"teams": ["aad-1"]},
                    }
                ]
            },
            env,
        )
        .programmes[0]
        .coordinators
    )
    assert coordinators["teams"] == ("aad-1",)
