"""Retrieval and answer metrics as pure functions of rankings and texts."""

import math
import re
import unicodedata
from collections.abc import Sequence

from corpus.clean import APOSTROPHES, fold_accents


def normalise(text: str) -> str:
    """Apostrophes to ', NFKC, lowercase, accents removed, whitespace folded."""
    text = fold_accents(unicodedata.normalize("NFKC", text.translate(APOSTROPHES)).lower())
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def matches(text: str, patterns: Sequence[str]) -> bool:
    """Whether the normalised `text` contains a match of one of the regexes."""
    normalised = normalise(text)
    return any(re.search(pattern, normalised) for pattern in patterns)


def hit_at(relevant: Sequence[bool], k: int) -> float:
    """1.0 if a relevant item is among the first `k`, else 0.0."""
    return float(any(relevant[:k]))


def reciprocal_rank(relevant: Sequence[bool]) -> float:
    """1 / rank of the first relevant item (0.0 if none)."""
    return next((1.0 / rank for rank, hit in enumerate(relevant, start=1) if hit), 0.0)


def ndcg_at(relevant: Sequence[bool], k: int, total_relevant: int) -> float:
    """Binary nDCG@k; the ideal ranking puts `total_relevant` relevant items first."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(relevant[:k], start=1) if hit)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, total_relevant) + 1))
    return min(1.0, dcg / ideal) if ideal else 0.0


def citation_correct(
    cited_text: str, doc_id: str, start: int, end: int, gold_doc_ids: Sequence[str], document: str
) -> bool:
    """The cited article is a gold one and the offsets slice exactly to the cited text."""
    return (
        doc_id in gold_doc_ids
        and 0 <= start < end <= len(document)
        and document[start:end] == cited_text
    )


def precision_recall(flagged: Sequence[bool], truth: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of `flagged` against `truth` (1.0 when there is nothing to find)."""
    true_positives = sum(f and t for f, t in zip(flagged, truth, strict=True))
    flagged_count, truth_count = sum(flagged), sum(truth)
    precision = true_positives / flagged_count if flagged_count else 1.0
    recall = true_positives / truth_count if truth_count else 1.0
    return precision, recall


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * p / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
