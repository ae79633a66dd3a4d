"""Reports from responses: counts, percentages, n, means, CSV, charts, training topics."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from bot.i18n import Translator
from bot.services import reports
from bot.services.questionnaires import load, parse

FORM = """
title = { nl = "Proef", en = "Trial" }
[[items]]
id = "satisfied"
kind = "likert"
nl = "Tevreden?"
en = "Satisfied?"
[[items]]
id = "again"
kind = "yesno"
nl = "Nog eens?"
en = "Again?"
[[items]]
id = "channel"
kind = "multiple"
nl = "Hoe?"
en = "How?"
options = [
  { value = "chat", nl = "chat", en = "chat" },
  { value = "call", nl = "bellen", en = "call" },
  { value = "meet", nl = "afspreken", en = "meet" },
]
[[items]]
id = "hours"
kind = "number"
nl = "Uren?"
en = "Hours?"
[[items]]
id = "note"
kind = "open"
required = false
nl = "Opmerking?"
en = "Remark?"
"""

ANSWERS = [
    {"satisfied": 5, "again": True, "channel": ["chat"], "hours": 2, "note": "great"},
    {"satisfied": 4, "again": True, "channel": ["chat", "meet"], "hours": 4, "note": None},
    {"satisfied": 4, "again": False, "channel": ["call"], "hours": 3, "note": "ok"},
    {"satisfied": 2, "again": True, "channel": None, "hours": 3, "note": None},
]


def render_en(value) -> str:
    return Translator().render(value, "en")


def test_counts_percentages_n_and_mean() -> None:
    questionnaire = parse(Path("trial.toml"), FORM.encode())
    report = reports.build(questionnaire, ANSWERS)
    satisfied, again, channel, hours, note = report.items
    assert report.respondents == 4
    assert satisfied.n == 4 and satisfied.mean == 3.75
    assert [(c.value, c.count, c.percent) for c in satisfied.counts] == [
        ("1", 0, 0.0),
        ("2", 1, 25.0),
        ("3", 0, 0.0),
        ("4", 2, 50.0),
        ("5", 1, 25.0),
    ]
    assert [(c.value, c.count, c.percent) for c in again.counts] == [
        ("yes", 3, 75.0),
        ("no", 1, 25.0),
    ]
    assert channel.n == 3  # one skipped
    assert [(c.value, c.count) for c in channel.counts] == [("chat", 2), ("call", 1), ("meet", 1)]
    assert round(channel.counts[0].percent, 1) == 66.7
    assert hours.mean == 3.0 and [(c.value, c.count) for c in hours.counts] == [
        ("2", 1),
        ("3", 2),
        ("4", 1),
    ]
    assert note.n == 2 and note.open_answers == ((None, "great"), (None, "ok"))

    text = Translator().render(reports.summary_text(report, "en"), "en")
    assert "1. Satisfied? (n = 4)" in text and "4 agree: 50% (2)" in text
    assert "mean 3.8 (scale 1–5)" in text and "Yes: 75% (3)" in text
    dutch = Translator().render(reports.summary_text(report, "nl"), "nl")
    assert "3,8" in dutch and "Ja" in dutch and "Tevreden?" in dutch


def test_names_attribute_open_answers_only_when_given() -> None:
    questionnaire = parse(Path("trial.toml"), FORM.encode())
    named = reports.build(questionnaire, ANSWERS, ["Anna", "Bram", "Chris", "Dana"])
    assert named.items[4].open_answers == (("Anna", "great"), ("Chris", "ok"))
    assert "Anna: great" in render_en(reports.summary_text(named, "en"))


def test_csv_exports() -> None:
    questionnaire = parse(Path("trial.toml"), FORM.encode())
    report = reports.build(questionnaire, ANSWERS)
    rows = list(csv.reader(io.StringIO(reports.summary_csv(report, render_en).decode("utf-8-sig"))))
    assert rows[0] == ["item", "question", "option", "label", "count", "percent", "n", "mean"]
    assert ["satisfied", "Satisfied?", "4", "agree", "2", "50.0", "4", "3.75"] in rows
    assert ["channel", "How?", "chat", "chat", "2", "66.7", "3", ""] in rows
    raw = reports.responses_csv(report, ANSWERS).decode("utf-8-sig").splitlines()
    assert raw[0] == "satisfied,again,channel,hours,note"
    assert raw[2] == "4,yes,chat;meet,4,"
    assert (
        reports.responses_csv(report, ANSWERS, ["A", "B", "C", "D"])
        .decode("utf-8-sig")
        .startswith("person,satisfied")
    )


def test_a_chart_per_item_is_a_png() -> None:
    questionnaire = parse(Path("trial.toml"), FORM.encode())
    report = reports.build(questionnaire, ANSWERS)
    charts = [reports.chart_png(result, render_en) for result in report.items]
    assert charts[4] is None  # open answers are listed, not charted
    for chart in charts[:4]:
        assert chart is not None and chart.startswith(b"\x89PNG\r\n\x1a\n") and len(chart) > 2000


def test_mentorscan_names_the_training_topics_to_plan() -> None:
    scan = load(
        [Path(__file__).resolve().parent.parent / "flows" / "evaluation" / "questionnaires"]
    )["mentorscan"]
    strong = {i.id: (4 if i.kind == "likert" else True) for i in scan.items if i.kind != "open"}
    answers = [
        {**strong, "peer_reflection": 1, "know_referral": False},
        {**strong, "peer_reflection": 2, "hold_back": 2},
        {**strong, "peer_reflection": 2, "know_referral": False, "hold_back": 3},
    ]
    report = reports.build(scan, answers)
    assert [a.topic for a in report.topics] == ["peer_reflection", "boundaries", "guidance"]
    assert report.topics[0].item.id == "peer_reflection"
    assert round(report.topics[0].score, 3) == round((5 / 3 - 1) / 4, 3)
    text = render_en(reports.summary_text(report, "en"))
    assert "Training topics to plan, lowest-scoring first:" in text
    assert "Peer reflection: reflecting on your guidance with other mentors" in text


def test_a_mentors_own_topics_come_from_their_own_low_answers() -> None:
    scan = load(
        [Path(__file__).resolve().parent.parent / "flows" / "evaluation" / "questionnaires"]
    )["mentorscan"]
    top = {i.id: (5 if i.kind == "likert" else True) for i in scan.items if i.kind != "open"}
    assert reports.own_topics(scan, top) == ()  # a top scorer is sent to no training
    fine = {i: (4 if v is not True else v) for i, v in top.items()}
    assert reports.own_topics(scan, fine) == ()  # "often" everywhere is not low either
    mixed = {**top, "peer_reflection": 2, "know_referral": False}
    assert [a.topic for a in reports.own_topics(scan, mixed)] == ["boundaries", "peer_reflection"]


def test_a_dutch_report_has_no_english_in_it() -> None:
    scan = load(
        [Path(__file__).resolve().parent.parent / "flows" / "evaluation" / "questionnaires"]
    )["mentorscan"]
    strong = {i.id: (4 if i.kind == "likert" else True) for i in scan.items if i.kind != "open"}
    report = reports.build(scan, [{**strong, "peer_reflection": 1}, strong])
    text = Translator().render(reports.summary_text(report, "nl"), "nl")
    assert "Trainingsonderwerpen om te plannen" in text and "— laagst: “" in text
    assert "lowest" not in text and "responses" not in text
