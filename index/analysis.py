"""French text analysis for the lexical index: elision, stop words, stemming, accent folding."""

import re
import threading
from functools import lru_cache

import Stemmer

from corpus.clean import APOSTROPHE_VARIANTS, fold_accents

_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)'", re.IGNORECASE)
_TOKEN = re.compile(r"\w+")
_APOSTROPHE = re.compile(f"[{APOSTROPHE_VARIANTS}]")  # faster than str.translate

STOP_WORDS = frozenset(
    """
    a à afin ai aie aient ait alors as au aucun aucune aupres auquel aura aurai auraient aurait
    aussi autre autres aux avaient avais avait avant avec avez aviez avions avoir avons ayant c
    ca ça car ce ceci cela celle celles celui cependant certain certaine ces cet cette ceux chaque
    chez ci comme comment d dans de des desquels dont du donc elle elles en encore est et etaient
    etait etant ete être etre eu eux fait faire fut ici il ils j je jusqu l la le les lequel leur
    leurs lors lui m ma mais me meme même mes moi mon n ne ni non nos notre nous on ont ou où par
    parce pas peu peut plus pour pourquoi qu quand que quel quelle quelles quels qui quoi s sa
    sans se ses si son sont sous sur t ta te tes toi ton tous tout toute toutes tres très tu un
    une vos votre vous y été étaient était étant
    the of and to in is was who what which when where how did does do on for by at an be are
    """.split()
)


_per_thread = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    """This thread's French stemmer: PyStemmer's documentation says a stemmer must not be
    used by two threads at once, and queries are answered on several."""
    stemmer: Stemmer.Stemmer | None = getattr(_per_thread, "stemmer", None)
    if stemmer is None:
        stemmer = _per_thread.stemmer = Stemmer.Stemmer("french")
    return stemmer


def analyse(text: str) -> list[str]:
    """Terms of `text` for BM25: lowercased, elisions cut, stop words dropped, stemmed, folded."""
    text = _ELISION.sub(" ", _APOSTROPHE.sub("'", text.lower()))
    words = [word for word in _TOKEN.findall(text) if word not in STOP_WORDS]
    return [_folded(stem) for stem in _stemmer().stemWords(words)]


@lru_cache(maxsize=200_000)
def _folded(stem: str) -> str:
    """`fold_accents` of a stem, remembered: a corpus has far fewer distinct stems than words,
    and folding character by character was most of the time of indexing."""
    return fold_accents(stem)


@lru_cache(maxsize=65536)
def analyse_cached(text: str) -> tuple[str, ...]:
    """`analyse` with memory, for texts analysed again and again (article sentences)."""
    return tuple(analyse(text))
