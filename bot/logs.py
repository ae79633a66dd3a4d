"""Logging set-up, and the filter that keeps what people wrote out of the logs.

The platform SDKs log whole request and response bodies at DEBUG: slack-sdk every Web API call
("Sending a request - ... json: {'text': ...}") and answer, discord.py its HTTP payloads and
gateway events, aiohttp its traffic. Those bodies carry messages, answers, names and profiles.
With `[logging] level = "DEBUG"` Maatje's own lines are wanted, theirs are not: a DEBUG record
from one of these libraries is withheld; from INFO up (errors, rate limits, reconnects) they
pass. Maatje itself never logs what people write (docs/privacy.md).
"""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
BODY_LOGGERS = ("slack_sdk", "slack_bolt", "discord", "aiohttp", "websockets")
"""Libraries whose DEBUG records hold request and response bodies."""


class WithholdBodies(logging.Filter):
    """Drops DEBUG records of the platform libraries (they print message bodies)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG:
            return True
        return record.name.split(".", 1)[0] not in BODY_LOGGERS


WITHHOLD_BODIES = WithholdBodies()


def configure(level: str) -> None:
    """Log at `level` to stderr, with the platform libraries' bodies withheld."""
    logging.basicConfig(level=level, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(WITHHOLD_BODIES)
    if level != "DEBUG":  # APScheduler logs two lines per tick at INFO
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
