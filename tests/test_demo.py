"""`maatje demo` as a newcomer runs it: a scripted intake in Dutch and English, a coordinator,
and a process killed mid-intake that continues at the same question."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
    "/as cora",
    "/status",
]


def test_moving_the_clock_walks_a_pair_through_its_meetings(tmp_path: Path) -> None:
    out = demo(tmp_path, MEETING_WALK)
    before, after_confirm = out.split("Eva #pair-demo-mila-eva> 1", 1)
    assert "[Maatje in #pair-demo-mila-eva → Mila] Time to plan meeting 1 of 4 with Eva" in before
    assert "Thanks! Now waiting for Eva to confirm." in before
    confirmed, after_miss = after_confirm.split("Eva> 2", 1)
    assert "[Maatje in #pair-demo-mila-eva] Afspraak 1 staat vast." in confirmed
    assert "📎 maatje-meeting-1.ics" in confirmed and "METHOD:REQUEST" in confirmed
    assert "DTSTART;TZID=Europe/Amsterdam:" in confirmed
    assert "[Maatje → Mila] For meeting 1 with Eva on" in confirmed
    assert "Theme: Getting to know each other" in confirmed
    assert "three short questions" in confirmed
    assert confirmed.count("A reminder: meeting 1 with Mila starts in") >= 1
    assert "[Maatje → Eva] Did meeting 1 with Mila take place?" in confirmed
    assert "Afspraak 1 vervalt niet" in after_miss
    assert "Let's find a new time for meeting 1 with Eva" in after_miss
    assert "Een vriendelijk duwtje van Maatje: de laatste afspraak is niet doorgegaan." in (
        after_miss
    )
    status = after_miss.split("Cora> /status", 1)[1]
    assert "Vastgelopen duo's: Mila en Eva: de laatste afspraak is niet doorgegaan (stap 1" in (
        status
    )
    assert "Traceback" not in out
