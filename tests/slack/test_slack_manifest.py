"""The app manifests ask for what the adapter uses, in both modes."""

from pathlib import Path

import pytest

MANIFESTS = Path(__file__).resolve().parents[2] / "adapters" / "slack"
SCOPES = {
    "app_mentions:read",
    "chat:write",
    "commands",
    "files:write",
    "groups:read",
    "groups:write",
    "im:history",
    "im:read",
    "im:write",
    "users:read",
}
EVENTS = {"app_home_opened", "app_mention", "message.im"}


def listed_under(text: str, key: str) -> set[str]:
    """The `- item` lines directly under `key:` (enough YAML for these files)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    items = set()
    for line in lines[start + 1 :]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        if line.strip().startswith("- "):
            items.add(line.strip()[2:])
    return items


@pytest.mark.parametrize(
    ("name", "socket"), [("manifest.yml", "false"), ("manifest-socket.yml", "true")]
)
def test_manifest(name: str, socket: str) -> None:
    text = (MANIFESTS / name).read_text()
    assert listed_under(text, "bot") == SCOPES
    assert listed_under(text, "bot_events") == EVENTS
    assert "- command: /maatje" in text
    assert "home_tab_enabled: true" in text and "messages_tab_enabled: true" in text
    assert f"socket_mode_enabled: {socket}" in text
    if socket == "false":
        assert text.count("url: https://maatje.example.org/slack/events") == 3
    else:
        assert "url:" not in text
