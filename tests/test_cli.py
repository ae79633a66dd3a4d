"""The `maatje` command line beyond run and demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent


def maatje(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env=env,
    )


def test_discord_invite_url() -> None:
    result = maatje("discord", "invite-url", "--application-id", "123456789012345678")
    assert result.returncode == 0
    query = parse_qs(urlparse(result.stdout.strip()).query)
    assert query["client_id"] == ["123456789012345678"]
    assert set(query["scope"][0].split()) == {"bot", "applications.commands"}
    assert int(query["permissions"][0]) > 0


def test_discord_invite_url_needs_an_application() -> None:
    result = maatje("discord", "invite-url", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2 and "--application-id" in result.stderr


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout
    assert (tmp_path / "m.db").exists()
