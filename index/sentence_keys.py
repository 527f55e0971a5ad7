"""What copies of an article on several sites have in common: their sentences, folded to their
words. Each sentence is kept as a stable 64-bit hash of those words (the same in every process,
so a segment stores them when it is written and nothing reads article texts to compare them)."""

import hashlib

import numpy as np

from index.text_folding import CharTable, fold_char

MIN_KEY_CHARS = 21  # a shorter sentence ("Lire aussi", a dateline) is no sign of a copy
NO_KEY = 0  # the hash of a sentence too short to count


def _word_char(char: str) -> str:
    """A character folded, or a space if it cannot be part of a word (as `\\W` in `re`)."""
    folded = fold_char(char)
    return folded if folded.isalnum() or folded == "_" else " "


_WORDS = CharTable(_word_char)


def sentence_key(sentence: str) -> str:
    """The sentence's folded words, one space apart: what copies of it have in common."""
    return " ".join(sentence.translate(_WORDS).split())


def sentence_hashes(text: str, spans: np.ndarray) -> np.ndarray:
    """The hash of each sentence of `text` (`spans`: start, end), `NO_KEY` for a short one."""
    return np.fromiter(
        (_hash(sentence_key(text[start:end])) for start, end in spans.tolist()),
        dtype=np.int64,
        count=len(spans),
    )


def _hash(key: str) -> int:
    if len(key) < MIN_KEY_CHARS:
        return NO_KEY
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1
