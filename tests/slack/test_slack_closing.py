"""Over the fake Slack: a coordinator's `poll send` reaches the participants, and closing the
programme ends with a mentor's certificate uploaded as a PDF file."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.domain import MentorGroup, Pair, Person, Programme, Role
from tests.slack.slack_fake import FakeSlack
from tests.slack.test_slack_matching import command, enrol
from tests.slack.test_slack_with_core import start_bot


async def test_poll_send_reaches_people_and_a_certificate_is_uploaded(
    fake_slack: FakeSlack, core_factory: Any, clock: Any
) -> None:
    bot = await start_bot(fake_slack, core_factory)
    try:
        enrol(bot.core, "U0MAARTEN", "Maarten", Role.MENTOR, {})
        enrol(bot.core, "U0ANNA", "Anna", Role.MENTEE, {})
        with bot.core.store.session() as session:
            programme = session.exec(select(Programme)).one()
            ids = {p: pid for p, pid in _people(session)}
            group = MentorGroup(programme_id=programme.id, mentor_id=ids["Maarten"], name="Maarten")
            session.add(group)
            session.flush()
            session.add(
                Pair(
                    programme_id=programme.id,
                    group_id=group.id,
                    mentor_id=ids["Maarten"],
                    mentee_id=ids["Anna"],
                    matched_at=clock.now(),
                )
            )

        await bot.post.command(command("poll send relationship to all"))
        await bot.settle()
        posted = bot.fake.calls_to("chat.postMessage")
        invites = [m for m in posted if "Evaluation: you and your mentor" in m.get("text", "")]
        assert len(invites) == 2  # Maarten and Anna, each in their own direct message

        await bot.post.command(command("close 1 yes"))
        await bot.settle()
        assert not bot.fake.uploads
        clock.advance(timedelta(days=15))
        await bot.settle()
        assert len(bot.fake.uploads) == 1
        (content,) = bot.fake.uploads.values()
        assert content.startswith(b"%PDF-")
        (complete,) = bot.fake.calls_to("files.completeUploadExternal")
        assert "certificate-test-maarten.pdf" in str(complete)
    finally:
        await bot.adapter.stop()


def _people(session: Any) -> list[tuple[str | None, int | None]]:
    return [(p.display_name, p.id) for p in session.exec(select(Person)).all()]
