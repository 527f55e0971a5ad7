"""Syndicated copies: the same article on several sites (near-identical text) counts once.

Two articles are copies when most of the sentences of the shorter one, folded, occur in the
other. Computed once per snapshot from an index of sentence hashes (linear in the corpus), the
folded sentences of each segment only once.
"""

from collections import Counter
from threading import Lock
from weakref import WeakKeyDictionary

import numpy as np

from index.segment import Segment
from index.snapshot import Snapshot
from service.text_folding import CharTable, fold_char

SHARED = 0.8  # share of the shorter article's sentences found in the other
MIN_SENTENCES = 3

_cache: tuple[Snapshot, dict[str, tuple[str, ...]]] | None = None
_segment_keys: WeakKeyDictionary[Segment, dict[str, np.ndarray]] = WeakKeyDictionary()
_lock = Lock()


def copies(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    """doc_id -> the doc_ids of its syndicated copies (other than itself), for those that
    have some; the first in each tuple-sorted group is the group's representative."""
    global _cache
    with _lock:
        if _cache is None or _cache[0] is not snapshot:
            _cache = (snapshot, _groups(snapshot))
        return _cache[1]


def group_key(snapshot: Snapshot, doc_id: str) -> str:
    """The same key for an article and all its copies."""
    return min((doc_id, *copies(snapshot).get(doc_id, ())))


def _groups(snapshot: Snapshot) -> dict[str, tuple[str, ...]]:
    docs: list[str] = []
    hashes: list[np.ndarray] = []
    for segment in snapshot.segments:
        folded = _keys_of(segment)
        live = [d for d in segment.articles if snapshot.home.get(d) == segment.name]
        docs += live
        hashes += [folded[d] for d in live]
    if not docs:
        return {}
    sizes = np.array([len(h) for h in hashes])
    keys = np.concatenate(hashes)
    owners = np.repeat(np.arange(len(docs)), sizes)
    order = np.argsort(keys, kind="stable")
    keys, owners = keys[order], owners[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    holders = np.diff(np.r_[starts, len(keys)])
    shared: Counter[tuple[int, int]] = Counter()
    for start, count in zip(starts.tolist(), holders.tolist(), strict=True):
        if 1 < count < 20:
            group = owners[start : start + count].tolist()
            shared.update((a, b) for a in group for b in group if a < b)
    linked: dict[str, set[str]] = {}
    for (a, b), count in shared.items():
        smaller = min(sizes[a], sizes[b])
        if smaller >= MIN_SENTENCES and count >= SHARED * smaller:
            linked.setdefault(docs[a], set()).add(docs[b])
            linked.setdefault(docs[b], set()).add(docs[a])
    return {doc_id: tuple(sorted(others)) for doc_id, others in linked.items()}


def _keys_of(segment: Segment) -> dict[str, np.ndarray]:
    """The distinct hashes of the folded sentences (longer than 20 characters) of each article
    of `segment`, computed once per segment (segments are immutable). Hashes in an array, not
    the strings: at 10^5 passages 10 MB instead of 180."""
    found = _segment_keys.get(segment)
    if found is None:
        found = {}
        for doc_id, table in segment.sentences.items():
            text = segment.articles[doc_id].text
            keys = (_key(text[int(s) : int(e)]) for s, e in table.spans)
            found[doc_id] = np.unique(np.fromiter((hash(k) for k in keys if len(k) > 20), np.int64))
        _segment_keys[segment] = found
    return found


def _word_char(char: str) -> str:
    """A character folded, or a space if it cannot be part of a word (as `\\W` in `re`)."""
    folded = fold_char(char)
    return folded if folded.isalnum() or folded == "_" else " "


_WORDS = CharTable(_word_char)


def _key(sentence: str) -> str:
    """The sentence's folded words, one space apart: what copies of it have in common."""
    return " ".join(sentence.translate(_WORDS).split())
