"""Which language a question is asked in, from its function words: French (the corpus's
language) unless clearly English. Lexical matching and shared-term scoring assume the question
shares words with the articles, which a question in another language does not (names aside)."""

import re

_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüœ]+")

ENGLISH = frozenset(
    """
    the what who whom whose which when where why how did does do is are was were has have had
    of to in for by with from at about after before many much and an it its his her their
    this that these those been being will would can could should
    """.split()
)
FRENCH = frozenset(
    """
    le la les l de des du d un une qui que qu quel quelle quels quelles quand combien comment
    pourquoi où est sont ont et en au aux pour par sur dans avec après avant il elle ils elles
    se ce cette ces son sa ses leur leurs été était
    """.split()
)


def is_english(question: str) -> bool:
    """True when the question has more English than French function words."""
    words = _WORD.findall(question.lower().replace("'", " ").replace("’", " "))
    english = sum(word in ENGLISH for word in words)
    french = sum(word in FRENCH for word in words)
    return english > french
