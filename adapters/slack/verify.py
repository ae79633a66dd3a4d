"""The door of Slack's HTTP endpoint: a request's signature is checked on its raw bytes, before
anything reads the body, and refusals are logged without letting strangers fill the log.

Slack signs every request with the app's signing secret: `X-Slack-Signature` is
`v0=` + HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{body}`, and a timestamp more than five
minutes away from now is a replay. A request that fails is answered 401 before its body is
decoded, let alone parsed. The one exception is Slack's `ssl_check` probe for slash commands,
recognised by its first bytes and answered 200 without being read further.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping

log = logging.getLogger("adapters.slack.http")

MAX_AGE = 5 * 60  # seconds a signed request stays valid (Slack's own rule)
SUMMARY_AFTER = 60.0  # seconds: refusals after the first are counted and reported together


class Refusal(Exception):
    """Why a request was turned away; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def is_ssl_check(raw: bytes) -> bool:
    """Slack's certificate probe for slash commands: `ssl_check=1&token=…`, form-encoded."""
    return raw.startswith(b"ssl_check=1")


def check_signature(
    secret: str, raw: bytes, headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> None:
    """Raise `Refusal(401)` unless `raw` carries a fresh, valid signature made with `secret`."""
    stamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not stamp or not signature:
        raise Refusal(401, "unsigned")
    if not stamp.isdigit() or abs(now() - int(stamp)) > MAX_AGE:
        raise Refusal(401, "stale or bad timestamp")
    base = b"v0:" + stamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refusal(401, "bad signature")


class RefusalLog:
    """Logs the first refusal at once and counts the rest for `SUMMARY_AFTER` seconds, then
    writes one summary line: a flood of forged requests costs a few log lines a minute."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._timer: asyncio.TimerHandle | None = None

    def note(self, refusal: Refusal, remote: str | None) -> None:
        if self._timer is None:
            log.warning(
                "slack: refused a request from %s (%s, HTTP %s); further refusals are counted "
                "and summarised every %d s",
                remote or "?",
                refusal.reason,
                refusal.status,
                SUMMARY_AFTER,
            )
            self._timer = asyncio.get_running_loop().call_later(SUMMARY_AFTER, self.flush)
            return
        self._counts[refusal.reason] += 1

    def flush(self) -> None:
        """Write the summary of what was counted (also called on stop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._counts:
            return
        details = ", ".join(f"{reason}: {n}" for reason, n in sorted(self._counts.items()))
        log.warning("slack: refused %d more requests (%s)", sum(self._counts.values()), details)
        self._counts.clear()
