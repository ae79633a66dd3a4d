"""A Slack workspace whose people act only through Slack's protocol: signed events, slash
commands and interactions into the adapter, profiles served by the fake's users.info. Nothing
about them is written into the database; Maatje learns their names, zones and languages the
way it does in production.

    slack = Workspace(bot)
    anna = slack.member("U0ANNA")
    await anna.intake("mentee", MENTEE_FORM, mentee_typed())
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from adapters.slack import ids
from tests.slack.slack_fake import BOT_USER
from tests.slack.support import load_payload
from tests.slack.test_slack_with_core import Bot

_n = itertools.count(1)

MENTOR_FORM = {"field": "Law", "current": "Lawyer"}
MENTOR_TYPED = ["1,2", "2", "2,4", "2,3", "20-10-2026", "3", "1", "Coaching", "yes"]
"""A mentor's typed intake answers: 2 mentees, Tuesdays and Thursdays, afternoons and
evenings, either language (Slack reports the zone, so it is not asked)."""
MENTEE_FORM = {"programme": "Law", "year": "1"}


def mentee_typed(dayparts: str = "3", no: str = "no", yes: str = "yes") -> list[str]:
    """A mentee's typed intake answers: Tuesdays at `dayparts`, either language."""
    return ["My plans", "1", "2", dayparts, "20-10-2026", "3", "1", "1", no, "4", "Why", yes]


@dataclass
class Member:
    slack: Workspace
    user_id: str

    @property
    def bot(self) -> Bot:
        return self.slack.bot

    @property
    def dm(self) -> str:
        return f"D{self.user_id}"  # the fake's conversations.open answer

    # -- what they read

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages Maatje posted in their DM (or in `channel`)."""
        return self.bot.messages(channel or self.dm)

    def last(self, channel: str | None = None) -> dict[str, Any]:
        posts = self.posts(channel)
        assert posts, f"nothing was posted to {self.user_id} in {channel or self.dm}"
        return posts[-1]

    def texts(self) -> list[str]:
        return [m["text"] for m in self.posts()]

    def ephemeral(self) -> list[str]:
        return [
            m["text"]
            for m in self.bot.fake.calls_to("chat.postEphemeral")
            if m["user"] == self.user_id
        ]

    # -- what they do

    async def intake(self, role: str, form: dict[str, str], typed: list[str]) -> None:
        """Consent and role by button, the first form in its modal, the rest typed."""
        await self.say("hello")
        await self.click(self.last(), "yes")
        await self.click(self.last(), role)
        assert (await self.fill(self.last(), form)) is None  # accepted
        for answer in typed:
            await self.say(answer)

    async def say(self, text: str) -> None:
        """A direct message to Maatje."""
        body = load_payload("event_message_im.json")
        n = next(_n)
        body["event_id"] = f"EvWS{n:06d}"
        body["event"].update(
            user=self.user_id, text=text, channel=self.dm, ts=f"1700003000.{n:06d}"
        )
        await self.bot.post.event(body)
        await self.bot.settle()

    async def mention(self, channel: str, text: str) -> None:
        """`@Maatje text` in a channel (how answers are typed in a pair space)."""
        body = load_payload("event_app_mention.json")
        n = next(_n)
        body["event_id"] = f"EvWS{n:06d}"
        body["event"].update(
            user=self.user_id,
            text=f"<@{BOT_USER}> {text}",
            channel=channel,
            ts=f"1700004000.{n:06d}",
        )
        await self.bot.post.event(body)
        await self.bot.settle()

    async def command(self, text: str, channel: str = "C0GENERAL") -> None:
        fields = load_payload("command_pair.json") | {
            "text": text,
            "user_id": self.user_id,
            "channel_id": channel,
            "trigger_id": f"{next(_n)}.command.trigger",
        }
        await self.bot.post.command(fields)
        await self.bot.settle()

    def _interaction(self, name: str, message: dict[str, Any]) -> dict[str, Any]:
        body = load_payload(name)
        n = next(_n)
        body["trigger_id"] = f"{n}.ws.trigger"
        body["user"] = {**body["user"], "id": self.user_id, "name": self.user_id.lower()}
        body["channel"]["id"] = body["container"]["channel_id"] = message["channel"]
        body["container"]["message_ts"] = f"1700005000.{n:06d}"
        body["message"] = {"ts": f"1700005000.{n:06d}", **message}
        return body

    async def click(self, message: dict[str, Any], value: str) -> None:
        """A button (or a select's option) under `message`."""
        body = self._interaction("block_actions_button.json", message)
        for block in message["blocks"]:
            for element in block.get("elements", []):
                if element["type"] == "button" and element.get("value") == value:
                    body["actions"] = [
                        {**element, "block_id": block["block_id"], "action_ts": f"{next(_n)}.0"}
                    ]
                    await self.bot.post.interaction(body)
                    await self.bot.settle()
                    return
        raise AssertionError(f"no button {value!r} in {message['blocks']}")

    async def pick(self, message: dict[str, Any], values: list[str]) -> None:
        """Tick checkboxes under `message` and press its ✓ button."""
        body = self._interaction("block_actions_multi_submit.json", message)
        [actions] = [b for b in message["blocks"] if b["type"] == "actions"]
        boxes, submit = actions["elements"]
        chosen = [o for o in boxes["options"] if o["value"] in values]
        body["state"] = {
            "values": {
                actions["block_id"]: {ids.PICK: {"type": "checkboxes", "selected_options": chosen}}
            }
        }
        body["actions"] = [{**submit, "block_id": actions["block_id"], "action_ts": "1.0"}]
        await self.bot.post.interaction(body)
        await self.bot.settle()

    async def fill(self, message: dict[str, Any], values: dict[str, str]) -> Any:
        """Press the form button under `message`, then send the modal Slack opened."""
        [button] = [
            (block, element)
            for block in message["blocks"]
            for element in block.get("elements", [])
            if element.get("action_id") == ids.OPEN_FORM
        ]
        body = self._interaction("block_actions_button.json", message)
        body["actions"] = [{**button[1], "block_id": button[0]["block_id"]}]
        opened = len(self.bot.fake.calls_to("views.open"))
        await self.bot.post.interaction(body)
        views = await self.bot.fake.wait_for("views.open", opened + 1)
        modal = views[opened]["view"]
        submission = load_payload("view_submission.json")
        submission["trigger_id"] = f"{next(_n)}.view.trigger"
        submission["user"] = {**submission["user"], "id": self.user_id}
        submission["view"].update(
            blocks=modal["blocks"],
            private_metadata=modal["private_metadata"],
            state={
                "values": {
                    name: {"value": {"type": "plain_text_input", "value": value}}
                    for name, value in values.items()
                }
            },
        )
        answer = await self.bot.post.interaction(submission)
        await self.bot.settle()
        return json.loads(answer.text) if answer.text else None


class Workspace:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def member(self, user_id: str) -> Member:
        return Member(self, user_id)

    def channel_named(self, prefix: str) -> str:
        [found] = [c["id"] for c in self.bot.fake.channels.values() if c["name"].startswith(prefix)]
        return found

    def uploads_to(self, channel: str) -> dict[str, bytes]:
        """File name → content of what Maatje uploaded to `channel`."""
        found = {}
        for call in self.bot.fake.calls_to("files.completeUploadExternal"):
            if call["channel_id"] != channel:
                continue
            files = call["files"] if isinstance(call["files"], list) else json.loads(call["files"])
            for f in files:
                found[f["title"]] = self.bot.fake.uploads[f["id"]]
        return found
