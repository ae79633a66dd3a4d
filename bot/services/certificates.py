"""Certificates for mentors: who meets the programme's criteria, and the PDF in their language.

Criteria (programme setting `certificate_criteria`, all optional):
    mentees = 1                       met at least this many mentees (a meeting held with each)
    meetings = 1                      held at least this many meetings with their mentees
    evaluation = "final-evaluation"   answered a poll of this questionnaire

A certificate states only what happened: the programme's real period (up to the day it closed,
when that was before its end date), the mentees met and the meetings held — counted from the
meetings marked held — and whatever the programme lists itself in `certificate_comprised`
(a training it gave, supervision), which Maatje cannot see.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from bot.domain import (
    IntakeState,
    Meeting,
    MeetingStatus,
    Membership,
    MentorGroup,
    Pair,
    Person,
    Programme,
    Role,
)
from bot.i18n import Localized, Text, _l, _n
from bot.services import closing, polls
from bot.services import meetings as meeting_store

MeetingsHeld = Callable[[Session, int, int], int]
"""(session, programme id, mentor id) → meetings the mentor held in the programme."""
Render = Callable[[Any], str]


@dataclass(frozen=True)
class Criteria:
    mentees: int = 1
    meetings: int = 1
    evaluation: str | None = None

    @classmethod
    def of(cls, programme: Programme) -> Criteria:
        raw: Mapping[str, Any] = programme.settings.get("certificate_criteria") or {}
        return cls(
            mentees=int(raw.get("mentees", 1)),
            meetings=int(raw.get("meetings", 1)),
            evaluation=raw.get("evaluation") or None,
        )


@dataclass(frozen=True)
class Verdict:
    person_id: int
    missing: tuple[Text, ...]
    """Why not (empty: eligible)."""

    @property
    def eligible(self) -> bool:
        return not self.missing


def mentors(session: Session, programme_id: int) -> list[int]:
    return sorted(
        session.exec(
            select(Membership.person_id).where(
                Membership.programme_id == programme_id,
                Membership.role == Role.MENTOR,
                Membership.intake == IntakeState.COMPLETE,
            )
        ).all()
    )


def mentee_count(session: Session, programme_id: int, mentor_id: int) -> int:
    """The mentees the mentor actually met: a meeting of their pair was held."""
    return session.exec(
        select(func.count(func.distinct(Pair.mentee_id)))
        .join(Meeting, col(Meeting.pair_id) == Pair.id)
        .where(
            Pair.programme_id == programme_id,
            Pair.mentor_id == mentor_id,
            Meeting.status == MeetingStatus.HELD,
        )
    ).one()


def group_meetings_held(session: Session, programme_id: int, mentor_id: int) -> int:
    return session.exec(
        select(func.count(col(Meeting.id)))
        .join(MentorGroup, col(MentorGroup.id) == Meeting.group_id)
        .where(
            Meeting.programme_id == programme_id,
            MentorGroup.mentor_id == mentor_id,
            Meeting.status == MeetingStatus.HELD,
        )
    ).one()


def check(
    session: Session,
    programme: Programme,
    criteria: Criteria,
    meetings_held: MeetingsHeld | None = None,
) -> list[Verdict]:
    """Every mentor of the programme, with what they still miss. Meetings are counted by
    `meetings_held` (default: the meetings marked held)."""
    assert programme.id is not None
    meetings_held = meetings_held or meeting_store.held_by_mentor
    answered = (
        polls.submitted(session, programme.id, criteria.evaluation)
        if criteria.evaluation
        else set()
    )
    verdicts = []
    for mentor_id in mentors(session, programme.id):
        missing: list[Text] = []
        if mentee_count(session, programme.id, mentor_id) < criteria.mentees:
            missing.append(
                _n(
                    "mentored fewer than {count} mentee",
                    "mentored fewer than {count} mentees",
                    criteria.mentees,
                )
            )
        if criteria.meetings > 0 and meetings_held(session, programme.id, mentor_id) < (
            criteria.meetings
        ):
            missing.append(
                _n(
                    "held fewer than {count} meeting",
                    "held fewer than {count} meetings",
                    criteria.meetings,
                )
            )
        if criteria.evaluation and mentor_id not in answered:
            missing.append(
                _l("has not submitted the evaluation '{name}'", name=criteria.evaluation)
            )
        verdicts.append(Verdict(mentor_id, tuple(missing)))
    return verdicts


def eligible(
    session: Session,
    programme: Programme,
    criteria: Criteria | None = None,
    meetings_held: MeetingsHeld | None = None,
) -> list[int]:
    """The mentors who meet the criteria (the programme's own when none are given)."""
    criteria = criteria or Criteria.of(programme)
    return [v.person_id for v in check(session, programme, criteria, meetings_held) if v.eligible]


# -- the certificate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    name: str
    programme: str
    institution: str
    start: date
    end: date
    """The programme's real last day: the day it closed, if that was before its end date."""
    comprised: tuple[Text | Localized | str, ...]
    signer: str
    signer_role: Text | str
    issued: date


def certificate_for(
    session: Session, programme: Programme, person_id: int, today: date
) -> Certificate:
    """The certificate's content: what the programme lists, then what Maatje saw happen."""
    assert programme.id is not None
    person = session.get(Person, person_id)
    settings = programme.settings
    comprised: list[Text | Localized | str] = [
        Localized(dict(entry)) if isinstance(entry, Mapping) else str(entry)
        for entry in settings.get("certificate_comprised") or ()
    ]
    mentees = mentee_count(session, programme.id, person_id)
    if mentees:
        comprised.append(_n("mentoring {count} student", "mentoring {count} students", mentees))
    held = meeting_store.held_by_mentor(session, programme.id, person_id)
    if held:
        comprised.append(
            _n("{count} one-to-one meeting held", "{count} one-to-one meetings held", held)
        )
    groups = group_meetings_held(session, programme.id, person_id)
    if groups:
        comprised.append(_n("{count} group meeting held", "{count} group meetings held", groups))
    return Certificate(
        name=(person.display_name if person else None) or f"#{person_id}",
        programme=programme.name,
        institution=settings.get("institution") or "",
        start=programme.start,
        end=closing.last_day(session, programme),
        comprised=tuple(comprised),
        signer=settings.get("certificate_signer") or "",
        signer_role=settings.get("certificate_signer_role") or _l("programme coordinator"),
        issued=today,
    )


# The scripts a certificate's names and texts are written in here: Latin (with its extensions
# and combining marks), Greek (with its accented forms), Cyrillic, and the punctuation and
# symbols around them.
_CERTIFICATE_SCRIPTS = (
    (0x20, 0x7E),
    (0xA0, 0x36F),
    (0x370, 0x3FF),
    (0x400, 0x52F),
    (0x1E00, 0x1FFF),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2100, 0x214F),
    (0xFB00, 0xFB06),
)


@functools.cache
def _fonts() -> tuple[Path, Path]:
    """DejaVu Sans (matplotlib's copy) and its bold, cut down once per process to
    `_CERTIFICATE_SCRIPTS`: fpdf reads the whole font file for every PDF (and embeds only the
    glyphs used), and the whole file has 6,000 glyphs, so each certificate took ~2.5 times as
    long and 25 MB more memory. A character outside these scripts shows as a box (it was not
    drawn legibly before either: docs/decisions.md)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    spec = importlib.util.find_spec("matplotlib")  # its font files, without importing it
    assert spec is not None and spec.submodule_search_locations
    source = Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"
    folder = Path(tempfile.mkdtemp(prefix="maatje-fonts-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    unicodes = [code for first, last in _CERTIFICATE_SCRIPTS for code in range(first, last + 1)]
    cut = []
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        font = TTFont(source / name)
        options = subset.Options()
        options.layout_features = []  # fpdf does not shape text: no ligatures, no kerning
        options.drop_tables += ["FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        font.save(folder / name)
        cut.append(folder / name)
    return cut[0], cut[1]


def render_pdf(certificate: Certificate, render: Render) -> bytes:
    """An A4 certificate; `render` turns a `Text` into the reader's language."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_creation_date(datetime.combine(certificate.issued, datetime.min.time(), UTC))
    pdf.set_title(render(_l("Certificate")))
    pdf.set_author(certificate.institution or certificate.programme)
    regular, bold = _fonts()
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_draw_color(47, 109, 181)
    pdf.set_line_width(1.2)
    pdf.rect(12, 12, 186, 273)
    width = pdf.w - 2 * 28
    pdf.set_left_margin(28)
    pdf.set_right_margin(28)

    def line(text: str, size: float, style: str = "", gap: float = 4, align: str = "C") -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(width, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    pdf.set_y(40)
    if certificate.institution:
        line(certificate.institution, 13, gap=10)
    pdf.set_text_color(47, 109, 181)
    line(render(_l("Certificate")), 34, "B", gap=14)
    pdf.set_text_color(0, 0, 0)
    line(render(_l("This is to certify that")), 13, gap=6)
    line(certificate.name, 24, "B", gap=8)
    line(
        render(
            _l(
                "took part as a mentor in {programme}, from {start} to {end}.",
                programme=certificate.programme,
                start=certificate.start,
                end=certificate.end,
            )
        ),
        13,
        gap=12,
    )
    if certificate.comprised:
        line(render(_l("The mentorship comprised:")), 12, "B", gap=2, align="L")
    for part in certificate.comprised:
        line(f"•  {render(part)}", 12, gap=1, align="L")
    pdf.set_y(225)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.line(28, 232, 100, 232)
    pdf.set_y(235)
    if certificate.signer:
        line(certificate.signer, 12, "B", gap=1, align="L")
    line(render(certificate.signer_role), 11, gap=1, align="L")
    line(render(_l("Issued on {date}", date=certificate.issued)), 10, gap=0, align="L")
    return bytes(pdf.output())
