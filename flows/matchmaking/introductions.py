"""Introductions once a group or pair space exists: who is who, and what happens next."""

from __future__ import annotations

from sqlmodel import select

from bot.domain import GroupMember, MentorGroup, Pair, PairStatus, Person, Programme
from bot.events import SpaceRef
from bot.i18n import _l
from bot.replies import Reply
from bot.services import people
from bot.spaces import Work


def space_opened(work: Work, subject: str, space: SpaceRef, welcome: list[int]) -> None:
    kind, _, raw_id = subject.partition(":")
    if kind == "group":
        group = work.session.get(MentorGroup, int(raw_id))
        if group is not None:
            _welcome_group(work, group, space, welcome)
    elif kind == "pair":
        pair = work.session.get(Pair, int(raw_id))
        if pair is not None and pair.status == PairStatus.ACTIVE:
            _welcome_pair(work, pair, space)


def _name(work: Work, person_id: int) -> str:
    person = work.session.get(Person, person_id)
    return (person.display_name if person else None) or "?"


def _welcome_group(work: Work, group: MentorGroup, space: SpaceRef, welcome: list[int]) -> None:
    programme = work.session.get(Programme, group.programme_id)
    assert programme is not None and group.id is not None
    mentees = list(
        work.session.exec(
            select(GroupMember.person_id).where(GroupMember.group_id == group.id)
        ).all()
    )
    mentor = _name(work, group.mentor_id)
    if group.mentor_id in welcome:
        work.tell(
            group.mentor_id,
            Reply(
                _l(
                    "Welcome to the group of {mentor} in {programme}! In this group: {mentees}. "
                    "This "
                    "space is for the whole group; each mentee also gets a private space with "
                    "{mentor}, "
                    "where you start with the introduction guide (kennismakingsgids).",
                    mentor=mentor,
                    programme=programme.name,
                    mentees=[_name(work, m) for m in mentees],
                )
            ),
            space=space,
        )
    else:
        newcomers = [_name(work, m) for m in mentees if m in welcome]
        work.tell(
            group.mentor_id,
            Reply(_l("Welcome to the group, {names}!", names=newcomers)),
            space=space,
        )
    for mentee in (m for m in mentees if m in welcome):
        others = [_name(work, m) for m in mentees if m != mentee]
        work.tell(
            mentee,
            Reply(
                _l(
                    "Good news: you have been matched in {programme}! Your mentor is {mentor}, "
                    "and you "
                    "are in a group with {others}. Look for the new group space and your private "
                    "space "
                    "with {mentor}.",
                    programme=programme.name,
                    mentor=mentor,
                    others=others or _l("no one else yet"),
                )
            ),
        )


def _welcome_pair(work: Work, pair: Pair, space: SpaceRef) -> None:
    programme = work.session.get(Programme, pair.programme_id)
    assert programme is not None and pair.id is not None
    mentor, mentee = _name(work, pair.mentor_id), _name(work, pair.mentee_id)
    welcome = _l(
        "This is the private space of {mentor} (mentor) and {mentee} (mentee). Only the two "
        "of you and Maatje are here. First step: the introduction guide (kennismakingsgids), "
        "which you each fill in — best together at your first meeting.",
        mentor=mentor,
        mentee=mentee,
    )
    if work.coordinators_read:  # what people are told must be true
        welcome = _l(
            "This is the private space of {mentor} (mentor) and {mentee} (mentee). Besides the "
            "two of you and Maatje, the programme's coordinators can read along here. First "
            "step: the introduction guide (kennismakingsgids), which you each fill in — best "
            "together at your first meeting.",
            mentor=mentor,
            mentee=mentee,
        )
    work.tell(
        pair.mentor_id,
        Reply(welcome),
        space=space,
    )
    for person_id, side in ((pair.mentor_id, "mentor"), (pair.mentee_id, "mentee")):
        person = work.session.get(Person, person_id)
        ref = people.ref_on(work.session, person_id, space.platform)
        if person is None or ref is None:
            continue
        work.start("kennismaking", person, space, ref, programme, f"pair:{pair.id}", {"side": side})
