"""Maatje's conversations and commands. The application loads this package by name and calls
`behaviour()`; nothing in `bot` imports it."""

from __future__ import annotations

from bot import Behaviour, CommandSpec
from bot.config import Config
from bot.i18n import _l
from bot.services import meetings as meeting_store
from bot.services import safeguarding as alerts
from flows import safeguarding
from flows.contact import (
    group_meeting_changes,
    group_poll_votes,
    meeting_followup,
    meeting_nudges,
    meeting_time,
    meetings,
    stalled,
)
from flows.coordination import digest, export, pairs, status
from flows.ending import certificates, closing
from flows.evaluation import mentor_reflection, polls
from flows.evaluation.poll_answers import BUILTIN
from flows.everyone import commands, greeting, pause, privacy, profile
from flows.growth import checkins, goals
from flows.joining import commitment, intake
from flows.matchmaking import end_pair, kennismaking, matching, pairing

POLLS = polls.Polls.load()
"""The questionnaires in flows/evaluation/questionnaires, loaded once."""
CERTIFICATES = certificates.CertificatesCommand(meetings_held=meeting_store.held_by_mentor)
CLOSING = closing.Closing(POLLS.answers, CERTIFICATES)
SAFETY_NET = safeguarding.SafetyNet.load()
"""The phrase lists in flows/safeguarding, loaded once."""


def _polls_and_closing(config: Config | None) -> tuple[polls.Polls, closing.Closing]:
    """The built-in questionnaires, or those and the programmes' own (`questionnaires_dir`)."""
    folders = config.questionnaires_dirs if config else ()
    if not folders:
        return POLLS, CLOSING
    loaded = polls.Polls.load((BUILTIN, *folders))
    return loaded, closing.Closing(loaded.answers, CERTIFICATES)


def behaviour(config: Config | None = None) -> Behaviour:
    poll_feature, closing_feature = _polls_and_closing(config)
    listed = [
        CommandSpec(
            "language", commands.language, _l("switch language: 'language nl' or 'language en'")
        ),
        CommandSpec(
            "privacy", privacy.command, _l("see, download or erase what I store about you")
        ),
        CommandSpec("name", profile.name_command, _l("the name others see: 'name Anna de Vries'")),
        CommandSpec(
            "timezone",
            profile.timezone_command,
            _l("the time zone I show times in: 'timezone New York'"),
        ),
        CommandSpec(
            "meeting", meetings.meeting_command, _l("your next meeting; propose another time")
        ),
        CommandSpec(
            "pause",
            pause.pause,
            _l("no reminders for a while: 'pause until 14-03-2027', or 'pause off'"),
        ),
        CommandSpec(
            "goals", goals.goals_command, _l("your goals: 'goals', 'goals new', 'goals done 1'")
        ),
        CommandSpec(
            "hulp",
            SAFETY_NET.hulp,
            _l("when things are not okay: reach a person now ('help now' works too)"),
        ),
        CommandSpec(
            end_pair.COMMAND,
            end_pair.end_command,
            _l("ask the coordinators to end your match: 'end pair' (only they see why)"),
            keeps_conversation=False,
        ),
        CommandSpec(
            "status",
            status.status,
            _l("the programme at a glance (coordinators)"),
            coordinator_only=True,
        ),
        CommandSpec(
            "match",
            matching.match,
            _l("review, change and approve the matching proposal (coordinators)"),
            coordinator_only=True,
        ),
        CommandSpec(
            "pairs",
            pairs.pairs_command,
            _l("all pairs and their state; 'pairs stalled' for the stalled ones (coordinators)"),
            coordinator_only=True,
        ),
        CommandSpec(
            "pair",
            pairs.pair_command,
            _l("a pair's timeline: 'pair Anna' (coordinators)"),
            coordinator_only=True,
        ),
        CommandSpec(
            "remind",
            pairs.remind_command,
            _l("nudge a pair: 'remind Anna', or 'remind stalled' (coordinators)"),
            coordinator_only=True,
        ),
        CommandSpec(
            "safeguarding",
            safeguarding.safeguarding_command,
            _l(
                "people the safety net flagged; 'safeguarding done NAME' once followed up "
                "(coordinators)"
            ),
            coordinator_only=True,
        ),
        CommandSpec(
            "export",
            export.export_command,
            _l("the programme's pairs, meetings, goals and poll counts as CSV (coordinators)"),
            coordinator_only=True,
        ),
        CommandSpec(
            "groupmeeting",
            group_meeting_changes.groupmeeting,
            _l(
                "plan a group meeting with a slot poll: 'groupmeeting' (mentors), "
                "'groupmeeting GROUPNAME' (coordinators); 'groupmeeting move' or "
                "'groupmeeting cancel' for the one planned"
            ),
        ),
        *poll_feature.commands(),
        CERTIFICATES.spec(),
        closing_feature.spec(),
    ]
    help_spec = CommandSpec(
        "help",
        SAFETY_NET.help_now(commands.help_command(tuple(listed))),
        _l("this overview; 'help now' when things are not okay"),
    )
    return Behaviour(
        flows=(
            intake.INTAKE,
            kennismaking.KENNISMAKING,
            meeting_time.MEETING_TIME,
            goals.GOALS,
            goals.GOAL_COMMENT,
            checkins.CHECKIN,
            end_pair.END_PAIR,
            *poll_feature.answers.flows,
        ),
        commands=(
            help_spec,
            *listed,
            CommandSpec("join", greeting.join, summary=None, keeps_conversation=False),
            CommandSpec("fit", pairing.fit, summary=None),
            CommandSpec(end_pair.DUTCH, end_pair.end_command, None, keeps_conversation=False),
            CommandSpec(commitment.COMMAND, commitment.commit, summary=None),
            CommandSpec(commitment.DUTCH, commitment.commit, summary=None),
            CommandSpec("meet", meetings.meet, summary=None, keeps_conversation=False),
            CommandSpec("met", meeting_followup.met, summary=None),
            CommandSpec("groupvote", group_poll_votes.groupvote, summary=None),
            CommandSpec("groupmet", group_meeting_changes.groupmet, summary=None),
            CommandSpec(safeguarding.ANSWER, SAFETY_NET.answer, summary=None),
            *closing_feature.button_specs(),
        ),
        greet=greeting.greet,
        safety_net=SAFETY_NET,
        jobs={
            **privacy.JOBS,
            pairing.FIT_CHECK: pairing.fit_check,
            **meeting_nudges.JOBS,
            **group_poll_votes.JOBS,
            **group_meeting_changes.JOBS,
            stalled.DAILY: stalled.daily,
            digest.DIGEST: digest.digest,
            **poll_feature.answers.jobs(),
            **closing_feature.jobs(),
            alerts.FORGET: alerts.forget,
            **mentor_reflection.MentorReflection(poll_feature.answers).jobs(),
        },
        work_jobs={
            checkins.CHECKIN_DUE: checkins.checkin_due,
            checkins.GOALS_DUE: checkins.goals_due,
            **closing_feature.work_jobs(),
        },
        space_opened=meetings.space_opened,
    )
