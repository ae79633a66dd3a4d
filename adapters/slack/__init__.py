"""Maatje on Slack: slack-bolt (HTTP or Socket Mode) on the outside, neutral events inside."""

from adapters.slack.adapter import SlackAdapter, create_adapter
from adapters.slack.escape import escape

__all__ = ["SlackAdapter", "create_adapter", "escape"]
