"""Cleaning: site boilerplate removal and typography normalisation.

The cleaned text is stored and every citation offset points into it, so cleaning happens
once, before indexing; queries go through `normalise_typography` too, so a question typed
with a plain apostrophe matches an article written with a curly one.
"""

import re
import unicodedata

APOSTROPHE_VARIANTS = "’‘ʼ´`"
APOSTROPHES = str.maketrans({c: "'" for c in APOSTROPHE_VARIANTS})
"""Every apostrophe-like character to the plain one, for `str.translate`."""
_SPACES = re.compile(r"[ \t\u00a0\u202f\u2007\u2009\u200a\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
VISIBLE = (
    r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200d\u2028\u2029\u202f\u205f"
    r"\u2060\u3000\ufeff\u00ad]"
)
"""A regular expression (Python, JSON Schema and Rust alike) for one character that neither
`normalise_typography` nor stripping removes: a text holds something only if it matches."""

# Whole lines that are site furniture, never article content.
_BOILERPLATE_LINES = [
    r"abonne[- ]toi, la force tu trouveras",
    r"en remplissant ce formulaire, j'accepte de recevoir la newsletter.*",
    r"rejoignez notre newsletter.*",
    r"(?:inscrivez-vous|abonnez-vous) (?:à|a) (?:la|notre) newsletter.*",
    r"newsletter",
    r"[-•*]?\s*partager (?:l'article|cet article|sur \w+)\s*:?",
    r"sommaire",
    r"aucun article trouvé",
    r"tags?",
    r"lire aussi\s*:.*",
    r"\d+ mins? de lecture",
    r"\d(?:[.,]\d)?/5 - \(\d+ votes?\)",
    r".*code promo.*",
    r".*j'en profite",
    r"votre adresse e-mail ne sera pas publiée.*",
    r"(?:(?:actualités|actus|business|divers|avec nous)\s*)+",
]
# A line that starts a tail of unrelated links or forms: it and all that follows go.
_TAIL_MARKERS = [
    r"articles? (?:connexes|similaires|recommandés)",
    r"laisser un commentaire",
    r"vous aimerez aussi",
    r"à lire également",
]
_LINE_RE = re.compile(rf"^\s*(?:{'|'.join(_BOILERPLATE_LINES)})\s*$", re.IGNORECASE)
_TAIL_RE = re.compile(rf"^\s*(?:{'|'.join(_TAIL_MARKERS)})\s*:?\s*$", re.IGNORECASE)


def normalise_typography(text: str) -> str:
    """Unify apostrophes, spaces and invisible characters (NFC, no other change of meaning)."""
    text = unicodedata.normalize("NFC", text).translate(APOSTROPHES)
    text = _INVISIBLE.sub("", text)
    return _SPACES.sub(" ", text)


def fold_accents(text: str) -> str:
    """Remove diacritics: « désigné » -> « designe » (compatibility forms decomposed too)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def remove_boilerplate(text: str) -> str:
    """Drop boilerplate lines and everything after a tail marker."""
    kept: list[str] = []
    for line in text.splitlines():
        if _TAIL_RE.match(line):
            break
        if not _LINE_RE.match(line):
            kept.append(line)
    return "\n".join(kept)


def clean_text(raw: str) -> str:
    """Normalise typography, remove boilerplate and tidy paragraph spacing."""
    text = remove_boilerplate(normalise_typography(raw.replace("\r\n", "\n").replace("\r", "\n")))
    lines = [line.strip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r" +([.,])(?=\s|$)", r"\1", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
