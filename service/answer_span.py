"""What an answer sentence needs around it to be understood alone.

A sentence that opens with a pronoun (« Il », « Ce dernier », « Selon elle »…) has its
antecedent in the sentence before; a sentence that ends with a colon (« a-t-il écrit : »)
announces what follows. The answer then cites that sentence too. And when the question asks
for a date or a number the sentence lacks, a neighbouring sentence of the same paragraph that
holds it is cited with it (« Jan Leike a déclaré… » then « On a pu le voir… le dimanche
19 novembre. »)."""

import re

import numpy as np

from index.answer_types import Asked, answers_type
from index.snapshot import Snapshot

OPENS_WITH_ANAPHOR = re.compile(
    r"^[«\"“\s]*(?:il|elle|ils|elles|lui|leur|son|sa|ses"
    r"|ce dernier|cette dernière|ces derniers|ces dernières"
    r"|celui-ci|celle-ci|ceux-ci|celles-ci|l'intéressée?"
    r"|(?:selon|d'après|pour) (?:lui|elle|eux|elles))\b",
    re.IGNORECASE,
)


def answer_span(
    snapshot: Snapshot, doc_id: str, start: int, end: int, question: Asked
) -> tuple[int, int]:
    """The text to cite for the sentence `[start, end)` of `doc_id`: with the previous sentence
    of the same paragraph when it opens with an anaphor, with the next sentence (wherever it
    lies) when it ends with a colon, and with the next or else the previous sentence of the
    same paragraph when only that one holds what the `question` asks for."""
    first = _antecedent_start(snapshot, doc_id, start, end)
    last = _announced_end(snapshot, doc_id, start, end)
    typed = _typed_neighbour(snapshot, doc_id, start, end, question)
    if typed is not None:
        first, last = min(first, typed[0]), max(last, typed[1])
    return first, last


def _typed_neighbour(
    snapshot: Snapshot, doc_id: str, start: int, end: int, question: Asked
) -> tuple[int, int] | None:
    """The next, else the previous, sentence of the same paragraph holding the date or number
    `question` asks for, when the sentence `[start, end)` does not."""
    text = snapshot.articles[doc_id].text
    if not question.types or answers_type(text[start:end], question):
        return None
    spans = snapshot.sentences[doc_id].spans
    for neighbour in (_next(spans, end), _previous(spans, start)):
        if neighbour is None:
            continue
        first, last = neighbour
        between = text[end:first] if first >= end else text[last:start]
        if "\n" not in between and answers_type(text[first:last], question):
            return first, last
    return None


def _antecedent_start(snapshot: Snapshot, doc_id: str, start: int, end: int) -> int:
    """The start of the previous sentence of the same paragraph when the sentence
    `[start, end)` opens with an anaphor, else `start`."""
    text = snapshot.articles[doc_id].text
    if not OPENS_WITH_ANAPHOR.match(text[start:end]):
        return start
    previous = _previous(snapshot.sentences[doc_id].spans, start)
    if previous is None:
        return start
    return start if "\n" in text[previous[0] : start] else previous[0]


def _announced_end(snapshot: Snapshot, doc_id: str, start: int, end: int) -> int:
    """The end of the next sentence when the sentence `[start, end)` ends with a colon (a
    quotation or a list follows, often as the next paragraph), else `end`."""
    if not snapshot.articles[doc_id].text[start:end].rstrip().endswith(":"):
        return end
    following = _next(snapshot.sentences[doc_id].spans, end)
    return following[1] if following else end


def _next(spans: np.ndarray, end: int) -> tuple[int, int] | None:
    """The first sentence starting at or after `end`."""
    after = spans[spans[:, 0] >= end]
    if not len(after):
        return None
    first, last = after[after[:, 0].argmin()]
    return int(first), int(last)


def _previous(spans: np.ndarray, start: int) -> tuple[int, int] | None:
    """The last sentence ending at or before `start`."""
    before = spans[spans[:, 1] <= start]
    if not len(before):
        return None
    first, last = before[before[:, 1].argmax()]
    return int(first), int(last)
