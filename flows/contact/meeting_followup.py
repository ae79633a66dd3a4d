"""After a meeting: "did you meet?" answered with a button.

Yes → the meeting is held, the goals and check-in flow gets its turn (`on_meeting_held`), and
the next meeting is proposed: on a date the pair proposed for it in the kennismakingsgids when
one fits, else one cadence step later. No → the meeting is missed and a new time for the same
meeting is proposed at once: a meeting is rescheduled, never silently cancelled. The first
answer decides; a different answer from the other member later is kept on the meeting for the
coordinators.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import Turn
from bot.domain import Meeting, MeetingStatus, Pair, PairStatus, Programme
from bot.i18n import _l
from bot.replies import Reply
from bot.services import meetings as store
from bot.services import scheduling
from bot.spaces import Work
from flows.contact import meeting_messages as msg
from flows.contact import meetings
from flows.growth import checkins
from flows.matchmaking import kennismaking, pairing


def on_meeting_held(work: Turn | Work, meeting: Meeting) -> None:
    """Called once, in the same transaction, when a meeting is marked held: the mentee sets
    or updates goals, and a check-in is planned midway to the next meeting; after the first
    meeting, the fit check is planned."""
    checkins.after_meeting(work, meeting)
    pair = work.session.get(Pair, meeting.pair_id) if meeting.pair_id else None
    if pair is not None and meeting.number == 1:
        pairing.schedule_fit_check(work.session, pair, meeting, work.now)


def met(turn: Turn, args: tuple[str, ...]) -> None:
    """`met <meeting> yes|no`: the buttons under "did you meet?"."""
    found = meetings.of_button(turn, args)
    answer = args[1] if len(args) > 1 else ""
    if found is None or answer not in ("yes", "no"):
        turn.say(_l("That button no longer works. Send me a message to continue."))
        return
    meeting, pair, programme = found
    answers = store.confirmations(meeting)
    answers["met"][str(turn.person_id)] = answer == "yes"
    meeting.confirmations = answers
    turn.session.add(meeting)
    if meeting.status != MeetingStatus.CONFIRMED:
        turn.say(_l("Thank you, I've noted that."))
        return
    if pair.status != PairStatus.ACTIVE:  # the pair ended (the programme closed): only record
        meeting.status = MeetingStatus.HELD if answer == "yes" else MeetingStatus.MISSED
        turn.say(_l("Thank you, I've noted that."))
        return
    if answer == "yes":
        _held(turn, meeting, pair, programme)
    else:
        _missed(turn, meeting, pair)


def _held(turn: Turn, meeting: Meeting, pair: Pair, programme: Programme) -> None:
    meeting.status = MeetingStatus.HELD
    turn.session.add(meeting)
    turn.session.flush()
    on_meeting_held(turn, meeting)
    if meeting.number >= programme.meetings:
        text = _l(
            "Good to hear you met! That was the last meeting of the programme — well done, "
            "both of you."
        )
        turn.outbound.extend(msg.to_pair(turn.session, pair, Reply(text)))
        return
    text = _l(
        "Good to hear you met for meeting {number}! I'll propose a time for the next one.",
        number=meeting.number,
    )
    turn.outbound.extend(msg.to_pair(turn.session, pair, Reply(text)))
    cadence = pair.agreement.get("cadence") or programme.meeting_cadence
    anchor = meetings.zone_of(turn.session, pair.mentor_id)
    notice = turn.now + meetings.RESCHEDULE_NOTICE
    earliest = max(scheduling.following(meeting.starts_at, cadence, anchor), notice)
    turn.outbound.extend(
        meetings.propose(
            turn.session,
            pair,
            programme,
            meeting.number + 1,
            turn.now,
            earliest=earliest,
            starts_at=_on_a_guide_date(turn.session, pair, programme, meeting, cadence, notice),
        )
    )


def _on_a_guide_date(
    session: Session,
    pair: Pair,
    programme: Programme,
    previous: Meeting,
    cadence: str,
    earliest: datetime,
) -> datetime | None:
    """A slot for the meeting after `previous` on a date the pair proposed for it in the
    kennismakingsgids (`scheduling.guide_slot`), or None: then the cadence decides."""
    dates = [d for d in kennismaking.meeting_dates(pair, previous.number + 1) if d <= programme.end]
    if not dates or pair.id is None:
        return None
    rules = meetings.slot_rules(session, pair, programme)
    used = store.used_dates(store.meetings_of(session, pair.id), rules.zones)
    return scheduling.guide_slot(dates, previous.starts_at, cadence, earliest, rules, used)


def _missed(turn: Turn, meeting: Meeting, pair: Pair) -> None:
    meeting.status = MeetingStatus.MISSED
    turn.session.add(meeting)
    text = _l(
        "Thanks for letting me know — that happens. Meeting {number} is not cancelled; let's "
        "find a new time for it.",
        number=meeting.number,
    )
    turn.outbound.extend(msg.to_pair(turn.session, pair, Reply(text)))
    turn.outbound.extend(meetings.reschedule(turn.session, meeting, turn.now))
