"""Platform adapters: console, Slack, Discord."""
