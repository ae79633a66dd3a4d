"""Questionnaire files: the built-in ones load, and a bad file names its file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.services.questionnaires import QuestionnaireError, load, parse
from flows.poll_answers import BUILTIN
from flows.questionnaire import Likert, Skippable, build_flow, input_for

GOOD = """
title = { nl = "Proef", en = "Trial" }
[scales.three]
labels = [
  { nl = "laag", en = "low" }, { nl = "midden", en = "middle" }, { nl = "hoog", en = "high" },
]
[[items]]
id = "mood"
kind = "likert"
scale = "three"
nl = "Hoe gaat het?"
en = "How are you?"
[[items]]
id = "note"
kind = "open"
required = false
nl = "Nog iets?"
en = "Anything else?"
"""


def test_the_built_in_questionnaires_load() -> None:
    found = load([BUILTIN])
    assert set(found) == {
        "relationship",
        "midterm",
        "final-evaluation",
        "mentorscan",
        "mentor-quarterly",
        "training-evaluation",
    }
    recommend = found["final-evaluation"].item("recommend")
    assert recommend is not None
    assert [c.label.pick("en") for c in recommend.choices] == [
        "certainly not",
        "maybe",
        "probably",
        "certainly",
    ]
    keep = found["final-evaluation"].item("keep_in_touch")
    assert keep is not None and [c.label.pick("nl") for c in keep.choices][1].startswith(
        "nee, maar"
    )
    scan = found["mentorscan"]
    assert scan.topics and {i.kind for i in scan.items if i.topic} == {"likert", "yesno"}
    assert all(q.items and q.title.pick("nl") and q.title.pick("en") for q in found.values())


def test_a_file_becomes_a_flow_with_item_steps(tmp_path: Path) -> None:
    path = tmp_path / "trial.toml"
    path.write_text(GOOD)
    questionnaire = load([tmp_path])["trial"]
    flow = build_flow(questionnaire, on_finish=lambda ctx: None)
    assert flow.name == "poll:trial" and [s.name for s in flow.steps] == ["mood", "note"]
    assert flow.version == int(questionnaire.version[:7], 16)
    assert isinstance(input_for(questionnaire.items[0]), Likert)
    assert isinstance(input_for(questionnaire.items[1]), Skippable)
    path.write_text(GOOD.replace("Anything else?", "Anything more?"))
    assert build_flow(load([tmp_path])["trial"], lambda ctx: None).version != flow.version


def test_a_later_directory_replaces_a_questionnaire(tmp_path: Path) -> None:
    (tmp_path / "midterm.toml").write_text(GOOD)
    assert load([BUILTIN, tmp_path])["midterm"].title.pick("en") == "Trial"


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        (('kind = "likert"', 'kind = "slider"'), "items[0].kind", "must be one of"),
        (('en = "How are you?"', "# no english"), "items[0].en", "non-empty text"),
        (('scale = "three"', 'scale = "four"'), "items[0].scale", "no scale 'four'"),
        (('id = "note"', 'id = "mood"'), "items[1].id", "'mood' is used twice"),
        (('id = "note"', 'id = "Note!"'), "items[1].id", "short id"),
        (("required = false", 'required = "no"'), "items[1].required", "true or false"),
        (("required = false", 'colour = "red"'), "items[1].colour", "unknown key"),
        (("title = {", "titel = {"), "titel", "unknown key"),
        (("[[items]]", "[[items]"), "(file)", "not valid TOML"),
    ],
)
def test_a_bad_file_names_the_file_and_the_key(
    tmp_path: Path, change: tuple[str, str], key: str, problem: str
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(GOOD.replace(*change, 1))
    with pytest.raises(QuestionnaireError) as caught:
        load([tmp_path])
    assert caught.value.key == key and problem in caught.value.problem
    assert str(path) in str(caught.value)


def test_options_and_topics_are_checked(tmp_path: Path) -> None:
    single = GOOD.replace(
        'kind = "open"', 'kind = "single"\noptions = [{ value = "a", nl = "A", en = "A" }]'
    )
    with pytest.raises(QuestionnaireError, match=r"items\[1\]\.options: must be a list of 2"):
        parse(tmp_path / "x.toml", single.encode())
    topic = GOOD.replace('scale = "three"', 'scale = "three"\ntopic = "skills"')
    with pytest.raises(QuestionnaireError, match=r"items\[0\]\.topic: no topic 'skills'"):
        parse(tmp_path / "x.toml", topic.encode())
