"""Event-date accuracy: the extractor against hand-dated sentences of the built-in corpus.

`python -m eval.dating` prints the share of sentences whose dates are exactly right and
lists the others. The gold convention is in eval/README.md.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from corpus import Article, builtin_articles
from index.event_dates import Dates, event_dates
from index.sentences import sentence_spans

EVENT_DATES_FILE = Path(__file__).parent / "event_dates.jsonl"


@dataclass(frozen=True)
class DatedSentence:
    """One hand-dated sentence: its article, its exact text, the dates it tells."""

    doc_id: str
    sentence: str
    dates: Dates


@dataclass(frozen=True)
class Miss:
    gold: DatedSentence
    found: Dates


def load_dated(path: Path = EVENT_DATES_FILE) -> list[DatedSentence]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        dates = tuple(date.fromisoformat(day) for day in record["dates"])
        rows.append(DatedSentence(record["doc_id"], record["sentence"], dates))
    return rows


def score_event_dates(
    articles: Sequence[Article], gold: Sequence[DatedSentence]
) -> tuple[float, list[Miss]]:
    """Exact-date accuracy over `gold` and the sentences dated wrongly; a gold sentence that
    is not a sentence of its article is an error in the gold set (ValueError)."""
    found: dict[tuple[str, str], Dates] = {}
    for article in articles:
        spans = sentence_spans(article.text)
        for (start, end), dates in zip(
            spans, event_dates(article.text, spans, article.published), strict=True
        ):
            found[(article.doc_id, article.text[start:end])] = dates
    misses = []
    for row in gold:
        if (row.doc_id, row.sentence) not in found:
            raise ValueError(f"not a sentence of {row.doc_id}: {row.sentence!r}")
        if found[(row.doc_id, row.sentence)] != row.dates:
            misses.append(Miss(row, found[(row.doc_id, row.sentence)]))
    return (1 - len(misses) / len(gold) if gold else 0.0), misses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.dating", description=__doc__)
    parser.add_argument("--gold", type=Path, default=EVENT_DATES_FILE)
    args = parser.parse_args(argv)
    gold = load_dated(args.gold)
    accuracy, misses = score_event_dates(builtin_articles(), gold)
    dated = sum(bool(row.dates) for row in gold)
    print(
        f"event dates: {accuracy:.1%} exact over {len(gold)} hand-dated sentences"
        f" ({dated} dated, {len(gold) - dated} telling no dated event)"
    )
    for miss in misses:
        expected = [d.isoformat() for d in miss.gold.dates]
        print(f"  {miss.gold.doc_id} {miss.gold.sentence[:70]!r}")
        print(f"    expected {expected}, found {[d.isoformat() for d in miss.found]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
