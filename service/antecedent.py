"""An answer sentence that opens with a pronoun (« Il », « Ce dernier », « Selon elle »…) is not
understood alone: its antecedent is in the sentence before. The answer then cites both."""

import re

from index.snapshot import Snapshot

OPENS_WITH_ANAPHOR = re.compile(
    r"^[«\"“\s]*(?:il|elle|ils|elles|lui|leur|son|sa|ses"
    r"|ce dernier|cette dernière|ces derniers|ces dernières"
    r"|celui-ci|celle-ci|ceux-ci|celles-ci|l'intéressée?"
    r"|(?:selon|d'après|pour) (?:lui|elle|eux|elles))\b",
    re.IGNORECASE,
)


def antecedent_start(snapshot: Snapshot, doc_id: str, start: int, end: int) -> int:
    """Where the cited text should start: the start of the previous sentence of the same
    paragraph when the sentence `[start, end)` opens with an anaphor, else `start`."""
    text = snapshot.articles[doc_id].text
    if not OPENS_WITH_ANAPHOR.match(text[start:end]):
        return start
    spans = snapshot.sentences[doc_id].spans
    before = spans[spans[:, 1] <= start]
    if not len(before):
        return start
    previous = int(before[before[:, 1].argmax()][0])
    return start if "\n" in text[previous:start] else previous
