"""Text folded for pattern matching: lowercase, no accents, plain apostrophes, one length.

Each character maps to one character, so offsets in the folded text are offsets in the text.
"""

import unicodedata

_APOSTROPHES = str.maketrans({c: "'" for c in "’‘ʼ´`"})


def fold(text: str) -> str:
    """`text` lowercased, accents removed and apostrophes made plain, character by character."""
    return "".join(_fold_char(c) for c in text.translate(_APOSTROPHES))


def _fold_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char
