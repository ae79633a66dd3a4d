"""Questionnaire files: the built-in ones load, and a bad file names its file and key."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import build
from bot.clock import FrozenClock
from bot.config import Config, ConfigError, load_config
from bot.domain import Role
from bot.services.questionnaires import QuestionnaireError, load, parse
from bot.testing import Conversation, console_adapter, programme_config
from flows.evaluation.poll_answers import BUILTIN
from flows.evaluation.questionnaire import Likert, Skippable, build_flow, input_for
from tests import participants

ROOT = Path(__file__).resolve().parent.parent

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
    flow = build_flow(questionnaire, on_finish=lambda ctx: None, role_of=lambda ctx: None)
    assert flow.name == "poll:trial" and [s.name for s in flow.steps] == ["mood", "note"]
    assert flow.version == int(questionnaire.version[:7], 16)
    assert isinstance(input_for(questionnaire.items[0]), Likert)
    assert isinstance(input_for(questionnaire.items[1]), Skippable)
    path.write_text(GOOD.replace("Anything else?", "Anything more?"))
    changed = build_flow(load([tmp_path])["trial"], lambda ctx: None, lambda ctx: None)
    assert changed.version != flow.version


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
        (("required = false", 'audience = "coaches"'), "items[1].audience", "mentees or mentors"),
        (("title = {", 'audience = "all"\ntitle = {'), "audience", "mentees or mentors"),
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


def test_items_for_one_role(tmp_path: Path) -> None:
    both = GOOD.replace('kind = "open"', 'kind = "open"\naudience = "mentors"')
    questionnaire = parse(tmp_path / "x.toml", both.encode())
    assert questionnaire.roles == ("mentee", "mentor")
    assert [i.id for i in questionnaire.items_for("mentee")] == ["mood"]
    assert [i.id for i in questionnaire.items_for("mentor")] == ["mood", "note"]
    only = parse(
        tmp_path / "y.toml", GOOD.replace("title = {", 'audience = "mentees"\ntitle = {').encode()
    )
    assert only.roles == ("mentee",) and only.items_for("mentor") == ()
    found = load([BUILTIN])
    assert found["mentorscan"].roles == ("mentor",) and found["midterm"].roles == ("mentee",)
    final = found["final-evaluation"]
    assert len(final.items_for("mentee")) == len(final.items_for("mentor")) == 12


OWN = """
title = { nl = "Welkomstcheck", en = "Welcome check" }
audience = "mentees"
[[items]]
id = "found_the_way"
kind = "yesno"
nl = "Weet je de weg op de campus?"
en = "Do you know your way around campus?"
"""


def test_questionnaires_dir_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "ours").mkdir()
    config_file = tmp_path / "config.toml"
    config_file.write_text('questionnaires_dir = "ours"\n')
    assert load_config(config_file, env={}).questionnaires_dirs == (tmp_path / "ours",)
    config_file.write_text('questionnaires_dir = ["ours", "missing"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(config_file, env={})
    assert caught.value.key == "questionnaires_dir[1]" and "no such folder" in caught.value.problem


async def test_a_programme_sends_its_own_questionnaire(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "welcome-check.toml").write_text(OWN)
    clock = FrozenClock(datetime(2026, 10, 5, 9, 0, tzinfo=UTC))
    console = console_adapter()
    config = Config(
        database_url=database_url,
        programmes=(programme_config(),),
        questionnaires_dirs=(folder,),
    )
    app = build(config, clock, adapters={"console": console}, auto_dispatch=False)
    try:
        chat = Conversation(app.core, console)
        await chat.send("cora", "hello")
        participants.enrol(app.store, clock.now(), chat.ref("anna"), "Anna", Role.MENTEE, {})
        participants.enrol(app.store, clock.now(), chat.ref("mila"), "Mila", Role.MENTOR, {})
        for who in ("anna", "mila"):
            await chat.send(who, "hi")
        await chat.command("cora", "poll", "send", "welcome-check", "to", "all")
        assert "Poll 1 is on its way: “Welcome check” to all mentors and mentees (1 person)" in (
            chat.last("cora")
        )
        assert chat.last("anna") == "(1/1) Do you know your way around campus?"
        await chat.send("anna", "yes")
        assert "Thank you for your answers!" in chat.last("anna")
        assert not any("Welcome check" in t for t in chat.new("mila"))  # for mentees only
    finally:
        app.store.dispose()


def test_a_broken_file_in_questionnaires_dir_stops_start_up(tmp_path: Path) -> None:
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "welcome-check.toml").write_text(OWN.replace('kind = "yesno"', 'kind = "maybe"'))
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f'questionnaires_dir = "ours"\n[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config_file)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "welcome-check.toml: items[0].kind: must be one of likert" in done.stderr
    assert "Traceback" not in done.stderr
