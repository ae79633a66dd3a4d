"""Slack's listeners: record the event, acknowledge Slack, then hand the event to the core.

Bolt calls them (`register`), except for Events API callbacks over HTTP, which the HTTP server
hands to `on_event` itself once their signature is checked (`adapters.slack.http`).

Slack does not send an acknowledged event again, so an event is first recorded in the core's
inbox (`Core.accept`, a few milliseconds) and only then acknowledged; the core handles it
afterwards, and handles it again after a crash (`bot.inbox`). When recording fails or takes
longer than `RECORD_WAIT`, Slack gets 503 instead of an acknowledgement: the Events API then
retries the event, and for a command or a click the person sees Slack's error and can try again.

Every listener catches its own errors otherwise: an AsyncApp listener that raises turns into
an error answer to Slack, which then retries something that was in fact received. Only a
modal's submission waits for the core before answering, because form errors have to go back
inline.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.response import BoltResponse

from adapters.slack import ids, parse
from adapters.slack.render import render_answered, render_home, render_modal
from adapters.slack.work import Work
from bot.events import Event, PersonRef

if TYPE_CHECKING:
    from adapters.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)

SUBMISSION_WAIT = 2.5  # seconds a modal submission may wait for the core (Slack allows 3)
RECORD_WAIT = 2.0  # seconds recording an event may take before Slack is asked to retry


def not_recorded() -> BoltResponse:
    """No acknowledgement: Slack retries the event (the Events API) or shows an error."""
    return BoltResponse(status=503, body="")


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class Listeners:
    def __init__(self, adapter: SlackAdapter, work: Work) -> None:
        self.adapter = adapter
        self.work = work

    def register(self, app: AsyncApp, command: str) -> None:
        app.event(re.compile(".*"))(self.on_event)  # Socket Mode; HTTP: `HttpServer(events=)`
        app.command(command)(self.on_command)
        app.action(re.compile(f"^{ids.PREFIX}"))(self.on_action)
        app.view_submission(ids.FORM_VIEW)(self.on_view_submission)

    # -- handing events to the core

    async def _accept(self, event: Event) -> bool:
        """Record `event` before Slack hears it arrived; False when that failed in time."""
        accept = getattr(self.adapter.core, "accept", None)
        if accept is None:  # a core without an inbox (a test double)
            return True
        try:
            async with asyncio.timeout(RECORD_WAIT):  # no task of its own, as wait_for makes
                await accept(event)
            return True
        except TimeoutError:
            problem = f"the database took longer than {RECORD_WAIT} s"
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
        log.warning(
            "slack: event %s not acknowledged, Slack will send it again (%s)",
            event.event_id,
            problem,
        )
        return False

    def _handle_later(self, event: Event, then: Any = None) -> None:
        async def job() -> None:
            outcome = await self.adapter.core.handle(event)
            if then is not None:
                await then(outcome)

        self.work.spawn(job, serial_key=f"{event.person.workspace}:{event.person.user_id}")

    # -- listeners

    async def on_event(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        """An Events API callback (`body`), whichever way it came: through bolt, or straight
        from the HTTP server, which needs none of bolt's routing for it (`HttpServer`)."""
        kind = (body.get("event") or {}).get("type")
        if kind in ("message", "app_mention"):
            return await self.on_message(ack, body)
        if kind == "app_home_opened":
            await self.on_home_opened(ack, body)
            return None
        await ack()
        return None

    async def on_message(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        try:
            event = parse.message_from_event(body, self.adapter.bot_user_id)
        except Exception:
            log.exception("slack: could not read a message event")
            event = None
        if event is not None:
            if not await self._accept(event):
                return not_recorded()
            self._handle_later(event)
        await ack()
        return None

    async def on_command(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        try:
            event = parse.command_from_body(body)
        except Exception:
            log.exception("slack: could not read a slash command")
            await ack()
            return None
        if not await self._accept(event):
            return not_recorded()
        self._handle_later(event)
        await ack()
        return None

    async def on_action(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        try:
            request = parse.form_request(body)
            choice = None if request else parse.choice_from_action(body)
        except Exception:
            log.exception("slack: could not read an interaction")
            request = choice = None
        if request is not None:  # the trigger_id expires in 3 s: not queued behind anything
            self.work.spawn(lambda: self._open_form(request))
        elif choice is not None:
            if not await self._accept(choice):
                return not_recorded()
            self._handle_later(choice, then=lambda outcome: self._mark_answered(body, outcome))
        await ack()
        return None

    async def on_view_submission(self, ack: AsyncAck, body: dict[str, Any]) -> BoltResponse | None:
        started = asyncio.get_running_loop().time()
        try:
            event = parse.form_from_view(body)
        except Exception:
            log.exception("slack: could not read a form submission")
            await ack()
            return None
        if not await self._accept(event):
            return not_recorded()  # Slack shows the person an error; the modal stays open
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def job() -> None:
            outcome = None
            try:
                outcome = await self.adapter.core.handle(event)
            finally:  # a failure is logged by `Work`; the modal then just closes
                if not result.done():
                    result.set_result(outcome)

        self.work.spawn(job)
        left = SUBMISSION_WAIT - (asyncio.get_running_loop().time() - started)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(result), max(left, 0.1))
        except TimeoutError:
            outcome = None  # the core is still at it: close the modal, the work goes on
        errors = getattr(outcome, "form_errors", None)
        if not errors:
            await ack()
            return None
        blocks = [b["block_id"] for b in body["view"].get("blocks", []) if "block_id" in b]
        shown = {name: message for name, message in errors.items() if name in blocks}
        if not shown and blocks:  # an error about the form as a whole: show it on the first field
            shown = {blocks[0]: " ".join(errors.values())}
        await ack(response_action="errors", errors=shown)
        return None

    async def on_home_opened(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        event = body.get("event") or {}
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        team = body.get("team_id") or ""
        who = parse.person(team, event["user"])
        self.work.spawn(lambda: self.publish_home(who))

    # -- follow-ups

    async def publish_home(self, person: PersonRef) -> None:
        home = await maybe_await(self.adapter.core.home(person))
        view = render_home(home.title, home.programme, home.next_meeting, tuple(home.tasks))
        await self.adapter.client.views_publish(user_id=person.user_id, view=view)

    async def _open_form(self, request: parse.FormRequest) -> None:
        form = request.form
        if form is None:
            finder = getattr(self.adapter.core, "form", None)
            form = await maybe_await(finder(request.person, request.form_id)) if finder else None
        if form is None:
            log.warning("slack: form %s is no longer known", request.form_id)
            return
        metadata = ids.encode_view_metadata(
            request.form_id, request.space.channel_id, request.space.kind
        )
        await self.adapter.client.views_open(
            trigger_id=request.trigger_id, view=render_modal(form, metadata)
        )

    async def _mark_answered(self, body: dict[str, Any], outcome: Any) -> None:
        """Replace the buttons of a shared message by what was chosen, so no one clicks twice."""
        container = body.get("container") or {}
        message = body.get("message") or {}
        if getattr(outcome, "duplicate", False) or getattr(outcome, "declined", False):
            return  # a repeat, or another member's question: its buttons stay for them
        if container.get("is_ephemeral"):
            return
        if not message.get("ts"):
            return
        blocks = render_answered(message.get("blocks") or [], parse.chosen_labels(body))
        await self.adapter.client.chat_update(
            channel=container.get("channel_id") or body["channel"]["id"],
            ts=message["ts"],
            text=message.get("text") or " ",
            blocks=blocks,
        )
