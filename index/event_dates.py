"""Event dates: the day(s) each sentence of a French article tells of.

Expressions are resolved against the article's publication date (news tells the past):

- a date with a month name or in digits (« le vendredi 17 novembre 2023 », « le 19 novembre »,
  « 17/11/2023 »); without a year, the latest such day on or before publication;
- a weekday alone (« le dimanche », « mercredi matin »): the latest such day on or before
  publication (« jeudi dernier »: strictly before); « le week-end dernier »: the Saturday and
  Sunday before publication; « hier », « avant-hier »;
- relative to the last date told before it (else to publication): « la veille », « le
  lendemain », « l'avant-veille », « le surlendemain », « le même jour », « le soir même »,
  « deux jours plus tard », « trois jours plus tôt ».

A sentence also inherits dates, without a date expression of its own or in addition to it:

- a line that is only a date (« Vendredi 17 novembre ») is a heading that dates every sentence
  under it, until the next heading (a line without closing punctuation, or a question opened
  by an interrogative word: « Qu'est-ce qui a conduit au licenciement ? »);
- a quotation opened in a dated sentence keeps its date until it closes, and so do the quoted
  or bulleted lines that follow a dated sentence ending with « : ».

Vague periods (« la semaine dernière », « début novembre ») and « aujourd'hui » (often
« nowadays ») date nothing.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTH_NAMES = (  # by month
    ("janvier", "janv."),
    ("février", "fevrier", "févr."),
    ("mars",),
    ("avril", "avr."),
    ("mai",),
    ("juin",),
    ("juillet", "juil."),
    ("août", "aout"),
    ("septembre", "sept."),
    ("octobre", "oct."),
    ("novembre", "nov."),
    ("décembre", "decembre", "déc."),
)
_MONTH_NUMBER = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
_MONTHS = "|".join(  # longest first, so that no name stops at a shorter one it begins with
    re.escape(name) for name in sorted(_MONTH_NUMBER, key=len, reverse=True)
)
_NUMBERS = {"un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7}
_RELATIVE = {
    "la veille": -1,
    "le lendemain": 1,
    "l'avant-veille": -2,
    "le surlendemain": 2,
    "le même jour": 0,
    "le jour même": 0,
    "le soir même": 0,
    "le soir-même": 0,
}
_WEEKDAY = "|".join(WEEKDAYS)
_DAY = rf"(?:(?:{_WEEKDAY})\s+)?(?:1er|\d{{1,2}})\s+(?:{_MONTHS})(?:\s+\d{{4}})?"
_RELATIVES = "|".join(re.escape(r).replace(r"\ ", r"\s+") for r in _RELATIVE)
_COUNTS = "|".join(_NUMBERS)
_EXPRESSION = re.compile(
    rf"""(?P<absolute>\b{_DAY}(?!\w))
    |(?P<numeric>\b\d{{1,2}}/\d{{1,2}}/\d{{4}}\b)
    |(?P<weekend>\ble\s+week-end\s+dernier\b)
    |(?P<weekday>\b(?:{_WEEKDAY})\b(?:\s+dernier\b)?)
    |(?P<yesterday>\bavant-hier\b|(?<!-)\bhier\b)
    |(?P<relative>{_RELATIVES})
    |(?P<shift>\b(?P<count>\d{{1,2}}|{_COUNTS})\s+jours?\s+
        (?P<direction>plus\s+tard|après|plus\s+tôt|auparavant|avant)\b)""",
    re.IGNORECASE | re.VERBOSE,
)
_NAMED_DAY = re.compile(
    rf"(?:(?:{_WEEKDAY})\s+)?(?P<day>1er|\d{{1,2}})\s+(?P<month>{_MONTHS})(?:\s+(?P<year>\d{{4}}))?"
)
_NUMERIC_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")  # day, month, year
_MAY_HOLD_A_DATE = re.compile(  # what every expression above holds, in lowercase text
    rf"(?:\d|1er)\s+(?:{_MONTHS})|\d/|{_WEEKDAY}|week-end|hier|veille|lendemain|même|jour"
)  # most sentences hold none, and this search costs about a fifth of the full expression's
_INTERROGATIVES = ("qu'", "que ", "quel", "qui ", "pourquoi", "comment", "où ", "quand", "combien")
_OPENING, _CLOSING = "«“", "»”"
_LEADS = '•-–—«“"'
_HEADING_TAIL_WORDS = 3

Dates = tuple[date, ...]


@dataclass
class _Reading:
    """What reading an article so far tells about the dates of the next sentence."""

    anchor: date | None
    section: Dates = ()
    quoted: Dates = ()
    quote_depth: int = 0
    introduced: Dates = ()


def event_dates(text: str, spans: Sequence[tuple[int, int]], published: date | None) -> list[Dates]:
    """The event dates of each sentence `text[start:end]` of one article, in order."""
    reading = _Reading(anchor=published)
    result = []
    for start, end in spans:
        sentence = text[start:end]
        found = _resolve_all(sentence, published, reading)
        alone = _whole_line(text, start, end)
        if alone and found and _is_date_heading(sentence):
            reading.section = found
            dates = found
        else:
            if alone and _is_heading(sentence):
                reading.section = ()
            dates = tuple(sorted(set(found) | set(_inherited(sentence, reading))))
        _advance(reading, sentence, dates)
        result.append(dates)
    return result


def parse_day(expression: str, reference: date) -> date | None:
    """A day written as YYYY-MM-DD or in French (« 20 novembre 2023 », « le 17/11/2023 »);
    without a year, the latest such day on or before `reference`. None if it is not a day."""
    expression = " ".join(expression.split())
    try:
        return date.fromisoformat(expression)
    except ValueError:
        pass
    bare = re.sub(r"^le\s+", "", expression, flags=re.IGNORECASE)
    match = _EXPRESSION.fullmatch(bare)
    if match is None or match.lastgroup not in ("absolute", "numeric"):
        return None
    return _parse(bare.lower(), reference)


def _resolve_all(sentence: str, published: date | None, reading: _Reading) -> Dates:
    """Dates of the expressions in `sentence`, each relative one anchored on the one before."""
    if not _MAY_HOLD_A_DATE.search(sentence.lower()):
        return ()
    found: list[date] = []
    anchor = reading.anchor
    for match in _EXPRESSION.finditer(sentence):
        days = _resolve(match, published, anchor)
        found += days
        anchor = days[-1] if days else anchor
    return tuple(found)


def _resolve(match: re.Match[str], published: date | None, anchor: date | None) -> Dates:
    kind, expression = match.lastgroup, match.group().lower()
    if kind in ("absolute", "numeric"):
        day = _parse(expression, published)
        return (day,) if day else ()
    if kind in ("weekend", "weekday", "yesterday"):
        return _before_publication(kind, expression, published) if published else ()
    if anchor is None:
        return ()
    if kind == "relative":
        return (anchor + timedelta(days=_RELATIVE[" ".join(expression.split())]),)
    count, direction = match.group("count").lower(), match.group("direction").lower()
    days = int(count) if count.isdigit() else _NUMBERS[count]
    forward = direction.startswith(("plus tard", "après"))
    return (anchor + timedelta(days=days if forward else -days),)


def _before_publication(kind: str | None, expression: str, published: date) -> Dates:
    """A weekend, weekday or « hier » told in an article published on `published`."""
    if kind == "weekend":
        sunday = published - timedelta(days=(published.weekday() - 6) % 7 or 7)
        return (sunday - timedelta(days=1), sunday)
    if kind == "weekday":
        weekday = WEEKDAYS.index(expression.split()[0])
        back = (published.weekday() - weekday) % 7 or (7 if "dernier" in expression else 0)
        return (published - timedelta(days=back),)
    return (published - timedelta(days=2 if expression.startswith("avant") else 1),)


def _parse(expression: str, published: date | None) -> date | None:
    """A day-and-month expression (lowercase) as a date; without a year, the latest such day on
    or before `published`, and None if that is not known."""
    if numeric := _NUMERIC_DAY.fullmatch(expression):
        day, month, year = (int(part) for part in numeric.groups())
        return _valid(year, month, day)
    named = _NAMED_DAY.fullmatch(expression)
    if named is None:
        return None
    day = 1 if named["day"] == "1er" else int(named["day"])
    month = _MONTH_NUMBER[named["month"]]
    if named["year"]:
        return _valid(int(named["year"]), month, day)
    if published is None:
        return None
    for year in range(published.year, published.year - 8, -1):  # a 29 February: leap years
        found = _valid(year, month, day)
        if found is not None and found <= published:
            return found
    return None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _inherited(sentence: str, reading: _Reading) -> Dates:
    """Dates a sentence takes from its heading, an open quotation or an introducing colon."""
    if reading.quote_depth > 0 and reading.quoted:
        return reading.quoted
    if reading.introduced and sentence.startswith(tuple(_LEADS)):
        return reading.introduced
    return reading.section


def _advance(reading: _Reading, sentence: str, dates: Dates) -> None:
    """Update the reading state once `sentence`, dated `dates`, has been read."""
    depth = reading.quote_depth
    depth = max(0, depth + sum(map(sentence.count, _OPENING)) - sum(map(sentence.count, _CLOSING)))
    if depth > 0 and reading.quote_depth == 0:
        reading.quoted = dates
    reading.quote_depth = depth
    if sentence.rstrip().endswith(":"):
        reading.introduced = dates
    elif not sentence.startswith(tuple(_LEADS)):
        reading.introduced = ()
    if dates:
        reading.anchor = max(dates)


def _whole_line(text: str, start: int, end: int) -> bool:
    """Whether the sentence is alone on its line."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return text[line_start : len(text) if line_end < 0 else line_end].strip() == text[start:end]


def _is_date_heading(line: str) -> bool:
    """A line that is a date, perhaps with a short tail: « Mercredi 22 novembre – aujourd'hui »."""
    bare = re.sub(r"^le\s+", "", line, flags=re.IGNORECASE)
    match = _EXPRESSION.match(bare)
    if match is None or match.lastgroup not in ("absolute", "numeric"):
        return False
    return len(bare[match.end() :].split()) <= _HEADING_TAIL_WORDS and not line.endswith(".")


def _is_heading(line: str) -> bool:
    """A title line: no closing punctuation, or a question opened by an interrogative word."""
    stripped = line.rstrip('»"”) ')
    if stripped.endswith("?"):
        return line.lower().startswith(_INTERROGATIVES)
    return not stripped.endswith((".", "!", "…", ":"))
