"""A segment's layout: what search needs of every article, passage and sentence, as arrays
(ids, spans, sources, days, digests), so that a loaded segment reads article texts, event dates
and reader tokens from its store only when a question needs them."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from corpus import Article
from index.chunking import Passage
from index.sentence_keys import sentence_hashes

LAYOUT_FILE = "layout.npz"


@dataclass(frozen=True)
class SegmentLayout:
    """Articles in doc_id order (row i of the article arrays is `doc_ids[i]`), passages in row
    order, sentences in article then text order."""

    doc_ids: np.ndarray  # str
    digests: np.ndarray  # (articles, 32) uint8: index.segment.article_digest of each
    sources: np.ndarray  # str, casefolded, "" for none
    days: np.ndarray  # int32 publication day (proleptic ordinal), -1 for none
    passage_docs: np.ndarray  # int32 article of each row
    passage_spans: np.ndarray  # (rows, 2) int32 start, end in the article's text
    passage_ids: np.ndarray  # bytes (ASCII)
    sentence_counts: np.ndarray  # int32 sentences of each article
    sentence_spans: np.ndarray  # (sentences, 2) int32
    passage_sentences: np.ndarray  # (rows, 2) int32 the sentences a passage is made of: first
    # and past-the-last row of its article's (see `sentences_of`)
    sentence_hashes: np.ndarray  # (sentences,) int64 index.sentence_keys hash of each

    @classmethod
    def of(
        cls,
        articles: Mapping[str, Article],
        digests: Mapping[str, bytes],
        passages: Sequence[Passage],
        sentence_spans: Mapping[str, np.ndarray],
    ) -> "SegmentLayout":
        """The layout of a segment held in memory (passages in row order)."""
        order = sorted(articles)
        position = {doc_id: i for i, doc_id in enumerate(order)}
        spans = [sentence_spans[d] for d in order]
        made_of = [sentences_of(sentence_spans[p.doc_id], p.start, p.end) for p in passages]
        return cls(
            doc_ids=np.array(order, dtype=str),
            digests=_bytes_matrix(digests[d] for d in order),
            sources=np.array([(articles[d].source or "").casefold() for d in order], dtype=str),
            days=np.array([_day(articles[d]) for d in order], dtype=np.int32),
            passage_docs=np.array([position[p.doc_id] for p in passages], dtype=np.int32),
            passage_spans=np.array([(p.start, p.end) for p in passages], dtype=np.int32).reshape(
                -1, 2
            ),
            passage_ids=np.array([p.passage_id.encode() for p in passages], dtype=bytes),
            sentence_counts=np.array([len(s) for s in spans], dtype=np.int32),
            sentence_spans=np.concatenate(spans).astype(np.int32).reshape(-1, 2)
            if spans
            else np.zeros((0, 2), dtype=np.int32),
            passage_sentences=np.array(made_of, dtype=np.int32).reshape(-1, 2),
            sentence_hashes=np.concatenate(
                [sentence_hashes(articles[d].text, sentence_spans[d]) for d in order]
                or [np.zeros(0, dtype=np.int64)]
            ),
        )

    @cached_property
    def sentence_starts(self) -> np.ndarray:
        """Each article's first row in `sentence_spans` (and the total, last)."""
        return np.concatenate(([0], np.cumsum(self.sentence_counts, dtype=np.int64)))

    def position(self, doc_id: str) -> int | None:
        """The article row of `doc_id`, None when this segment does not hold it."""
        found = int(np.searchsorted(self.doc_ids, doc_id))
        return found if found < len(self.doc_ids) and self.doc_ids[found] == doc_id else None

    def positions(self, doc_ids: Iterable[str]) -> np.ndarray:
        """The article rows of those of `doc_ids` this segment holds."""
        wanted = np.array(sorted(set(doc_ids)), dtype=str)
        if not len(wanted) or not len(self.doc_ids):
            return np.zeros(0, dtype=np.int64)
        found = np.searchsorted(self.doc_ids, wanted).clip(max=len(self.doc_ids) - 1)
        return found[self.doc_ids[found] == wanted]

    def save(self, path: Path) -> None:
        with path.open("wb") as sink:
            np.savez(sink, **{name: getattr(self, name) for name in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: Path) -> "SegmentLayout":
        with np.load(path, allow_pickle=False) as stored:
            return cls(**{name: stored[name] for name in cls.__dataclass_fields__})


def sentences_within(spans: np.ndarray, start: int, end: int) -> np.ndarray:
    """Rows of the sentences (`spans`, in text order) lying mostly inside [start, end)."""
    overlap = np.minimum(spans[:, 1], end) - np.maximum(spans[:, 0], start)
    return np.flatnonzero(overlap * 2 > spans[:, 1] - spans[:, 0])


def nearest_sentence(spans: np.ndarray, start: int, end: int) -> int:
    """Row of the sentence that overlaps [start, end) the most."""
    return int(np.argmax(np.minimum(spans[:, 1], end) - np.maximum(spans[:, 0], start)))


def sentences_of(spans: np.ndarray, start: int, end: int) -> tuple[int, int]:
    """The sentences a passage [start, end) is made of, as first and past-the-last row: those
    lying mostly inside it (they follow each other), else the one overlapping it most."""
    inside = sentences_within(spans, start, end)
    if not len(inside):
        nearest = nearest_sentence(spans, start, end)
        return nearest, nearest + 1
    return int(inside[0]), int(inside[-1]) + 1


def _day(article: Article) -> int:
    return article.published.toordinal() if article.published else -1


def _bytes_matrix(values: Iterable[bytes]) -> np.ndarray:
    rows = [np.frombuffer(v, dtype=np.uint8) for v in values]
    return np.vstack(rows) if rows else np.zeros((0, 32), dtype=np.uint8)
