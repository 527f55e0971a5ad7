"""What an answer sentence needs around it to be understood alone.

A sentence that opens with a pronoun (« Il », « Ce dernier », « Selon elle »…) has its
antecedent in the sentence before; a sentence that ends with a colon (« a-t-il écrit : »)
announces what follows. The answer then cites that sentence too."""

import re

from index.snapshot import Snapshot

OPENS_WITH_ANAPHOR = re.compile(
    r"^[«\"“\s]*(?:il|elle|ils|elles|lui|leur|son|sa|ses"
    r"|ce dernier|cette dernière|ces derniers|ces dernières"
    r"|celui-ci|celle-ci|ceux-ci|celles-ci|l'intéressée?"
    r"|(?:selon|d'après|pour) (?:lui|elle|eux|elles))\b",
    re.IGNORECASE,
)


def answer_span(snapshot: Snapshot, doc_id: str, start: int, end: int) -> tuple[int, int]:
    """The text to cite for the sentence `[start, end)` of `doc_id`: with the previous sentence
    of the same paragraph when it opens with an anaphor, and with the next sentence (wherever
    it lies) when it ends with a colon."""
    return (
        _antecedent_start(snapshot, doc_id, start, end),
        _announced_end(snapshot, doc_id, start, end),
    )


def _antecedent_start(snapshot: Snapshot, doc_id: str, start: int, end: int) -> int:
    """The start of the previous sentence of the same paragraph when the sentence
    `[start, end)` opens with an anaphor, else `start`."""
    text = snapshot.articles[doc_id].text
    if not OPENS_WITH_ANAPHOR.match(text[start:end]):
        return start
    spans = snapshot.sentences[doc_id].spans
    before = spans[spans[:, 1] <= start]
    if not len(before):
        return start
    previous = int(before[before[:, 1].argmax()][0])
    return start if "\n" in text[previous:start] else previous


def _announced_end(snapshot: Snapshot, doc_id: str, start: int, end: int) -> int:
    """The end of the next sentence when the sentence `[start, end)` ends with a colon (a
    quotation or a list follows, often as the next paragraph), else `end`."""
    if not snapshot.articles[doc_id].text[start:end].rstrip().endswith(":"):
        return end
    spans = snapshot.sentences[doc_id].spans
    after = spans[spans[:, 0] >= end]
    return int(after[after[:, 0].argmin()][1]) if len(after) else end
