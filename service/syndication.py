"""Syndicated copies: the same article on several sites (near-identical text) counts once.

Two articles are copies when most of the sentences of the shorter one, folded, occur in the
other. Computed once per snapshot from the sentence hashes each segment stored when it was
written (index.sentence_keys): no article text is read, and the work is a sort of the hashes.
"""

from collections import Counter
from threading import Lock

import numpy as np

from index.sentence_keys import NO_KEY
from index.snapshot import Snapshot

SHARED = 0.8  # share of the shorter article's sentences found in the other
MIN_SENTENCES = 3
MAX_HOLDERS = 20  # a sentence this many articles hold is boilerplate, no sign of a copy
_TABLE_SIZE = 1 << 22  # entries of the table of repeated hashes' low bits (4 MB)

_cache: tuple[Snapshot, dict[str, tuple[str, ...]]] | None = None
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
    docs, hashes, owners = _live_sentence_hashes(snapshot)
    sizes = np.bincount(owners, minlength=len(docs))
    hashes, owners = _repeated(hashes, owners)
    if not len(hashes):
        return {}
    order = np.lexsort((owners, hashes))
    hashes, owners = hashes[order], owners[order]
    distinct = np.r_[True, (hashes[1:] != hashes[:-1]) | (owners[1:] != owners[:-1])]
    sizes -= np.bincount(owners[~distinct], minlength=len(docs))  # a repeat within one article
    hashes, owners = hashes[distinct], owners[distinct]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    holders = np.diff(np.r_[starts, len(hashes)])
    shared: Counter[tuple[int, int]] = Counter()
    telling = (holders > 1) & (holders < MAX_HOLDERS)
    for start, count in zip(starts[telling].tolist(), holders[telling].tolist(), strict=True):
        group = owners[start : start + count].tolist()
        shared.update((a, b) for a in group for b in group if a < b)
    linked: dict[str, set[str]] = {}
    for (a, b), count in shared.items():
        smaller = min(sizes[a], sizes[b])
        if smaller >= MIN_SENTENCES and count >= SHARED * smaller:
            linked.setdefault(docs[a], set()).add(docs[b])
            linked.setdefault(docs[b], set()).add(docs[a])
    return {doc_id: tuple(sorted(others)) for doc_id, others in linked.items()}


def _repeated(hashes: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose hash occurs more than once but fewer than MAX_HOLDERS times, the only
    ones that can link articles (counted in occurrences, not holders: they differ only when an
    article repeats a sentence). Found by sorting the hashes alone (numpy sorts values about 10x
    faster than it orders rows), then through a table of their low bits, which rules out most
    rows at once."""
    ordered = np.sort(hashes)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    occurrences = np.diff(np.r_[starts, len(ordered)])
    repeated = ordered[starts[(occurrences > 1) & (occurrences < MAX_HOLDERS)]]
    low_bits = np.zeros(_TABLE_SIZE, dtype=bool)
    low_bits[repeated & (_TABLE_SIZE - 1)] = True
    maybe = np.flatnonzero(low_bits[hashes & (_TABLE_SIZE - 1)])
    found = np.minimum(np.searchsorted(repeated, hashes[maybe]), len(repeated) - 1)
    kept = maybe[repeated[found] == hashes[maybe]]
    return hashes[kept], owners[kept]


def _live_sentence_hashes(snapshot: Snapshot) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Every article of every segment (`docs`), and the hash of each sentence of the live ones
    long enough to count, with the position of its article in `docs`."""
    docs: list[str] = []
    hashes, owners = [], []
    for segment in snapshot.segments:
        layout = segment.layout
        live = np.ones(len(layout.doc_ids), dtype=bool)
        live[layout.positions(snapshot.deleted.get(segment.name, ()))] = False
        owner = np.repeat(np.arange(len(layout.doc_ids)), layout.sentence_counts)
        kept = live[owner] & (layout.sentence_hashes != NO_KEY)
        hashes.append(layout.sentence_hashes[kept])
        owners.append(owner[kept] + len(docs))
        docs += layout.doc_ids.tolist()
    if not docs:
        return docs, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return docs, np.concatenate(hashes), np.concatenate(owners)
