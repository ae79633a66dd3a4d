"""Maatje on Microsoft Teams: Bot Framework activities in, the Teams SDK's API client and
Adaptive Cards out, Microsoft Graph for spaces and installs."""

from adapters.teams.adapter import TeamsAdapter, create_adapter
from adapters.teams.escape import escape
from adapters.teams.manifest import app_package

__all__ = ["TeamsAdapter", "app_package", "create_adapter", "escape"]
