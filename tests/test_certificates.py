"""Certificates: who is eligible, the PDF in the mentor's language, the command."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import event
from sqlmodel import select

from bot.domain import MentorGroup, Pair, Programme, Role
from bot.domain.polls import Poll, PollInvite
from bot.i18n import Translator
from bot.services import certificates
from bot.testing import Conversation
from tests.meeting_support import held
from tests.test_polls import enrol


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
async def programme(app, chat: Conversation, clock):
    await chat.send("cora", "hello")
    ids = {who: enrol(app, who, Role.MENTOR) for who in ("maarten", "mila")}
    ids["anna"] = enrol(app, "anna")
    now = clock.now()
    with app.store.session() as session:
        programme = session.exec(select(Programme)).one()
        programme.settings = {
            **programme.settings,
            "institution": "Hogeschool Voorbeeld",
            "certificate_signer": "Dr. Jansen",
            "certificate_criteria": {"mentees": 1, "evaluation": "training-evaluation"},
        }
        session.add(programme)
        group = MentorGroup(programme_id=programme.id, mentor_id=ids["maarten"], name="Maarten")
        session.add(group)
        session.flush()
        pair = Pair(
            programme_id=programme.id,
            group_id=group.id,
            mentor_id=ids["maarten"],
            mentee_id=ids["anna"],
            matched_at=now,
        )
        session.add(pair)
        session.flush()
        held(session, pair, now)
        poll = Poll(
            programme_id=programme.id,
            questionnaire="training-evaluation",
            questionnaire_version="x",
            audience="mentor",
            anonymous=True,
            created_at=now,
        )
        session.add(poll)
        session.flush()
        session.add(PollInvite(poll_id=poll.id, person_id=ids["maarten"], answered_at=now))
        session.add(PollInvite(poll_id=poll.id, person_id=ids["mila"]))
    return ids


def test_eligibility_follows_the_criteria(app, programme) -> None:
    with app.store.session() as session:
        row = session.exec(select(Programme)).one()
        assert certificates.eligible(session, row) == [programme["maarten"]]
        loose = certificates.Criteria(mentees=0, meetings=0)
        assert certificates.eligible(session, row, loose) == sorted(
            [programme["maarten"], programme["mila"]]
        )
        meetings = certificates.Criteria(mentees=1, meetings=3)
        assert certificates.eligible(session, row, meetings) == []  # one meeting held
        counted = certificates.eligible(session, row, meetings, lambda s, p, m: 3)
        assert counted == [programme["maarten"]]
        assert certificates.eligible(session, row, meetings, lambda s, p, m: 2) == []


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("Certificate", "took part as a mentor in Mentoraat Test", "September 1, 2026")),
        (
            "nl",
            ("Certificaat", "als mentor deelgenomen heeft aan Mentoraat Test", "1 september 2026"),
        ),
    ],
)
def test_the_pdf_in_the_mentors_language(app, programme, tmp_path, language, words) -> None:
    translator = Translator()
    with app.store.session() as session:
        row = session.exec(select(Programme)).one()
        content = certificates.certificate_for(session, row, programme["maarten"], date(2027, 7, 1))
    pdf = certificates.render_pdf(content, lambda text: translator.render(text, language))
    extracted = " ".join(pdf_text(pdf).split())  # lines wrap where the page ends
    for expected in ("Maarten", "Hogeschool Voorbeeld", "Dr. Jansen", *words):
        assert expected in extracted, (expected, extracted)


async def test_preview_then_send_once(app, chat: Conversation, programme) -> None:
    await chat.command("cora", "certificates")
    preview = chat.last_message("cora")
    assert "Ready: Maarten" in preview.text
    assert (
        "Mila: mentored fewer than 1 mentee, held fewer than 1 meeting, and has not submitted "
        "the evaluation"
    ) in preview.text
    (attached,) = preview.files
    assert attached.mimetype == "application/pdf" and "Maarten" in pdf_text(attached.content)

    await chat.command("cora", "certificates", "send")
    assert "I'm sending 1 certificate (0 sent earlier)" in chat.last("cora")
    received = chat.last_message("maarten")
    assert "Here is your certificate" in received.text
    assert "Mentoraat Test" in pdf_text(received.files[0].content)
    assert not chat.messages("mila")

    await chat.command("cora", "certificates", "send")
    assert "I'm sending 0 certificates (1 sent earlier)" in chat.last("cora")
    assert len([m for m in chat.messages("maarten") if m.files]) == 1

    await chat.command("anna", "certificates")
    assert "only the programme's coordinators" in chat.last("anna")


async def test_each_certificate_is_made_in_its_own_transaction(
    app, chat: Conversation, programme
) -> None:
    """A PDF takes ~0.1 s: made all in one transaction, two hundred of them would hold every
    other answer up for half a minute. Each mentor's is its own job."""
    with app.store.session() as session:
        row = session.exec(select(Programme)).one()
        row.settings = {**row.settings, "certificate_criteria": {"mentees": 0, "meetings": 0}}
        session.add(row)
        session.commit()
    made: list[set[str]] = [set()]

    def note(_conn, _cursor, statement, parameters, *_rest) -> None:
        if statement.startswith("INSERT INTO outbox"):
            made[-1].update(re.findall(r"certificate:\d+:\d+:0", str(parameters)))

    event.listen(app.store.engine, "before_cursor_execute", note)
    event.listen(app.store.engine, "commit", lambda _conn: made.append(set()))

    await chat.command("cora", "certificates", "send")
    assert "I'm sending 2 certificates (0 sent earlier)" in chat.last("cora")
    assert [len(keys) for keys in made if keys] == [1, 1]
    for mentor in ("maarten", "mila"):
        (received,) = [m for m in chat.messages(mentor) if m.files]
        assert mentor.capitalize() in pdf_text(received.files[0].content)


async def test_the_preview_attaches_the_first_few(app, chat: Conversation, programme) -> None:
    """Each PDF takes ~0.1 s of the coordinator's turn, while everyone else waits: the preview
    attaches the first three and says what the others are."""
    for mentor in ("mees", "milan"):
        enrol(app, mentor, Role.MENTOR)
    with app.store.session() as session:
        row = session.exec(select(Programme)).one()
        row.settings = {**row.settings, "certificate_criteria": {"mentees": 0, "meetings": 0}}
        session.add(row)

    await chat.command("cora", "certificates")
    preview = chat.last_message("cora")
    assert "Ready: Maarten, Mila, Mees, and Milan" in preview.text
    assert (
        "Attached are the certificates of Maarten, Mila, and Mees as they will receive them; "
        "the other 1 is made the same way, with the mentor's own name and figures."
    ) in preview.text
    texts = [pdf_text(attached.content) for attached in preview.files]
    assert len(texts) == 3
    for text, name in zip(texts, ("Maarten", "Mila", "Mees"), strict=True):
        assert name in text and "Milan" not in text


def test_names_in_latin_greek_and_cyrillic_are_drawn() -> None:
    """The fonts are cut down to the scripts names are written in here; a name in any of them
    is drawn as itself (a glyph missing from the font would come out as a box)."""
    name = "Łukasz Şahin-Ørsted, Ἀθηνᾶ Παπαδοπούλου, Юлия Кузнецова, Nguyễn Đức"
    content = certificates.Certificate(
        name=name,
        programme="Mentoraat Test",
        institution="Hogeschool Voorbeeld",
        start=date(2026, 9, 1),
        end=date(2027, 6, 30),
        comprised=("IJsselmeer – ‘training’ €0",),
        signer="Dr. Jansen",
        signer_role="coördinator",
        issued=date(2027, 7, 1),
    )
    pdf = certificates.render_pdf(content, lambda text: Translator().render(text, "nl"))
    fonts = [
        font.get_object()
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    ]
    assert fonts and all("DejaVu" in str(font["/BaseFont"]) for font in fonts)
    extracted = " ".join(pdf_text(pdf).split())
    for expected in (*name.split(", "), "IJsselmeer – ‘training’ €0", "coördinator"):
        assert expected in extracted, (expected, extracted)
