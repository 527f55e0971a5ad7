"""Text folded for pattern matching: lowercase, no accents, plain apostrophes, one length.

Each character maps to one character, so offsets in the folded text are offsets in the text.
"""

import unicodedata
from collections.abc import Callable


def fold_char(char: str) -> str:
    """One character lowercased, without its accent, a curly apostrophe made plain."""
    if char in "’‘ʼ´`":
        return "'"
    base = unicodedata.normalize("NFD", char)[0].lower()
    return base if len(base) == 1 else char


class CharTable(dict[int, str]):
    """A `str.translate` table that maps each character by `mapping`, computed the first time
    the character is met (so translating runs at C speed)."""

    def __init__(self, mapping: Callable[[str], str]) -> None:
        super().__init__()
        self.mapping = mapping

    def __missing__(self, code: int) -> str:
        mapped = self[code] = self.mapping(chr(code))
        return mapped


_FOLDED = CharTable(fold_char)


def fold(text: str) -> str:
    """`text` with every character folded by `fold_char`."""
    return text.translate(_FOLDED)
