"""Judging the wording of a SMART goal, in Dutch and English alike.

Two checks, each a typed input for a step of the goals conversation:

* `Specific` — what the mentee wants to achieve names at least two words of substance, not
  only vague ones: "get better", "beter worden", "work harder" are sent back; "Tentamen
  statistiek halen voor 1 maart" and "Plan my exam weeks" pass.
* `Measure` — how they will know names something countable or checkable: a number (digits or
  a number word), a frequency ("every week", "elke week"), or an outcome that is either there
  or not ("passed", "gehaald", "ingeleverd", "a plan", "een rooster", "3 chapters").

The word lists hold both languages, whatever the reader's language: people write goals in the
language they study in. They are a helping hand, not a judge: the mentor sees every goal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.engine import FreeText, Invalid
from bot.engine.inputs import ParseContext
from bot.i18n import _l

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def _set(listed: str) -> frozenset[str]:
    return frozenset(listed.split())


FILLER = _set(
    """
    i me my mine myself a an the to of in on at for with and or but it its is am are was will
    want wants would like can could should must just some this that these those so also by
    from into about up out as than then there here what which who how when
    """
) | _set(
    """
    ik me mij mijn m'n een de het 't te van in op aan voor met en of maar dat die dit deze er
    wil wilt willen ga gaat gaan zou zal kan kun moet graag wat wie hoe wanneer om nog ook al
    zo naar uit bij door over dan
    """
)
"""Words that carry no content of their own."""

VAGUE = _set(
    """
    get gets getting become becoming be being better best more less improve improving improved
    improvement work working harder hard good well great things thing stuff something
    everything anything try trying do doing make making bit lot lots generally overall general
    feel feeling happier happy motivated productive succeed success nicer nice okay ok fine
    really very much
    """
) | _set(
    """
    beter best meer minder verbeteren verbetering worden word wordt zijn ben is werken harder
    hard goed goede leuk leuker dingen ding iets alles proberen doen maken beetje veel
    algemeen gewoon voelen gelukkiger gemotiveerd productief succes lekker oké prima echt heel
    erg
    """
)
"""Words that say something will be different without saying what."""

NUMBERS = _set(
    """
    one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty
    fifty hundred half once twice every each per daily weekly monthly all
    """
) | _set(
    """
    twee drie vier vijf zes zeven acht negen tien elf twaalf vijftien twintig dertig veertig
    vijftig honderd half halve helft eenmaal tweemaal elke iedere ieder per dagelijks
    wekelijks maandelijks alle
    """
)
"""Number words and frequencies ("een" is left out: it is also Dutch for "a")."""

OUTCOMES = _set(
    """
    pass passed finish finished complete completed done submit submitted hand handed send sent
    deliver delivered write written read summary summaries plan planned planning schedule list
    overview draft grade grades mark score exam exams test tests deadline hour hours minute
    minutes day days week weeks time times ects credit credits application applied registered
    enrolled appointment booked attended presentation report essay thesis page pages chapter
    chapters
    """
) | _set(
    """
    halen haal haalt gehaald behaald slagen geslaagd af klaar afronden afgerond inleveren
    ingeleverd versturen verstuurd opsturen opgestuurd schrijven geschreven lezen gelezen
    samenvatting samenvattingen planning plan gepland rooster schema lijst overzicht opzet
    cijfer cijfers voldoende tentamen tentamens toets toetsen deadline uur uren minuut minuten
    dag dagen week weken keer ec studiepunten aanmelding aangemeld ingeschreven afspraak
    gemaakt bijgewoond presentatie verslag essay scriptie pagina hoofdstuk hoofdstukken
    """
)
"""Outcomes that are either there or not, and units that count."""

STEMS = tuple(
    _set(
        """
        summar chapter schedul submit finish complet
        samenvat samengevat hoofdstuk pagina tentamen toets planning rooster ingelever afgerond
        gehaald behaald
        """
    )
)
"""Word parts that count wherever they occur ("statistiektentamen", "summarised")."""


def words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFC", text).casefold()
    return _WORD.findall(folded)


def content_words(text: str) -> list[str]:
    """The words of substance: neither filler nor vague."""
    return [w for w in words(text) if w not in FILLER and w not in VAGUE]


def is_specific(text: str) -> bool:
    return len(content_words(text)) >= 2


def is_measurable(text: str) -> bool:
    if any(ch.isdigit() for ch in text):
        return True
    return any(
        w in NUMBERS or w in OUTCOMES or any(stem in w for stem in STEMS) for w in words(text)
    )


@dataclass(frozen=True)
class Specific(FreeText):
    """Free text that says what exactly the mentee wants to achieve."""

    def parse_text(self, raw: str, ctx: ParseContext) -> str:
        value = super().parse_text(raw, ctx)
        if not is_specific(value):
            raise Invalid(
                _l(
                    "Make it specific: say what exactly you will do or achieve, for example "
                    "'summarise chapters 1 to 3 of statistics' rather than 'get better'."
                )
            )
        return value


@dataclass(frozen=True)
class Measure(FreeText):
    """Free text that names something countable or checkable."""

    def parse_text(self, raw: str, ctx: ParseContext) -> str:
        value = super().parse_text(raw, ctx)
        if not is_measurable(value):
            raise Invalid(
                _l(
                    "Make it measurable: add a number or something you can check, "
                    "for example '3 chapters summarised' or 'a plan on paper'."
                )
            )
        return value
