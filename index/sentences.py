"""Splitting French text into sentences, as (start, end) spans of the text."""

import re

# A sentence ends at . ! ? or … (with closing quotes) before a space, or at a line break.
_END = re.compile(r"[.!?…]+(?: ?[»\"”)])*(?=\s)|\n")
_ABBREVIATION = re.compile(r"(?:\b[A-Z]|\bM|\bMM|\bMme|\bDr|\betc|\bp|\bno|\bvs)\.$")


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Spans of the sentences of `text`, shifted by `offset`, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()  # an abbreviation is a few characters long: look only there
        if match.group() != "\n" and _ABBREVIATION.search(text, max(0, end - 8), end):
            continue
        _append(spans, text, start, match.end())
        start = match.end()
    _append(spans, text, start, len(text))
    return [(offset + s, offset + e) for s, e in spans]


def _append(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))
