"""The safety net's phrase lists (flows/safeguarding/phrases-*.txt): spelling variants that
must be caught, near-misses that must not, and the file format."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.safeguarding.phrases import PhraseList, expand, words

PHRASES = PhraseList.load()

CAUGHT = [
    # suicide, Dutch
    ("ik denk aan zelfmoord", "suicide"),
    ("Ik DENK aan zelf moord!!", "suicide"),
    ("soms denk ik aan zelf-moord", "suicide"),
    ("ik heb zelfmoordgedachten", "suicide"),
    ("ik ben suïcidaal", "suicide"),
    ("ik ben suicidaal", "suicide"),
    ("ik wil dooooood", "suicide"),
    ("eigenlijk wil ik dood", "suicide"),
    ("ik wil niet meer leven", "suicide"),
    ("ik wil er een eind aan maken", "suicide"),
    ("ik zie het leven niet meer zitten", "suicide"),
    ("ik ga mezelf iets aandoen", "suicide"),
    ("ik wil mezelf van kant maken", "suicide"),
    # suicide, English
    ("I feel suicidal and I need professional help", "suicide"),
    ("i want to kill myself", "suicide"),
    ("I want to kill my self", "suicide"),
    ("gonna kms", "suicide"),
    ("i wanna kms lol", "suicide"),
    ("k1ll mys3lf", "suicide"),
    ("kill\u200bmyself", "suicide"),  # a zero-width space inside
    ("ＫＩＬＬ ＭＹＳＥＬＦ", "suicide"),  # full-width letters
    ("I don't want to live anymore", "suicide"),
    ("i just want to end my life", "suicide"),
    ("I'd rather be dead", "suicide"),
    # self-harm
    ("ik snij mezelf weer", "self-harm"),
    ("ik heb weer gekrast", "self-harm"),
    ("I've been cutting myself", "self-harm"),
    ("self-harm is back", "self-harm"),
    ("selfharm", "self-harm"),
    # abuse
    ("mijn vader slaat me", "abuse"),
    ("ik word thuis geslagen", "abuse"),
    ("ik ben misbruikt", "abuse"),
    ("my stepdad hits me", "abuse"),
    ("I was abused", "abuse"),
    # acute danger
    ("ik voel me niet veilig thuis", "danger"),
    ("ik heb te veel pillen geslikt", "danger"),
    ("I am not safe", "danger"),
    ("I took too many pills", "danger"),
]

NOT_CAUGHT = [
    # "dood moe" is exhaustion, not a crisis (docs/safeguarding.md)
    "ik ben dood moe",
    "ik ben doodmoe na die week",
    "ik ga dood van de stress",
    "ik lag dood van het lachen",
    "ik wil dood van het lachen",
    "ik zie het niet meer zitten met statistiek",
    "ik studeer zelfmoordpreventie",
    "mijn vertrouwen werd misbruikt",
    "we werden geslagen door het andere team",
    "this exam is killing me",
    "I could kill for a coffee",
    "I'm dead tired",
    "I ran 10 kms today",
    "it's 5 kms to campus",
    "I cut myself shaving",
    "cut myself some slack",
    "I nearly killed myself laughing",
    "I want to die of embarrassment",
    "my mum is going to kill me when she sees my grades",
    "I take a lot of pills for my asthma",
    "I hurt my knee",
    "I research suicide prevention",
    "Ik zou graag hulp willen bij plannen",
]


@pytest.mark.parametrize(("text", "category"), CAUGHT)
def test_caught_with_its_category(text: str, category: str) -> None:
    hit = PHRASES.find(text)
    assert hit is not None, text
    assert hit.phrase.category == category, (text, hit.phrase.line)


@pytest.mark.parametrize("text", NOT_CAUGHT)
def test_near_misses_are_not_caught(text: str) -> None:
    hit = PHRASES.find(text)
    assert hit is None, (text, hit and hit.phrase.line)


def test_normalisation() -> None:
    assert words("Zelf-Moord!! in Één dag") == ["zelf", "mord", "in", "en", "dag"]
    assert words("k1ll 10 kms") == ["kil", "10", "kms"]
    assert words("") == []


def test_alternatives_expand() -> None:
    assert expand("{a|b} c{d|}") == ["a cd", "a c", "b cd", "b c"]
    assert expand("plain") == ["plain"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("kill myself\n", "before the first"),
        ("[sadness]\nkill myself\n", "unknown category"),
        ("[suicide]\n{kill|end myself\n", "unbalanced"),
        ("[suicide]\nx\n", "too short"),
        ("[suicide]\n" + "{a|b|c|d|e|f|g|h}" * 3 + "\n", "variants"),
    ],
)
def test_a_broken_file_names_the_line(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "phrases-xx.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as raised:
        PhraseList.load([path])
    assert str(raised.value).startswith("phrases-xx.txt:")


def test_every_category_has_phrases_in_both_languages() -> None:
    from flows.safeguarding.phrases import CATEGORIES, FILES

    for path in FILES:
        found = {p.category for p in PhraseList.load([path]).phrases}
        assert found == set(CATEGORIES), path.name
