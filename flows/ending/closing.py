"""Closing a programme: the final evaluation, keeping in touch, thanks, and certificates.

A programme closes the morning after its last day (`programme.end` is inclusive), through a
`closing.due` outbox job, or earlier when a coordinator types `close` and confirms. Closing,
once, in one transaction:

1. sends the `final-evaluation` questionnaire to every mentor and mentee who finished intake,
   as a poll (the poll machinery: invites, reminders, closing at its date), open for
   `closing_evaluation_days` (default 14) days, anonymous unless the programme sets
   `final_evaluation_anonymous = false`;
2. asks each side of every active pair, privately, whether they keep in touch (yes / no, but I'd
   like to / no); the answer is kept on the pair (`pair.guide["keep_in_touch"]`), and the
   pair ends — with every conversation still open about it (goals, check-in, guide), so nothing
   reminds anyone afterwards;
3. thanks everyone, in their language;
4. schedules `closing.certificates` for when the evaluation closes: each mentor who then meets
   the programme's certificate criteria gets their PDF, once (the same outbox key as
   `certificates send`, so neither path sends a certificate twice).

Where the end-date job comes from: `stalled.ensure_daily` calls `ensure_scheduled`, so the job
is written when a programme's first meeting is proposed and again by every daily check — keyed
by the end date, so a changed end date in config.toml gets its own job and the old one does
nothing. Being in the outbox, it survives restarts and moves with the test clock.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import CommandSpec, Turn, outbox
from bot.domain import OutboxItem, Pair, PairStatus, Programme
from bot.engine import Outbound
from bot.i18n import Text, _l, _n
from bot.replies import Option, Reply
from bot.services import certificates, people
from bot.services import closing as closing_store
from bot.services import pairs as pair_store
from bot.services import polls as poll_store
from bot.spaces import Work
from flows.ending.certificates import ONE, CertificatesCommand
from flows.evaluation.poll_answers import PollAnswers

DUE = "closing.due"
CERTIFICATES = closing_store.CERTIFICATES
COMMAND = "close"
KEEP_COMMAND = "keep-in-touch"
EVALUATION = "final-evaluation"
EVALUATION_DAYS = 14
RUN_AT = time(9, 0)
KEEP_OPTIONS = (
    Option("yes", _l("Yes, we keep in touch")),
    Option("would_like", _l("No, but I'd like to")),
    Option("no", _l("No")),
)


def due_at(programme: Programme) -> datetime:
    """09:00 programme time on the day after the programme's last day."""
    zone = ZoneInfo(programme.timezone)
    return datetime.combine(programme.end + timedelta(days=1), RUN_AT, zone)


def ensure_scheduled(session: Session, programme: Programme, now: datetime) -> None:
    """Write the end-date job once per (programme, end date)."""
    if programme.id is None:
        return
    end = programme.end.isoformat()
    outbox.enqueue(
        session,
        DUE,
        {"programme": programme.id, "end": end},
        f"{DUE}:{programme.id}:{end}",
        due_at(programme),
        now,
    )


def _local_day(moment: datetime, programme: Programme):
    return moment.astimezone(ZoneInfo(programme.timezone)).date()


class Closing:
    """The `close` command, the keep-in-touch buttons and the two closing jobs."""

    def __init__(self, answers: PollAnswers, certificate_command: CertificatesCommand) -> None:
        self.answers = answers
        self.certificate_command = certificate_command

    def spec(self) -> CommandSpec:
        """`close`, listed in help."""
        return CommandSpec(
            COMMAND,
            self.command,
            _l(
                "close the programme: final evaluation, keeping in touch, thanks and "
                "certificates (coordinators)"
            ),
            coordinator_only=True,
        )

    @staticmethod
    def button_specs() -> tuple[CommandSpec, ...]:
        """The hidden command the keep-in-touch buttons send."""
        return (CommandSpec(KEEP_COMMAND, keep_in_touch, summary=None),)

    def jobs(self) -> dict:
        return {DUE: self.due}

    def work_jobs(self) -> dict:
        return {CERTIFICATES: self.send_certificates, ONE: self.certificate_command.send_one}

    # -- close -----------------------------------------------------------------------------

    def command(self, turn: Turn, args: tuple[str, ...]) -> None:
        """`close` asks for confirmation; its buttons come back as `close <programme> yes|no`."""
        programme = people.latest_coordinated(turn.session, turn.person_id)
        if programme is None or programme.id is None:
            turn.say(_l("You don't coordinate a programme."))
            return
        when = closing_store.closed_at(turn.session, programme)
        if when is not None:
            turn.say(
                _l(
                    "{programme} was closed on {date}; there is nothing left to close.",
                    programme=programme.name,
                    date=_local_day(when, programme),
                )
            )
            return
        confirmed = len(args) >= 2 and args[0] == str(programme.id)
        if confirmed and args[1] == "no":
            turn.say(_l("All right, the programme goes on."))
            return
        if confirmed and args[1] == "yes":
            summary, messages = self.close(turn.session, programme, turn.now, turn.person_id)
            turn.outbound.extend(m for m in messages if m.person_id != turn.person_id)
            turn.say(summary)
            return
        turn.say(
            _l(
                "Close {programme} now? Everyone gets the final evaluation and my thanks, each "
                "pair is asked whether they keep in touch and then ends, and when the "
                "evaluation closes ({date}) the mentors who meet the criteria get their "
                "certificate. This cannot be undone.",
                programme=programme.name,
                date=self._evaluation_last_day(programme, turn.now),
            ),
            choices=(
                Option("yes", _l("Yes, close the programme")),
                Option("no", _l("Not now")),
            ),
            choice_token=f"c:{COMMAND}:{programme.id}",
        )

    @staticmethod
    def _evaluation_days(programme: Programme) -> int:
        return max(int(programme.settings.get("closing_evaluation_days", EVALUATION_DAYS)), 1)

    def _evaluation_closes(self, programme: Programme, now: datetime) -> datetime:
        """The end of the evaluation's last day, in the programme's zone."""
        last = _local_day(now, programme) + timedelta(days=self._evaluation_days(programme))
        return datetime.combine(last + timedelta(days=1), time(0), ZoneInfo(programme.timezone))

    def _evaluation_last_day(self, programme: Programme, now: datetime):
        return _local_day(now, programme) + timedelta(days=self._evaluation_days(programme))

    def close(
        self, session: Session, programme: Programme, now: datetime, by: int | None
    ) -> tuple[Text, list[Outbound]]:
        """Close the programme (the caller checked it is open): a summary for the coordinator
        and the messages for everyone else."""
        assert programme.id is not None
        closes_at = self._evaluation_closes(programme, now)
        last_day = self._evaluation_last_day(programme, now)
        messages: list[Outbound] = []
        participants = poll_store.audience_people(session, programme.id, "all")

        # (a) the final evaluation, through the poll machinery
        poll, invited = None, []
        questionnaire = self.answers.questionnaires.get(EVALUATION)
        if questionnaire is not None and participants:
            poll, invited = poll_store.create(
                session,
                programme,
                questionnaire.name,
                questionnaire.version,
                "all",
                questionnaire.anonymous
                or bool(programme.settings.get("final_evaluation_anonymous", True)),
                closes_at,
                by,
                now,
                questionnaire.roles,
            )
            self.answers.schedule(session, poll, invited, now)

        # (c) thanks, before the questions so they read in order
        mentors = set(certificates.mentors(session, programme.id))
        for person_id in participants:
            if person_id in mentors:
                text = _l(
                    "{programme} has come to an end. Thank you for everything you gave your "
                    "mentees as a mentor! Mentors who meet the programme's criteria get their "
                    "certificate from me after {date}, when the final evaluation closes.",
                    programme=programme.name,
                    date=last_day,
                )
            else:
                text = _l(
                    "{programme} has come to an end. Thank you for taking part, and good luck "
                    "with everything that comes next!",
                    programme=programme.name,
                )
            messages.append(Outbound(person_id, Reply(text)))

        # (b) keep in touch, privately per side; then the pair ends
        pairs = list(pair_store.active_pairs(session, programme.id))
        for pair in pairs:
            for person_id, other in (
                (pair.mentor_id, pair.mentee_id),
                (pair.mentee_id, pair.mentor_id),
            ):
                messages.append(
                    Outbound(
                        person_id,
                        Reply(
                            _l(
                                "One last, private question: will you and {other} keep in "
                                "touch now that the programme is over? Only the coordinators "
                                "see your answer.",
                                other=people.name(session, other),
                            ),
                            choices=KEEP_OPTIONS,
                            choice_token=f"c:{KEEP_COMMAND}:{pair.id}",
                        ),
                    )
                )
            pair.status = PairStatus.ENDED
            pair.guide = {**pair.guide, "closed_at": now.isoformat()}
            session.add(pair)
        closing_store.end_conversations(session, pairs, now)  # no goal or check-in reminders

        # (d) certificates when the evaluation closes; this row is also the durable record
        outbox.enqueue(
            session,
            CERTIFICATES,
            {
                "programme": programme.id,
                "closed_at": now.isoformat(),
                "poll": poll.id if poll else None,
            },
            closing_store.certificates_key(programme.id),
            closes_at,
            now,
        )
        closing_store.mark_closed(session, programme, now)
        session.flush()

        summary = _l(
            "{programme} is closed. {evaluation}\n{pairs}\nEveryone got my thanks. When the "
            "evaluation closes after {date}, the mentors who meet the criteria get their "
            "certificate ('certificates' shows who does).",
            programme=programme.name,
            evaluation=_n(
                "The final evaluation (poll {id}) went to {count} person.",
                "The final evaluation (poll {id}) went to {count} people.",
                len(invited),
                id=poll.id,
            )
            if poll
            else _l("No final evaluation was sent: no one has finished intake."),
            pairs=_n(
                "{count} pair was asked whether they keep in touch, and has ended.",
                "{count} pairs were asked whether they keep in touch, and have ended.",
                len(pairs),
            ),
            date=last_day,
        )
        for coordinator in people.coordinators_of(session, programme.id):
            messages.append(Outbound(coordinator, Reply(summary)))
        return summary, messages

    def due(self, session: Session, item: OutboxItem, now: datetime) -> list[Outbound]:
        """The programme's end date has passed: close it, unless that happened already or the
        end date has moved since this job was written (the new date has its own job)."""
        programme = session.get(Programme, item.payload["programme"])
        if (
            programme is None
            or not programme.settings.get("configured", True)
            or programme.end.isoformat() != item.payload.get("end")
            or closing_store.is_closed(session, programme)
        ):
            return []
        _, messages = self.close(session, programme, now, None)
        return messages

    # -- certificates ----------------------------------------------------------------------

    def send_certificates(self, work: Work, item: OutboxItem) -> None:
        """The evaluation has closed: each eligible mentor gets their certificate, once."""
        session = work.session
        programme = session.get(Programme, item.payload["programme"])
        if programme is None or programme.id is None:
            return
        verdicts = certificates.check(
            session,
            programme,
            certificates.Criteria.of(programme),
            self.certificate_command.meetings_held,
        )
        ready = [v.person_id for v in verdicts if v.eligible]
        new, _ = self.certificate_command.queue(session, programme, ready, work.now)
        summary = _l(
            "The final evaluation of {programme} has closed. {sent} {waiting}",
            programme=programme.name,
            sent=_n(
                "I sent {count} certificate.",
                "I sent {count} certificates.",
                len(new),
            ),
            waiting=_n(
                "{count} mentor does not meet the criteria yet: 'certificates' shows what is "
                "missing, and 'certificates send' sends theirs once they do.",
                "{count} mentors do not meet the criteria yet: 'certificates' shows what is "
                "missing, and 'certificates send' sends theirs once they do.",
                len(verdicts) - len(ready),
            )
            if len(verdicts) > len(ready)
            else _l("Every mentor met the criteria."),
        )
        for coordinator in people.coordinators_of(session, programme.id):
            work.tell(coordinator, Reply(summary))


def keep_in_touch(turn: Turn, args: tuple[str, ...]) -> None:
    """`keep-in-touch <pair> <answer>`, sent by the buttons of the closing question."""
    pair = turn.session.get(Pair, int(args[0])) if args and args[0].isdigit() else None
    answer = args[1] if len(args) > 1 else ""
    if (
        pair is None
        or turn.person_id not in (pair.mentor_id, pair.mentee_id)
        or answer not in {o.value for o in KEEP_OPTIONS}
    ):
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    side = "mentor" if turn.person_id == pair.mentor_id else "mentee"
    pair.guide = {
        **pair.guide,
        "keep_in_touch": {**pair.guide.get("keep_in_touch", {}), side: answer},
    }
    turn.session.add(pair)
    if answer == "yes":
        turn.say(_l("Good to hear! I've noted that you keep in touch."))
    elif answer == "would_like":
        other = pair.mentee_id if side == "mentor" else pair.mentor_id
        turn.say(
            _l(
                "Thank you, I've noted it; only the coordinators see it. If you'd like to, you "
                "can always send {other} a message yourself.",
                other=people.name(turn.session, other),
            )
        )
    else:
        turn.say(_l("Thank you, I've noted it."))
