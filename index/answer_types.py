"""Answer types: does a question ask for a date, a time of day or a number, and does a sentence
hold one?

Regular expressions over accent-folded lowercase text, in French and English. A value that
the question already contains (« le 17 novembre » in « qui dirigeait le 17 novembre ? »)
does not count as an answer in the sentence, nor do the figures of a date or an hour count as a
number. A question that says what it counts (« combien de lits ? ») is answered best by a number
of that (« dix lits »).
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from index.analysis import fold_accents


class AnswerType(StrEnum):
    DATE = "date"  # a day, a month, a year: « quel jour », « quand »
    TIME = "time"  # an hour of the day: « à quelle heure » (« à midi » tells no day)
    NUMBER = "number"


_ASKS = {
    AnswerType.DATE: re.compile(
        r"\b(?:quand|quel jour|quelle date|quelle annee|en quelle|a quelle (?:date|epoque)"
        r"|depuis quand|jusqu'a quand|when|what (?:day|date|year)|which (?:day|date|year)"
        r"|how long ago)\b"
    ),
    AnswerType.TIME: re.compile(r"\b(?:a quelle heure|(?:at )?what time)\b"),
    AnswerType.NUMBER: re.compile(
        r"\b(?:combien|quel (?:montant|nombre|prix|chiffre|pourcentage|taux|age|bilan|cout)"
        r"|quelle (?:somme|part|proportion|hauteur|duree|superficie|surface|valeur)"
        r"|a combien|how (?:many|much|long|old|far)|what (?:share|percentage|proportion|amount"
        r"|number|price|sum|fraction)|which (?:share|percentage|amount))\b"
    ),
}

_MONTHS = (
    "janvier|fevrier|mars|avril|mai|juin|juillet|aout|septembre|octobre|novembre|decembre"
    "|january|february|march|april|may|june|july|august|september|october|november|december"
)
_WEEKDAYS = (
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
    "|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
_NUMBER_WORDS = (
    "deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize"
    "|vingt|trente|quarante|cinquante|soixante|cent|cents|mille|million|millions|milliard"
    "|milliards|dizaine|dizaines|centaine|centaines|moitie|tiers|quart"
)
_HOLDS = {
    AnswerType.DATE: re.compile(
        rf"\b(?:\d{{1,2}}(?:er)? (?:{_MONTHS})(?: \d{{4}})?|(?:{_MONTHS}) \d{{4}}|(?:{_WEEKDAYS})"
        r"|(?:19|20)\d\d|la veille|le lendemain|hier|aujourd'hui|avant-hier)\b"
    ),
    AnswerType.TIME: re.compile(r"\b(?:\d{1,2} ?h(?: ?\d\d)?|midi|minuit)\b"),
    AnswerType.NUMBER: re.compile(rf"\d+(?:[ ,.]\d+)*(?: ?%)?|\b(?:{_NUMBER_WORDS})\b"),
}


_COUNTS = re.compile(r"\b(?:combien|nombre) d(?:e |')(?:(?:ces|ses|leurs|les) )?([a-z-]{3,})")
_DURATION = r"(?:secondes?|minutes?|heures?|h|jours?|semaines?|mois|ans?|annees?|siecles?)"
_NUMBER = _HOLDS[AnswerType.NUMBER].pattern


@dataclass(frozen=True)
class Asked:
    """What a question asks for, the values it already names (not answers), and what
    « combien de … » counts (« lits » in « combien de lits ? »; « temps » counts durations)."""

    types: frozenset[AnswerType]
    given: frozenset[str]
    counted: str | None = None


def _fold(text: str) -> str:
    return fold_accents(text.lower().replace("’", "'"))


def asked(question: str) -> Asked:
    """The answer types `question` asks for, the values it names, and what it counts."""
    folded = _fold(question)
    types = frozenset(t for t, pattern in _ASKS.items() if pattern.search(folded))
    given = frozenset(m.group() for p in _HOLDS.values() for m in p.finditer(folded))
    counts = _COUNTS.search(folded) if AnswerType.NUMBER in types else None
    return Asked(types, given, counts.group(1) if counts else None)


@lru_cache(maxsize=65536)
def _values(sentence: str) -> dict[AnswerType, frozenset[str]]:
    """The values of each type in `sentence`; the figures of a date or an hour are not numbers
    (« le 20 novembre 2023 » tells no quantity)."""
    folded, undated = _fold(sentence), _undated(sentence)
    return {
        t: frozenset(p.findall(undated if t is AnswerType.NUMBER else folded))
        for t, p in _HOLDS.items()
    }


@lru_cache(maxsize=65536)
def _undated(sentence: str) -> str:
    """`sentence` folded, its dates and hours blanked out."""
    folded = _fold(sentence)
    return _HOLDS[AnswerType.TIME].sub(" ", _HOLDS[AnswerType.DATE].sub(" ", folded))


def holds(sentence: str, kind: AnswerType, question: Asked) -> bool:
    """Whether `sentence` holds a value of `kind` that the question does not already name."""
    return bool(_values(sentence)[kind] - question.given)


def counts(sentence: str, question: Asked) -> bool:
    """Whether `sentence` holds a number of what the question counts (« dix lits » for
    « combien de lits ? »), within three words of it."""
    counted = question.counted
    return counted is not None and bool(_counting(counted).search(_undated(sentence)))


@lru_cache(maxsize=1024)
def _counting(counted: str) -> re.Pattern[str]:
    """A number followed, within three words, by `counted` (singular or plural)."""
    stem = counted[:-1] if counted.endswith(("s", "x")) else counted
    noun = _DURATION if counted == "temps" else rf"{re.escape(stem)}[sx]?"
    return re.compile(rf"(?:{_NUMBER})(?: [\w'-]+){{0,3}}? (?:\w+-)?{noun}\b")


def answers_type(sentence: str, question: Asked) -> bool:
    """Whether `sentence` holds a new value of every type the question asks for."""
    return bool(question.types) and all(holds(sentence, t, question) for t in question.types)
