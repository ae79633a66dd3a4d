"""`poll` for coordinators: send a questionnaire, see the results, close a poll.

poll                                        the polls so far, and the questionnaires
poll send NAME to mentees|mentors|all|group X [anonymous] [closes DATE]
poll results NAME|ID                        the report: table, charts, CSV (from k answers)
poll close NAME|ID                          close now (an anonymous poll shows results then)

Wiring: `register(behaviour)` adds the command, the questionnaire flows and the poll jobs to
a `Behaviour`; `flows/__init__.py` can instead list `POLLS.commands()`, `POLLS.answers.flows`
and `POLLS.answers.jobs()` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import Behaviour, CommandSpec, Turn
from bot.domain import MentorGroup, Person, Programme
from bot.domain.polls import Poll, PollStatus
from bot.engine.inputs import parse_date
from bot.i18n import Lines, Raw, Text, _l, _n
from bot.replies import Attachment
from bot.services import people, reports
from bot.services import polls as poll_store
from flows.evaluation.poll_answers import ANSWER_COMMAND, BUILTIN, PollAnswers, last_day

AUDIENCE_WORDS = {
    "mentees": "mentee",
    "mentors": "mentor",
    "all": "all",
    "everyone": "all",
    "iedereen": "all",
    "group": "group",
    "groep": "group",
}
AUDIENCE_LABELS = {
    "mentee": _l("the mentees"),
    "mentor": _l("the mentors"),
    "all": _l("all mentors and mentees"),
}
USAGE = _l(
    "I understand: poll, poll send NAME to mentees|mentors|all|group X [anonymous] "
    "[closes DATE], poll results NAME, poll close NAME."
)


@dataclass(frozen=True)
class SendRequest:
    questionnaire: str
    audience: str
    group: str
    anonymous: bool
    closes: str | None


def parse_send(args: Sequence[str]) -> SendRequest | None:
    """NAME to AUDIENCE [group name] [anonymous] [closes DATE]; None when it doesn't read."""
    words = list(args)
    if len(words) < 3 or words[1].lower() not in ("to", "aan"):
        return None
    audience = AUDIENCE_WORDS.get(words[2].lower())
    if audience is None:
        return None
    group: list[str] = []
    anonymous, closes = False, None
    rest = iter(words[3:])
    for word in rest:
        folded = word.lower()
        if folded in ("anonymous", "anoniem", "anonymously"):
            anonymous = True
        elif folded in ("closes", "sluit", "until", "tot"):
            closes = next(rest, "")
        elif audience == "group":
            group.append(word)
        else:
            return None
    if audience == "group" and not group:
        return None
    return SendRequest(words[0].lower(), audience, " ".join(group), anonymous, closes)


def _audience_label(turn: Turn, audience: str) -> Text:
    if audience.startswith("group:"):
        group = turn.session.get(MentorGroup, int(audience.removeprefix("group:")))
        return _l("the mentees of group {name}", name=group.name if group else "?")
    return AUDIENCE_LABELS[audience]


class PollCommand:
    def __init__(self, answers: PollAnswers) -> None:
        self.answers = answers

    def commands(self) -> tuple[CommandSpec, ...]:
        return (
            CommandSpec(
                "poll",
                self.run,
                _l("send a questionnaire and see its results (coordinators)"),
                coordinator_only=True,
            ),
            CommandSpec(ANSWER_COMMAND, self.answers.answer, None, keeps_conversation=False),
        )

    def run(self, turn: Turn, args: tuple[str, ...]) -> None:
        programme = people.latest_coordinated(turn.session, turn.person_id)
        if programme is None:
            turn.say(_l("You don't coordinate a programme."))
            return
        action = args[0].lower() if args else "list"
        if action == "send":
            self.send(turn, programme, args[1:])
        elif action in ("results", "report") and len(args) > 1:
            self.results(turn, programme, args[1])
        elif action == "close" and len(args) > 1:
            self.close(turn, programme, args[1])
        elif action == "list":
            self.overview(turn, programme)
        else:
            turn.say(USAGE)

    # -- poll -------------------------------------------------------------------------------

    def overview(self, turn: Turn, programme: Programme) -> None:
        lines = []
        for poll in poll_store.of_programme(turn.session, programme.id or 0):
            invited, answered = poll_store.counts(turn.session, poll.id or 0)
            status = _l("open") if poll.status == PollStatus.OPEN else _l("closed")
            lines.append(
                _l(
                    "{id}: {name} to {audience} — {answered} of {invited} answered, {status}",
                    id=poll.id,
                    name=poll.questionnaire,
                    audience=_audience_label(turn, poll.audience),
                    answered=answered,
                    invited=invited,
                    status=status,
                )
            )
        turn.say(
            _l(
                "Polls of {programme}:\n{polls}\n\nQuestionnaires you can send: {names}\n{usage}",
                programme=programme.name,
                polls=Lines(tuple(lines)) if lines else _l("none yet"),
                names=Raw(", ".join(sorted(self.answers.questionnaires))),
                usage=USAGE,
            )
        )

    # -- poll send --------------------------------------------------------------------------

    def send(self, turn: Turn, programme: Programme, args: Sequence[str]) -> None:
        request = parse_send(args)
        if request is None:
            turn.say(USAGE)
            return
        questionnaire = self.answers.questionnaires.get(request.questionnaire)
        if questionnaire is None:
            turn.say(
                _l(
                    "I don't know the questionnaire '{name}'. These are available: {names}.",
                    name=request.questionnaire[:40],
                    names=Raw(", ".join(sorted(self.answers.questionnaires))),
                )
            )
            return
        audience = request.audience
        if audience == "group":
            group = poll_store.find_group(turn.session, programme.id or 0, request.group)
            if group is None:
                turn.say(_l("I couldn't find the group '{name}'.", name=request.group[:40]))
                return
            audience = f"group:{group.id}"
        closes_at = None
        if request.closes is not None:
            closes_at = self._closing(turn, programme, request.closes)
            if closes_at is None:
                return
        invited = poll_store.audience_people(
            turn.session, programme.id or 0, audience, questionnaire.roles
        )
        if not invited:
            turn.say(_l("No one in that audience has finished intake yet, so I sent nothing."))
            return
        anonymous = request.anonymous or questionnaire.anonymous
        poll, invited = poll_store.create(
            turn.session,
            programme,
            questionnaire.name,
            questionnaire.version,
            audience,
            anonymous,
            closes_at,
            turn.person_id,
            turn.now,
            questionnaire.roles,
        )
        self.answers.schedule(turn.session, poll, invited, turn.now)
        turn.say(
            _n(
                "Poll {id} is on its way: “{title}” to {audience} ({count} person), {anonymous}, "
                "{closes}. See how it goes with 'poll results {id}'.",
                "Poll {id} is on its way: “{title}” to {audience} ({count} people), {anonymous}, "
                "{closes}. See how it goes with 'poll results {id}'.",
                len(invited),
                id=poll.id,
                title=questionnaire.title,
                audience=_audience_label(turn, audience),
                anonymous=_l("anonymous") if anonymous else _l("with names"),
                closes=_l("open until {date}", date=last_day(poll, programme.timezone))
                if closes_at
                else _l("open until you close it"),
            )
        )

    @staticmethod
    def _closing(turn: Turn, programme: Programme, raw: str) -> datetime | None:
        zone = ZoneInfo(programme.timezone)
        today = turn.now.astimezone(zone).date()
        day = parse_date(raw, today) if raw else None
        if day is None or day < today:
            turn.say(
                _l(
                    "I can't read that closing date. Write it like 14-03-2027; it must not "
                    "be in the past."
                )
            )
            return None
        return datetime.combine(day + timedelta(days=1), time(0), zone)

    # -- poll results / poll close --------------------------------------------------------

    def close(self, turn: Turn, programme: Programme, wanted: str) -> None:
        poll = poll_store.find(turn.session, programme.id or 0, wanted)
        if poll is None:
            turn.say(_l("I couldn't find the poll '{name}'.", name=wanted[:40]))
            return
        if poll.status != PollStatus.OPEN:
            turn.say(_l("Poll {id} is closed already.", id=poll.id))
            return
        messages = self.answers.close_poll(turn.session, poll, turn.now)
        turn.outbound.extend(m for m in messages if m.person_id != turn.person_id)
        turn.say(
            _l(
                "Poll {id} is closed. See the results with 'poll results {id}'.",
                id=poll.id,
            )
        )

    def results(self, turn: Turn, programme: Programme, wanted: str) -> None:
        poll = poll_store.find(turn.session, programme.id or 0, wanted)
        questionnaire = self.answers.questionnaires.get(poll.questionnaire) if poll else None
        if poll is None or questionnaire is None:
            turn.say(_l("I couldn't find the poll '{name}'.", name=wanted[:40]))
            return
        assert poll.id is not None
        invited, answered = poll_store.counts(turn.session, poll.id)
        k = poll_store.min_responses(programme)
        if poll.anonymous and poll.status == PollStatus.OPEN:
            turn.say(
                _n(
                    "Poll {id}: {count} of {invited} people answered. The results of an "
                    "anonymous poll are shown once it has closed — otherwise comparing two "
                    "looks would reveal the answers of whoever answered in between. Close it "
                    "now with 'poll close {id}'.",
                    "Poll {id}: {count} of {invited} people answered. The results of an "
                    "anonymous poll are shown once it has closed — otherwise comparing two "
                    "looks would reveal the answers of whoever answered in between. Close it "
                    "now with 'poll close {id}'.",
                    answered,
                    id=poll.id,
                    invited=invited,
                )
            )
            return
        rows = poll_store.responses(turn.session, poll.id)
        if len(rows) < k:
            turn.say(
                _n(
                    "Poll {id}: {count} of {invited} people answered. Results are shown from "
                    "{k} answers on, so that no one's answers can be singled out.",
                    "Poll {id}: {count} of {invited} people answered. Results are shown from "
                    "{k} answers on, so that no one's answers can be singled out.",
                    len(rows),
                    id=poll.id,
                    invited=invited,
                    k=k,
                )
            )
            return
        answers = [r.answers for r in rows]
        names = None if poll.anonymous else [self._name(turn, r.person_id) for r in rows]
        report = reports.build(questionnaire, answers, names, k if poll.anonymous else 1)
        turn.say(
            reports.summary_text(report, turn.language),
            files=self.files(turn, poll, report, answers, names),
        )

    @staticmethod
    def _name(turn: Turn, person_id: int | None) -> str:
        person = turn.session.get(Person, person_id) if person_id else None
        return (person.display_name if person else None) or f"#{person_id}"

    @staticmethod
    def files(
        turn: Turn, poll: Poll, report: reports.Report, answers, names
    ) -> tuple[Attachment, ...]:
        def render(value) -> str:
            return turn.engine.translator.render(value, turn.language)

        stem = f"poll-{poll.id}-{poll.questionnaire}"
        files = [
            Attachment(f"{stem}-summary.csv", reports.summary_csv(report, render), "text/csv"),
            Attachment(
                f"{stem}-responses.csv",
                reports.responses_csv(report, answers, names),
                "text/csv",
            ),
        ]
        for number, result in enumerate(report.items, start=1):
            png = reports.chart_png(result, render)
            if png is not None:
                files.append(
                    Attachment(f"{stem}-{number:02d}-{result.item.id}.png", png, "image/png")
                )
        return tuple(files)


@dataclass
class Polls:
    """Everything polls add to the bot."""

    answers: PollAnswers
    command: PollCommand

    @classmethod
    def load(cls, directories: Sequence[Path] = (BUILTIN,)) -> Polls:
        answers = PollAnswers(directories)
        return cls(answers, PollCommand(answers))

    def commands(self) -> tuple[CommandSpec, ...]:
        return self.command.commands()

    def register(self, behaviour: Behaviour) -> Behaviour:
        return replace(
            behaviour,
            flows=(*behaviour.flows, *self.answers.flows),
            commands=(*behaviour.commands, *self.commands()),
            jobs={**behaviour.jobs, **self.answers.jobs()},
        )


def register(behaviour: Behaviour, directories: Sequence[Path] = (BUILTIN,)) -> Behaviour:
    """The behaviour with polls added: `return polls.register(Behaviour(...))`."""
    return Polls.load(directories).register(behaviour)
