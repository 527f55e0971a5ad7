"""The fact a question asks and the claim a sentence makes about it.

A fact is who + role/action + value: who holds a role (« qui est le PDG d'OpenAI ? », the
value is a person), which role a person holds (« quel poste occupe Greg Brockman ? », the
value is a role), or how many of something there are (« combien de membres … ? », the value is
a number, kept as an interval so that « 95 % » agrees with « plus de 90 % »). Sentence vectors
and word overlap do not separate "same fact" on news (see eval/README.md); these patterns
are language rules (French and English), not rules about one story.
"""

import math
import re
from dataclasses import dataclass
from enum import StrEnum

from index.analysis import STOP_WORDS
from index.text_folding import fold

ROLES = {
    "ceo": r"pdg|ceo|chief executive(?: officer)?|president-directeur general"
    r"|direct(?:eur|rice) general[e]?|patron(?:ne)?|boss|a la tete|aux commandes",
    "president": r"president[e]?(?!-)|chair(?:man|woman)?",
    "cto": r"direct(?:eur|rice) (?:technique|de la technologie)|cto|chief technology officer",
    "coo": r"direct(?:eur|rice) de l'exploitation|coo|chief operating officer",
    "chief scientist": r"scientifique en chef|chief scientist",
    "founder": r"co-?fondat(?:eur|rice)|fondat(?:eur|rice)|co-?founder|founder",
    "board member": r"administrat(?:eur|rice)s?|membres? du conseil|board members?",
}
_ROLE = {role: re.compile(rf"\b(?:{pattern})\b") for role, pattern in ROLES.items()}
_ANY_ROLE = re.compile("|".join(f"(?P<r{i}>{p.pattern})" for i, p in enumerate(_ROLE.values())))
_LEADS = re.compile(r"\b(?:dirige\w*|pilote|leads?|runs?|heads?)\b")  # questions only
UNITS = {
    "employees": r"employe|salarie|collaborat|employee|staff|worker|agent",
    "members": r"membre|administrat|member|director|siege|seat",
    "people": r"personne|people|person|individu",  # takes the unit the question asks
    "percent": r"%|pour ?cent|percent",
}
_NUMBER_WORDS = {
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "quinze": 15, "vingt": 20, "two": 2, "three": 3,
    "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12,
}  # fmt: skip
_WORD = r"\d[\d  ,.]*\d|\d|" + "|".join(_NUMBER_WORDS)
_QUANTITY = re.compile(
    r"(?P<q>plus de|moins de|pres de|environ|quelque|au moins|more than|over|less than|about"
    r"|around|nearly|almost|at least)?\s*\b(?P<n>" + _WORD + r")\b(?P<plus>\s?\+)?"
    r"(?:\s*\([^)]{0,40}\))?(?P<part>(?=\s+(?:des|de|sur|of)\s+(?:" + _WORD + r")\b))?"
    r"\s*(?P<unit>%|[\w-]+)?"
)
_COUNT_QUESTION = re.compile(
    r"\b(?:combien d(?:e |')|how many |nombre d(?:e |'))(?P<unit>%|[\w-]+)"
    r"|\b(?:quel(?:le)? (?:pourcentage|proportion)|what (?:percentage|proportion|share))\b"
)
_ROLE_QUESTION = re.compile(
    r"\bquel(?:le)? (?:est (?:le |la )?)?(?:poste|role|fonction|titre)\b"
    r"|\bwhat (?:is \w+(?: \w+)?'s )?(?:role|position|title|job)\b"
)
_NAME = re.compile(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_UNSURE = re.compile(
    r"\bne\b[^.;]{0,40}\b(?:pas|plus|jamais)\b|\bn'\w+ (?:pas|plus|jamais)\b|\bpourr\w+"
    r"|\bvisant a\b|\btent\w+ de\b|\bnot\b|\bno longer\b|\b(?:might|could|would)\b|\?"
)
_ENDED = re.compile(
    r"\ba l'origine\b|\binitialement\b|\bauparavant\b|\bprecedemment\b|\banciennement\b"
    r"|\b(?:evince|licencie|renvoye|demis|limoge|remplace)e?s?\b|\brenvoyer\b"
    r"|\boriginally\b|\bformerly\b|\bpreviously\b|\b(?:fired|ousted|replaced)\b"
)
# Back in the role: the current state, whatever else the sentence says of the ouster.
_RETURN = re.compile(
    r"\bde retour\b|\bretour\b|\brevien\w*|\brevenu\w*|\bretrouv\w*|\breintegr\w*"
    r"|\bback\b|\breturn\w*|\breinstat\w*"
)
_ASKING = frozenset("combien quel quelle quels quelles qui quand who what how where est".split())
_COMBINABLE = frozenset({"founder", "board member"})  # held together with any other role
_CONJUNCTION = re.compile(r"\s(?:et|and|ou|or)\s|;")
_FORMER = re.compile(r"\b(?:l')?(?:ancien(?:ne)?s?|ex-|former)\s*$")
# What may stand between a person and the role word that says what the person is. Role
# before name: only determiners, qualifiers, the organisation and punctuation (« le
# président d'OpenAI, Greg Brockman »). Name before role: the same (apposition, « Greg
# Brockman, président »), or anything ending in a predicative link (« X est / devient / a été
# nommé / en tant que / au poste de / celui de PDG »). Any other word is a verb or noun of
# another clause (« Greg Brockman, voulait soutenir le CEO »): the role is someone else's.
_FILLER = (
    r"(?:\s|[,:(]|\b(?:l'|la|le|les|un|une|son|sa|ses|leur|du|the|a|an|its|his|her"
    r"|(?:ancien|nouveau|nouvel|nouvelle|actuel|futur|premier|interim|ex|former|new|current"
    r"|acting|interim|then)(?:ne|le|s|es)?|par interim|-|[a-z][\w-]*'s"
    r"|(?:de |d'|du |des |of |chez |at )(?:l'|la |le |the )?[\w-]+))*"
)
_APPOSED = re.compile(rf"{_FILLER}\s*")
_LINK = re.compile(
    r"(?:\b(?:en tant que|comme|au poste de|(?:son |sa |le |du )?(?:poste|fonction|titre|role)"
    r" d[e']|cel(?:ui|le) d[e']|est|etait|sera|serait|devient|redevient|deviendra|reste|demeure"
    r"|nomme\w*|designe\w*|promu\w*|elu\w*|is|was|becomes|became|remains|named|appointed"
    r"|as)\b|,)" + _FILLER + r"\s*$"
)


class Kind(StrEnum):
    HOLDER = "holder"  # the value is the person holding `role`
    ROLE = "role"  # the value is the role held by the person named in the question
    COUNT = "count"  # the value is a number of `unit`


@dataclass(frozen=True)
class Focus:
    """The fact a question asks about."""

    kind: Kind
    names: frozenset[str]  # name keys the question gives (the subject, not the value)
    role: str = ""
    unit: str = ""


@dataclass(frozen=True)
class Claim:
    """What a sentence says about the focus: a value, and whether it is told as a past state
    (« à l'origine », « ancien », « évincé ») rather than as it stood on the sentence's date."""

    value: str = ""
    low: float = -math.inf
    high: float = math.inf
    ended: bool = False

    def agrees(self, other: "Claim") -> bool:
        """Same value: equal keys (one typo allowed in long names), overlapping quantities."""
        if self.value or other.value:
            return self.value == other.value or _one_edit_apart(self.value, other.value)
        return self.low <= other.high and other.low <= self.high


@dataclass(frozen=True)
class Name:
    key: str  # folded last word: « altman » for « Sam Altman »
    start: int
    end: int


def focus_of(question: str) -> Focus | None:
    """The fact `question` asks about, if it asks one of the three kinds."""
    folded = fold(question)
    found = [n.key for n in names_in(question, question_start_counts=True)]
    names = frozenset(k for k in found if k not in _ASKING and not _ANY_ROLE.fullmatch(k))
    count = _COUNT_QUESTION.search(folded)
    if count:
        return Focus(Kind.COUNT, names, unit=unit_of(count["unit"] or "%"))
    if _ROLE_QUESTION.search(folded) and names:
        return Focus(Kind.ROLE, frozenset(k for k in found[:1] if k in names))
    role = next((r for r, p in _ROLE.items() if p.search(folded)), "")
    if role or _LEADS.search(folded):
        return Focus(Kind.HOLDER, names, role=role or "ceo")
    return None


def claim_in(sentence: str, focus: Focus) -> Claim | None:
    """The claim `sentence` makes about `focus`, or None if it makes none (or hedges it)."""
    folded = fold(sentence)
    if folded.rstrip().endswith("?"):
        return None
    if focus.kind is Kind.COUNT:
        return _count(folded, focus)
    names = [n for n in names_in(sentence) if not _ANY_ROLE.fullmatch(n.key)]
    read = _holder if focus.kind is Kind.HOLDER else _role
    pairs = read(folded, names, focus)
    if not pairs:
        return None
    _, value, start, end, former = min(pairs)
    if _UNSURE.search(folded[max(0, start - 25) : end + 25]):
        return None
    back = _RETURN.search(folded[max(0, start - 20) : end + 20])
    return Claim(value, ended=not back and (former or bool(_ENDED.search(folded))))


def names_in(text: str, question_start_counts: bool = False) -> list[Name]:
    """Capitalised word runs that are not ordinary words; a lone capitalised word opening the
    text is taken for an ordinary word."""
    found = []
    for match in _NAME.finditer(text):
        words = [w for w in match.group().split() if fold(w).strip("'") not in STOP_WORDS]
        if not words or (match.start() == 0 and len(words) == 1 and not question_start_counts):
            continue
        key = re.sub(r"'s$|[^\w'-]", "", fold(words[-1]))
        if key and key not in STOP_WORDS:
            found.append(Name(key, match.start(), match.end()))
    return found


def unit_of(word: str) -> str:
    """The canonical unit of a counted noun (« collaborateurs » -> employees)."""
    folded = fold(word)
    return next((u for u, p in UNITS.items() if re.match(p, folded)), folded.rstrip("s"))


_Pair = tuple[int, str, int, int, bool]  # distance, value, span start and end, told as former


def _holder(folded: str, names: list[Name], focus: Focus) -> list[_Pair]:
    """(distance, person) for each asked role and each person other than the question's."""
    other = [n for n in names if n.key not in focus.names]
    pairs = []
    for match in _ROLE[focus.role].finditer(folded):
        after = folded[match.end() : match.end() + 8]
        if re.match(r"\s+(?:de |d'|of |chez |at )", after) and any(
            match.end() < n.start <= match.end() + 6 for n in other
        ):
            continue  # the role at another organisation (« PDG de Microsoft »)
        pairs += [p for n in other for p in _pairs(folded, n, match, n.key, names)]
    return pairs


def _role(folded: str, names: list[Name], focus: Focus) -> list[_Pair]:
    """(distance, role) for each role word and each mention of the question's person."""
    subjects = [n for n in names if n.key in focus.names]
    pairs = []
    for match in _ANY_ROLE.finditer(folded):
        role = list(ROLES)[int(next(k for k, v in match.groupdict().items() if v)[1:])]
        if role not in _COMBINABLE:
            pairs += [p for n in subjects for p in _pairs(folded, n, match, role, names)]
    return [p for p in pairs if p[0] <= 60]


def _linked(gap: str, name_first: bool) -> bool:
    """Whether `gap`, the text between a person and a role word, makes the role the person's
    (see _FILLER and _LINK)."""
    if _APPOSED.fullmatch(gap):
        return True
    return name_first and bool(_LINK.search(gap))


def _pairs(
    folded: str, name: Name, role: re.Match[str], value: str, everyone: list[Name]
) -> list[_Pair]:
    """The pair of `name` and `role` if the text links them, not across another person (a
    name of several words: a lone capitalised word is as often an organisation)."""
    lo, hi = min(name.end, role.end()), max(name.start, role.start())
    people = [n for n in everyone if " " in folded[n.start : n.end].strip()]
    if any(lo <= other.start and other.end <= hi for other in people):
        return []
    if not _linked(folded[lo:hi], name.start < role.start()):
        return []
    return [_pair(folded, name, role, value)]


def _pair(folded: str, name: Name, role: re.Match[str], value: str) -> _Pair:
    """How far apart a name and a role word are; a conjunction between them counts 50 more."""
    start, end = min(name.start, role.start()), max(name.end, role.end())
    gap = folded[min(name.end, role.end()) : max(name.start, role.start())]
    distance = len(gap) + 50 * bool(_CONJUNCTION.search(gap))
    former = bool(_FORMER.search(folded[max(0, role.start() - 12) : role.start()]))
    return distance, value, start, end, former


def _count(folded: str, focus: Focus) -> Claim | None:
    for match in _QUANTITY.finditer(folded):
        if match["part"] is not None or not match["unit"]:
            continue  # « 500 des 700 employés »: 500 is a part, not the count
        unit = unit_of(match["unit"])
        if unit != focus.unit and not (
            unit == "people" and focus.unit in UNITS and re.search(UNITS[focus.unit], folded)
        ):
            continue
        n = _number(match["n"])
        if n is None:
            continue
        low, high = _interval(n, match["q"] or ("plus de" if match["plus"] else ""))
        return Claim(low=low, high=high, ended=bool(_ENDED.search(folded)))
    return None


def _number(word: str) -> float | None:
    if word in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[word])
    digits = re.sub(r"[  ]", "", word).replace(",", ".")
    try:
        return float(digits)
    except ValueError:
        return None


def _interval(n: float, qualifier: str) -> tuple[float, float]:
    if qualifier in ("plus de", "more than", "over", "au moins", "at least"):
        return n, math.inf
    if qualifier in ("moins de", "less than"):
        return 0.0, n
    if qualifier:
        return 0.9 * n, 1.1 * n
    return n, n


def _one_edit_apart(a: str, b: str) -> bool:
    """Long names one typo apart (« Altam » for « Altman »)."""
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
