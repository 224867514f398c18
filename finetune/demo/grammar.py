"""A rule-based grammar that renders one meaning in English, Qaa and Qab.

A `Clause` is the meaning (who does what to whom, where, when); `realize` renders it in
each language. The constructed languages differ from English in word order, agreement
and morphology:

* Qaa: adverb first, then subject, place, object, verb (SOV); nouns take a plural suffix
  `-en`, adjectives follow the noun and agree (`-i`), determiners close the noun phrase
  (`ka` the, `tu` this), the object is marked by `ne`, places by postpositions; verbs take a
  tense prefix (`ba` past, `lo` future), a person suffix and the negation particle `na`.
* Qab: verb first (VSO) and pro-drop (only he/she keep a pronoun); nouns inflect for number
  (`-i`) and case (`-k` object, `-e` place), adjectives precede and agree (`-s`); verbs take a
  person prefix, a tense suffix (`ur` past, `is` future) and a negation suffix `ma`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dragoman.finetune.demo import lexicon as lx
from dragoman.finetune.demo.lexicon import Noun, Verb, Word

PERSONS = ("1sg", "2sg", "3sg_m", "3sg_f", "1pl", "3pl")
_PRONOUNS = {
    "1sg": ("I", "ema", ""),
    "2sg": ("you", "eti", ""),
    "3sg_m": ("he", "osa", "on"),
    "3sg_f": ("she", "ila", "en"),
    "1pl": ("we", "emar", ""),
    "3pl": ("they", "osar", ""),
}
_QAA_PERSON = {"1sg": "am", "2sg": "at", "3sg": "a", "1pl": "amo", "3pl": "an"}
_QAB_PERSON = {"1sg": "ni", "2sg": "ti", "3sg": "", "1pl": "mu", "3pl": "su"}
_QAA_TENSE = {"present": "", "past": "ba", "future": "lo"}
_QAB_TENSE = {"present": "", "past": "ur", "future": "is"}
_ENG_DET = {"the": ("the", "the"), "this": ("this", "these"), "a": ("a", "")}
_QAA_DET = {"the": "ka", "this": "tu", "a": ""}
_QAB_DET = {"the": "le", "this": "si", "a": ""}
TENSES = tuple(_QAA_TENSE)
DETERMINERS = tuple(_ENG_DET)


@dataclass(frozen=True)
class NounPhrase:
    """A determiner, an optional adjective and a noun, singular or plural."""

    noun: Noun
    plural: bool
    det: str
    adj: Word | None = None


@dataclass(frozen=True)
class Clause:
    """One meaning: subject (a person or a noun phrase), verb, object, place, adverb."""

    subject: str | NounPhrase
    verb: Verb
    tense: str
    negated: bool
    obj: NounPhrase
    place: tuple[Word, NounPhrase] | None = None
    adverb: Word | None = None

    @property
    def person(self) -> str:
        """The agreement class of the subject: 1sg, 2sg, 3sg, 1pl or 3pl."""
        if isinstance(self.subject, NounPhrase):
            return "3pl" if self.subject.plural else "3sg"
        return self.subject.split("_")[0]


def _capitalize(words: list[str]) -> str:
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:] + "."


def _eng_np(np: NounPhrase) -> list[str]:
    det = _ENG_DET[np.det][np.plural]
    words = [np.adj.eng] if np.adj else []
    words.append(np.noun.eng_plural if np.plural else np.noun.eng)
    if det == "a" and words[0][0] in "aeiou":
        det = "an"
    return [det, *words]


def _eng_verb(c: Clause) -> list[str]:
    v = c.verb
    if c.tense == "future":
        return ["will", "not", v.eng] if c.negated else ["will", v.eng]
    if c.tense == "past":
        return ["did", "not", v.eng] if c.negated else [v.eng_past]
    if c.negated:
        return ["does" if c.person == "3sg" else "do", "not", v.eng]
    return [v.eng_3sg if c.person == "3sg" else v.eng]


def english(c: Clause) -> str:
    """Renders a clause in English: S V O [P] [Adv]."""
    subject = _eng_np(c.subject) if isinstance(c.subject, NounPhrase) else [_PRONOUNS[c.subject][0]]
    words = [*subject, *_eng_verb(c), *_eng_np(c.obj)]
    if c.place:
        words += [c.place[0].eng, *_eng_np(c.place[1])]
    if c.adverb:
        words.append(c.adverb.eng)
    return _capitalize(words)


def _qaa_np(np: NounPhrase) -> list[str]:
    words = [np.noun.qaa + ("en" if np.plural else "")]
    if np.adj:
        words.append(np.adj.qaa + ("i" if np.plural else ""))
    return [*words, _QAA_DET[np.det]]


def qaa(c: Clause) -> str:
    """Renders a clause in Qaa: [Adv] S [P] O V."""
    words = [c.adverb.qaa] if c.adverb else []
    if isinstance(c.subject, NounPhrase):
        words += _qaa_np(c.subject)
    else:
        words.append(_PRONOUNS[c.subject][1])
    if c.place:
        words += [*_qaa_np(c.place[1]), c.place[0].qaa]
    words += [*_qaa_np(c.obj), "ne"]
    if c.negated:
        words.append("na")
    words.append(_QAA_TENSE[c.tense] + c.verb.qaa + _QAA_PERSON[c.person])
    return _capitalize(words)


def _qab_np(np: NounPhrase, case: str) -> list[str]:
    words = [_QAB_DET[np.det]]
    if np.adj:
        words.append(np.adj.qab + ("s" if np.plural else ""))
    return [*words, np.noun.qab + ("i" if np.plural else "") + case]


def qab(c: Clause) -> str:
    """Renders a clause in Qab: V [S] O [P] [Adv], pro-drop except he/she."""
    verb = _QAB_PERSON[c.person] + c.verb.qab + _QAB_TENSE[c.tense]
    words = [verb + ("ma" if c.negated else "")]
    if isinstance(c.subject, NounPhrase):
        words += _qab_np(c.subject, "")
    else:
        words.append(_PRONOUNS[c.subject][2])
    words += _qab_np(c.obj, "k")
    if c.place:
        words += [c.place[0].qab, *_qab_np(c.place[1], "e")]
    if c.adverb:
        words.append(c.adverb.qab)
    return _capitalize(words)


REALIZERS = {lx.ENG: english, lx.QAA: qaa, lx.QAB: qab}


def realize(c: Clause) -> dict[str, str]:
    """Renders a clause in every demo language, keyed by language code."""
    return {code: render(c) for code, render in REALIZERS.items()}


class ClauseSampler:
    """Draws random clauses from the lexicon (deterministic for a given seed).

    Args:
        seed: Seed of the private random generator.
        domain: Draw subject, object and place nouns from the workshop domain nouns.
    """

    def __init__(self, seed: int, domain: bool = False) -> None:
        self._rng = random.Random(seed)
        self._domain = domain

    def _np(self, nouns: tuple[Noun, ...]) -> NounPhrase:
        rng = self._rng
        adj = rng.choice(lx.ADJECTIVES) if rng.random() < 0.5 else None
        return NounPhrase(rng.choice(nouns), rng.random() < 0.4, rng.choice(DETERMINERS), adj)

    def sample(self) -> Clause:
        """Returns one random clause."""
        rng = self._rng
        domain = lx.DOMAIN_NOUNS if self._domain else None
        person = rng.random() < 0.35
        subject: str | NounPhrase = (
            rng.choice(PERSONS) if person else self._np(domain or lx.ANIMATE)
        )
        obj = self._np(domain or (lx.ANIMATE + lx.THINGS + lx.PLACES))
        place = None
        if rng.random() < 0.5:
            place = (rng.choice(lx.ADPOSITIONS), self._np(domain or lx.PLACES))
        adverb = rng.choice(lx.ADVERBS) if rng.random() < 0.3 else None
        return Clause(
            subject=subject,
            verb=rng.choice(lx.VERBS),
            tense=rng.choice(TENSES),
            negated=rng.random() < 0.25,
            obj=obj,
            place=place,
            adverb=adverb,
        )
