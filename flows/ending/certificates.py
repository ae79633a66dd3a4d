"""`certificates` for coordinators: preview who gets one, then send them.

certificates        who meets the programme's criteria (and what the others miss), with the
                    first few certificates attached as the mentors will get them, in their
                    language
certificates send   each eligible mentor gets their PDF in a direct message — once: sending
                    again later reaches only mentors who became eligible since

Meetings are counted by the function given to `CertificatesCommand` (by default the meetings
marked held; bot/services/certificates.py). A certificate is dated in the programme's zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import CommandSpec, Turn, outbox
from bot.delivery import enqueue_outbound
from bot.domain import OutboxItem, Person, Programme
from bot.engine import Outbound
from bot.i18n import Lines, Text, _l, _n
from bot.replies import Attachment, Reply
from bot.services import certificates, people
from bot.spaces import Work

ONE = "certificates.one"
"""The job that renders and sends one mentor's certificate."""
PREVIEW = 3
"""Certificates the preview attaches: each takes ~0.1 s in the coordinator's turn, while
everyone else's answers wait; the rest are made the same way."""


def _key(programme: Programme, person_id: int) -> str:
    return f"certificate:{programme.id}:{person_id}"


def _job_key(programme: Programme, person_id: int) -> str:
    return f"{ONE}:{programme.id}:{person_id}"


class CertificatesCommand:
    def __init__(self, meetings_held: certificates.MeetingsHeld | None = None) -> None:
        self.meetings_held = meetings_held

    def spec(self) -> CommandSpec:
        return CommandSpec(
            "certificates",
            self.run,
            _l("preview and send the mentors' certificates (coordinators)"),
            coordinator_only=True,
        )

    def pdf(self, turn: Turn, programme: Programme, person_id: int) -> Attachment:
        person = turn.session.get(Person, person_id)
        assert person is not None
        language = people.language_of(turn.session, person)
        today = turn.now.astimezone(ZoneInfo(programme.timezone)).date()
        content = certificates.certificate_for(turn.session, programme, person_id, today)
        pdf = certificates.render_pdf(
            content, lambda text: turn.engine.translator.render(text, language)
        )
        slug = "".join(c if c.isalnum() else "-" for c in content.name.lower()).strip("-")
        return Attachment(
            f"certificate-{programme.slug}-{slug or person_id}.pdf", pdf, "application/pdf"
        )

    def run(self, turn: Turn, args: tuple[str, ...]) -> None:
        programme = people.latest_coordinated(turn.session, turn.person_id)
        if programme is None:
            turn.say(_l("You don't coordinate a programme."))
            return
        criteria = certificates.Criteria.of(programme)
        verdicts = certificates.check(turn.session, programme, criteria, self.meetings_held)
        ready = [v.person_id for v in verdicts if v.eligible]
        sending = bool(args) and args[0].lower() in ("send", "verstuur")
        if sending:
            self.send(turn, programme, ready)
            return
        waiting = [
            _l("{name}: {missing}", name=self._name(turn, v.person_id), missing=list(v.missing))
            for v in verdicts
            if not v.eligible
        ]
        shown = ready[:PREVIEW]
        turn.say(
            _l(
                "Certificates for {programme}.\nReady: {ready}\nNot yet: {waiting}\n\n"
                "{attached} Send them with 'certificates send'.",
                programme=programme.name,
                ready=[self._name(turn, pid) for pid in ready] or _l("no one"),
                waiting=Lines(tuple(waiting)) if waiting else _l("no one"),
                attached=self._attached(turn, shown, len(ready) - len(shown)),
            ),
            files=tuple(self.pdf(turn, programme, pid) for pid in shown),
        )

    def _attached(self, turn: Turn, shown: list[int], rest: int) -> Text:
        """What the preview's attachments are: all certificates, or the first few."""
        if not rest:
            return _l("The certificates are attached as each mentor will receive them.")
        return _n(
            "Attached are the certificates of {names} as they will receive them; the other "
            "{count} is made the same way, with the mentor's own name and figures.",
            "Attached are the certificates of {names} as they will receive them; the other "
            "{count} are made the same way, each with the mentor's own name and figures.",
            rest,
            names=[self._name(turn, pid) for pid in shown],
        )

    def send(self, turn: Turn, programme: Programme, ready: list[int]) -> None:
        new, before = self.queue(turn.session, programme, ready, turn.now)
        turn.say(
            _n(
                "I'm sending {count} certificate ({before} sent earlier).",
                "I'm sending {count} certificates ({before} sent earlier).",
                len(new),
                before=before,
            )
        )

    def queue(
        self, session: Session, programme: Programme, ready: list[int], now: datetime
    ) -> tuple[list[int], int]:
        """One job per mentor in `ready` whose certificate was neither sent nor queued before:
        each renders one PDF in its own transaction (~0.1 s), so sending two hundred does not
        hold everyone else's answers up for half a minute. Returns the mentors queued now and
        how many were sent or queued before."""
        assert programme.id is not None
        message_keys = {f"{_key(programme, pid)}:0": pid for pid in ready}
        job_keys = {_job_key(programme, pid): pid for pid in ready}
        seen = session.exec(
            select(OutboxItem.idempotency_key).where(
                col(OutboxItem.idempotency_key).in_([*message_keys, *job_keys])
            )
        ).all()
        earlier = {message_keys.get(key) or job_keys[key] for key in seen}
        new = [pid for pid in ready if pid not in earlier]
        for person_id in new:
            outbox.enqueue(
                session,
                ONE,
                {"programme": programme.id, "person": person_id},
                _job_key(programme, person_id),
                now,
                now,
            )
        return new, len(ready) - len(new)

    def send_one(self, work: Work, item: OutboxItem) -> None:
        """The job `queue` wrote: the mentor's certificate, with a thank-you, once."""
        programme = work.session.get(Programme, item.payload["programme"])
        person_id = item.payload["person"]
        if programme is None or work.session.get(Person, person_id) is None:
            return  # the programme or the person was erased meanwhile
        message = Reply(
            _l(
                "Thank you for being a mentor in {programme}! Here is your certificate.",
                programme=programme.name,
            ),
            # a Work has the session, engine and clock the certificate needs from a Turn
            files=(self.pdf(work, programme, person_id),),  # type: ignore[arg-type]
        )
        enqueue_outbound(
            work.session, [Outbound(person_id, message)], _key(programme, person_id), work.now
        )

    @staticmethod
    def _name(turn: Turn, person_id: int) -> str:
        person = turn.session.get(Person, person_id)
        return (person.display_name if person else None) or f"#{person_id}"
