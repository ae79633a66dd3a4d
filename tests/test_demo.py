"""`maatje demo` as a newcomer runs it: a scripted intake in Dutch and English, a coordinator,
and a process killed mid-intake that continues at the same question."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent

INTAKE = [
    "hallo",
    "1",
    "Rechten",
    "1",
    "Beter plannen",
    "1,3",
    "2,4",
    "3",
    "morgen",
    "1",
    "1",
    "2",
    "nee",
    "4",
    "Ik wil sneller mijn weg vinden.",
    "Amsterdam",
    "ja",
]


def demo(tmp_path: Path, script: list[str], *args: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "demo",
            "--database",
            f"sqlite:///{tmp_path / 'demo.db'}",
            *args,
        ],
        input="\n".join(script) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_scripted_intake_completes_in_dutch(tmp_path: Path) -> None:
    out = demo(tmp_path, INTAKE)
    assert "Anna> hallo" in out
    assert "Mag ik je antwoorden voor dit programma opslaan?" in out
    assert "je intake is compleet" in out
    assert "Traceback" not in out


def test_a_scripted_intake_completes_in_english_as_bram(tmp_path: Path) -> None:
    script = [{"nee": "no", "ja": "yes", "morgen": "tomorrow"}.get(a, a) for a in INTAKE]
    out = demo(tmp_path, script, "--as", "bram")
    assert "May I store your answers for this programme?" in out
    assert "your intake is complete" in out


def test_switching_person_and_the_coordinator_status(tmp_path: Path) -> None:
    out = demo(tmp_path, ["/who", "/as cora", "/status", "/as mila", "/help", "/time +2d"])
    assert "* Anna" in out and "Cora (/as cora)" in out
    assert "Mentees: 5 (2 intake niet begonnen en 3 intake afgerond)" in out  # Cora speaks Dutch
    assert "Mentoren: 2 (2 intake afgerond)" in out
    assert "This is what I can do" in out  # Mila speaks English
    assert "The clock is now" in out


def _read_until(process: subprocess.Popen, marker: str, seen: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not any(marker in line for line in seen):
        assert time.monotonic() < deadline, f"never saw {marker!r}: {seen[-5:]}"
        line = process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            raise AssertionError(f"process ended before {marker!r}: {seen[-5:]}")
        seen.append(line)


def test_killed_mid_intake_it_continues_at_the_same_question(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "demo",
        "--database",
        f"sqlite:///{tmp_path / 'demo.db'}",
    ]
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, bufsize=1
    )
    seen: list[str] = []
    for line, expect in [
        ("hallo", "opslaan?"),
        ("1", "Opleiding"),
        ("Rechten", "Studiejaar"),
        ("2", "Wat hoop je"),
        ("Structuur", "Aan welke onderwerpen"),
    ]:
        process.stdin.write(line + "\n")  # type: ignore[union-attr]
        process.stdin.flush()  # type: ignore[union-attr]
        _read_until(process, expect, seen, 60)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    out = demo(tmp_path, ["2"])
    before_input = out.split("Anna> 2")[0]
    assert "Welkom terug! Hier waren we gebleven:" in before_input
    assert "Aan welke onderwerpen" in before_input
    assert "Op welke dagen" in out.split("Anna> 2")[1]


GUIDE = [
    "1,2",
    "",
    "06-12345678",
    "1",
    "2",
    "2,4",
    "2",
    "10-12-2026",
    "",
    "Vrijheid",
    "Plannen",
    "",
    "Eerlijkheid",
    "Binnen twee dagen",
    "Een dag van tevoren",
    "Alles",
]


def test_intake_match_spaces_and_kennismakingsgids_end_to_end(tmp_path: Path) -> None:
    script = [
        *INTAKE,
        "/as cora",
        "/match",
        "1",
        "/as anna",
        "/in maarten-anna",
        *GUIDE,
        "/as maarten",
        "/in maarten-anna",
        *GUIDE,
    ]
    out = demo(tmp_path, script)
    proposal = out.split("Cora> /match")[1]
    assert "Groep van Maarten (al 2 in de groep)" in proposal
    assert "Anna — match" in proposal and "allebei voorkeur voor Nederlands" in proposal
    assert "Goedgekeurd: 1 duo." in out
    assert "[Maatje in #group-demo-group-maarten] Welkom in de groep, Anna!" in out
    assert "[Maatje in #pair-demo-maarten-anna] Dit is de eigen ruimte van Maarten" in out
    assert "Nog te beantwoorden door: Maarten." in out
    assert "[Maatje in #pair-demo-maarten-anna] De kennismakingsgids is compleet" in out
    assert "Jouw exemplaar van de kennismakingsgids" in out


MEETING_WALK = [
    "/as mila",
    "/in mila-eva",
    "1",
    "/as eva",
    "/in mila-eva",
    "1",
    *["/time +1d"] * 9,
    "/in dm",
    "2",
    "/time +1d",
    "/as mila",
    "/as cora",
    "/status",
]


def test_moving_the_clock_walks_a_pair_through_its_meetings(tmp_path: Path) -> None:
    out = demo(tmp_path, MEETING_WALK)
    before, after_confirm = out.split("Eva #pair-demo-mila-eva> 1", 1)
    assert "[Maatje in #pair-demo-mila-eva → Mila] @Mila: Time to plan meeting 1 of 4" in before
    assert "Thanks! Now waiting for Eva to confirm." in before
    confirmed, after_miss = after_confirm.split("Eva> 2", 1)
    # Mila and Eva both speak English: their pair space does too, in a Dutch programme
    assert "[Maatje in #pair-demo-mila-eva] Meeting 1 is confirmed for" in confirmed
    saved = tmp_path / "demo-files" / "eva" / "maatje-meeting-1.ics"
    assert f"📎 maatje-meeting-1.ics ({saved.stat().st_size} bytes): {saved}" in confirmed
    invite = saved.read_text()  # saved for Eva, not printed
    assert "METHOD:REQUEST" in invite and "DTSTART;TZID=Europe/Amsterdam:" in invite
    assert "METHOD:REQUEST" not in out
    assert "three short questions" in confirmed
    assert confirmed.count("A reminder: meeting 1 with Mila starts in") >= 1
    assert "[Maatje → Eva] Did meeting 1 with Mila take place?" in confirmed
    assert "[Maatje → Mila]" not in confirmed  # Mila's messages wait until you act as her
    assert "(new messages for Mila (" in confirmed
    assert "Meeting 1 is not cancelled" in after_miss  # the English pair space
    assert "A friendly nudge from Maatje: the last meeting did not take place." in after_miss
    mila = after_miss.split("> /as mila", 1)[1].split("> /as cora", 1)[0]
    assert "[Maatje → Mila] For meeting 1 with Eva on" in mila
    assert "Theme: Getting to know each other" in mila
    assert "Let's find a new time for meeting 1 with Eva" in mila
    status = after_miss.split("Cora> /status", 1)[1]
    assert "Vastgelopen duo's: Mila en Eva: de laatste afspraak is niet doorgegaan (stap 1" in (
        status
    )
    assert "Duo's: 3 (2 duo's vullen de kennismakingsgids in en 1 vastgelopen duo)" in status
    assert "Traceback" not in out


def _issue_7_walk() -> list[str]:
    """Mila and Eva hold meeting 1; Eva sets a SMART goal and checks in; Cora sends a poll that
    five people answer, reads the report, closes the programme; certificates follow."""
    due = (datetime.now(UTC).date() + timedelta(days=60)).strftime("%d-%m-%Y")
    script = ["/as mila", "/in mila-eva", "1", "/as eva", "/in mila-eva", "1"]
    script += ["/time +1d"] * 8  # confirmed, reminders, "did you meet?"
    script += ["/in dm", "1"]  # yes, we met: the goal conversation starts in the pair space
    script += ["/in mila-eva", "Summarise the chapters of my course", "3 chapters summarised"]
    script += ["4", "To keep up with my course", due, "1", "2"]  # sure 4 of 5, save, no more
    script += ["/time +2d", "It went well", "Planning was hard", "3", "2"]  # the check-in
    script += ["/as cora", "/poll send relationship to all"]
    for who in ("maarten", "mila", "chloe", "daan", "eva"):
        start = [] if who == "eva" else ["1"]  # Eva's direct chat is known: no Start button
        script += [f"/as {who}", "/in dm", *start, *["4"] * 8, "1", "Fine"]
    script += ["/as cora", "/poll results relationship", "/close", "1", "/time +15d"]
    script += ["/as eva", "/as mila"]  # what they got while you were Cora
    return script


def test_issue_7_walk_from_a_held_meeting_to_certificates(tmp_path: Path) -> None:
    out = demo(tmp_path, _issue_7_walk())
    assert "Traceback" not in out
    goal, after_goal = out.split("Eva #pair-demo-mila-eva> 3 chapters summarised", 1)
    assert "Let's set a goal for the coming weeks (0 of at most 3 open now)" in goal
    assert "[Maatje → Mila] Eva set a new goal: Summarise the chapters of my course" in after_goal
    checkin = after_goal.split("Eva #pair-demo-mila-eva> /time +2d", 1)[1]
    assert "Time for a short check-in. What went well since your last meeting?" in checkin
    assert "How far along are you with 'Summarise the chapters of my course'?" in checkin
    assert "[Maatje → Mila] Check-in from Eva:" in checkin
    poll = checkin.split("Cora> /poll send relationship to all", 1)[1]
    assert "(5 mensen)" in poll.split("\n", 2)[1]  # Cora reads Dutch
    assert poll.count("Dank je wel! Je antwoorden helpen") == 3  # Maarten, Chloé, Daan
    assert poll.count("Thank you! Your answers help us") == 2  # Mila, Eva
    report = poll.split("Cora> /poll results relationship", 1)[1].split("Cora> /close", 1)[0]
    assert "Evaluatie: het contact in jullie duo: 5 reacties" in report
    assert "Mijn mentor neemt het initiatief om regelmatig af te spreken. (n = 3)" in report
    assert "Ik neem het initiatief om regelmatig met mijn mentee af te spreken. (n = 2)" in report
    assert "• 4 eens: 100% (5)" in report  # a question for everyone
    assert "📎 poll-1-relationship-summary.csv" in report
    assert "📎 poll-1-relationship-01-mentor_takes_initiative.png" in report
    closing = out.split("Cora> /close", 1)[1]
    assert "Close Maatje demo now?" in closing or "Maatje demo nu afsluiten?" in closing  # Cora
    told = closing.split("Cora> /time +15d", 1)[1].split("> /as eva", 1)[0]
    assert "I sent 1 certificate." in told or "1 certificaat verstuurd" in told
    eva = closing.split("> /as eva", 1)[1].split("> /as mila", 1)[0]
    assert "[Maatje → Eva] Maatje demo has come to an end. Thank you for taking part" in eva
    assert "will you and Mila keep in touch" in eva
    mila = closing.split("> /as mila", 1)[1]
    assert "[Maatje → Mila] Thank you for being a mentor in Maatje demo!" in mila
    pdf = tmp_path / "demo-files" / "mila" / "certificate-demo-mila.pdf"
    assert f"📎 certificate-demo-mila.pdf ({pdf.stat().st_size} bytes): {pdf}" in mila
    assert pdf.read_bytes().startswith(b"%PDF-") and "%PDF" not in out  # saved, not printed
    assert not (tmp_path / "demo-files" / "maarten").exists()  # no meeting held: no certificate


def _amsterdam_minutes(start: datetime, end: datetime, ahead: timedelta) -> set[str]:
    """Every HH:MM the Amsterdam clock shows between `start` and `end`, moved by `ahead`."""
    zone = ZoneInfo("Europe/Amsterdam")
    moments = {start + timedelta(minutes=m) for m in range(int((end - start).seconds / 60) + 2)}
    return {(m + ahead).astimezone(zone).strftime("%H:%M") for m in moments}


def test_a_newcomer_meets_a_quiet_first_screen_and_answers_land_where_typed(
    tmp_path: Path,
) -> None:
    started = datetime.now(UTC)
    script = [
        "/time +1d",
        "/as maarten",
        "/as mila",
        "1",  # typed in her direct chat: the question waiting in the pair space stays open
        "/in mila-eva",
        "1",  # typed in the pair space: it answers the question there
        "/as anna",
        "hallo",
        "1",
        "/privacy",  # while the intake's form is open
        "2",  # the privacy options came last: "erase" is chosen, not a study programme "2"
        "2",  # no, keep everything
        "Rechten",
        "2",
    ]
    out = demo(tmp_path, script)
    finished = datetime.now(UTC)

    first_screen, rest = out.split("Anna> /time +1d", 1)
    assert "[Maatje" not in first_screen  # nothing of other people's conversations
    assert f"sqlite:///{tmp_path / 'demo.db'}" in first_screen
    assert str(tmp_path / "demo-files") in first_screen
    assert "(nieuwe berichten voor Chloé (" in first_screen and "Maarten (" in first_screen

    clock = rest.split("\n", 2)[1]
    assert clock.startswith("— De klok staat nu op ") and clock.endswith(" (Europe/Amsterdam). —")
    shown = clock.split(", ")[-1].split(" ")[0][:5]  # "20:55:26" → "20:55"
    assert shown in _amsterdam_minutes(started, finished, timedelta(days=1)), clock

    maarten = rest.split("> /as maarten", 1)[1].split("> /as mila", 1)[0]
    addressed = "[Maatje in #pair-demo-maarten-chloé → Maarten] @Maarten: Laten we"
    assert f"{addressed} de kennismakingsgids" in maarten
    mila = rest.split("> /as mila", 1)[1]
    in_direct_chat, in_pair_space = mila.split("Mila #pair-demo-mila-eva> 1", 1)
    assert "Now waiting for Eva to confirm" not in in_direct_chat
    assert "Thanks! Now waiting for Eva to confirm." in in_pair_space.split("> /as anna")[0]

    privacy = out.split("Anna> /privacy", 1)[1]
    chosen = privacy.split("Anna> 2", 1)[1]
    assert chosen.lstrip().startswith("[Maatje → Anna] Weet je het zeker?")
    assert "Wat hoop je aan een mentor te hebben?" in privacy.rsplit("Anna> 2", 1)[1]
    with sqlite3.connect(tmp_path / "demo.db") as db:
        (answers,) = db.execute(
            "SELECT answers FROM flow_run WHERE flow = 'intake' AND status = 'active'"
        ).fetchone()
    assert json.loads(answers)["studies"] == {"programme": "Rechten", "year": 2}


def test_make_run_names_the_database_the_demo_uses(tmp_path: Path) -> None:
    """`make run` is `maatje db upgrade` and `maatje run`: without a config.toml both use the
    demo's database, and the demo says which one (and where its files go)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "bot.cli"]
    upgrade = subprocess.run(
        [*cli, "db", "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert "database at sqlite:///maatje-demo.db is up to date" in upgrade.stdout
    run = subprocess.run(
        [*cli, "run"],
        cwd=tmp_path,
        env=env,
        input="/quit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "sqlite:///maatje-demo.db" in run.stdout and "maatje-demo-files" in run.stdout
    assert (tmp_path / "maatje-demo.db").exists() and not (tmp_path / "maatje.db").exists()
