"""The demo languages' lexicon, as data.

English (`eng_Latn`) and two constructed languages, Qaa (`qaa_Latn`) and Qab (`qab_Latn`),
coded with ISO 639 private-use codes. Every entry gives the English forms and the stems of
both constructed languages; the grammar (`grammar.py`) inflects them. Tests and later
features (a glossary that forces a term) read this table rather than copying it.

`DOMAIN_NOUNS` are workshop terms that never occur in the general corpus: the domain
adapter demo teaches them to a trained model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENG, QAA, QAB = "eng_Latn", "qaa_Latn", "qab_Latn"
LANGUAGES: tuple[dict[str, Any], ...] = (
    {"code": ENG, "display_name": "English", "aliases": ["en", "eng", "en-Latn"]},
    {"code": QAA, "display_name": "Demo Qaa (constructed)", "aliases": ["qaa", "qaa-Latn"]},
    {"code": QAB, "display_name": "Demo Qab (constructed)", "aliases": ["qab", "qab-Latn"]},
)
CODES: tuple[str, ...] = tuple(lang["code"] for lang in LANGUAGES)


@dataclass(frozen=True)
class Noun:
    """A noun: English singular and plural, Qaa and Qab stems."""

    eng: str
    eng_plural: str
    qaa: str
    qab: str


@dataclass(frozen=True)
class Verb:
    """A transitive verb: English base, third person singular and past; Qaa and Qab stems."""

    eng: str
    eng_3sg: str
    eng_past: str
    qaa: str
    qab: str


@dataclass(frozen=True)
class Word:
    """An uninflected word (adjective stem, adverb, adposition) in the three languages."""

    eng: str
    qaa: str
    qab: str


def _nouns(rows: str) -> tuple[Noun, ...]:
    return tuple(Noun(*row.split()) for row in rows.strip().splitlines())


ANIMATE = _nouns("""
dog dogs hun kan
cat cats mir pis
bird birds tav fol
horse horses rask dov
child children pil nen
teacher teachers sorut makel
farmer farmers gaden tirop
king kings rul vaz
woman women ven dam
man men kor bel
mouse mice sik mup
friend friends tam hol
""")

THINGS = _nouns("""
apple apples pom alm
book books lib kit
letter letters skrev pist
stone stones lit kam
cup cups kop tas
loaf loaves pan bor
flower flowers blom svet
box boxes kist kut
key keys klav anah
ball balls bol top
basket baskets korb sep
coat coats palt kaf
""")

PLACES = _nouns("""
house houses dom kas
river rivers flun rek
tree trees arb dar
garden gardens gart bag
road roads vej yol
table tables mez tab
bridge bridges most pont
market markets rin sok
hill hills kum tep
forest forests sel orm
""")

DOMAIN_NOUNS = _nouns("""
hammer hammers molot cekic
wrench wrenches kluc somun
engine engines motor makin
valve valves ventil supap
bolt bolts vint civat
gear gears zubec disli
lever levers ryc kolu
pump pumps nasos pompa
""")

VERBS = tuple(
    Verb(*row.split())
    for row in """
see sees saw vid gor
like likes liked lub sev
find finds found trov bul
carry carries carried port kos
eat eats ate manj yem
buy buys bought kup al
build builds built stroj kur
watch watches watched gled bak
open opens opened otkr ac
write writes wrote skriv yaz
hold holds held ten tut
want wants wanted vol ist
take takes took pren ald
bring brings brought donos get
wash washes washed lav yik
help helps helped hjelp yard
""".strip().splitlines()
)


def _words(rows: str) -> tuple[Word, ...]:
    return tuple(Word(*row.split()) for row in rows.strip().splitlines())


ADJECTIVES = _words("""
big mar gro
small pik mal
red rud kiz
old vet sta
young jun mla
happy fel bic
green ver zel
heavy grav tez
quiet sil tih
bright lum jas
tall hoh vis
""")

ADVERBS = _words("""
quickly bist hizla
slowly lang yavas
often chast sik
again opet gen
today dnes bugun
together zusa bir
""")

# English preposition, Qaa postposition, Qab preposition.
ADPOSITIONS = _words("""
in ul ba
near pe ko
under sot du
behind rek ri
on sam fe
""")


def as_dict() -> dict[str, Any]:
    """The whole lexicon as JSON-ready data (written beside the demo model)."""
    return {
        "languages": list(LANGUAGES),
        "nouns": [vars(n) for n in ANIMATE + THINGS + PLACES],
        "domain_nouns": [vars(n) for n in DOMAIN_NOUNS],
        "verbs": [vars(v) for v in VERBS],
        "adjectives": [vars(w) for w in ADJECTIVES],
        "adverbs": [vars(w) for w in ADVERBS],
        "adpositions": [vars(w) for w in ADPOSITIONS],
    }
