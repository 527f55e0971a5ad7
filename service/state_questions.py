"""Which questions ask for a current state (who leads, how many members, is X still Y), as
opposed to a past event (« qui a remplacé Mira Murati ? »): French and English patterns."""

import re

from index.text_folding import fold

_CURRENT = re.compile(
    r"\bqui (?:est|sont) (?:l'|le |la |les )?(?:actuel\w* |nouve\w+ )?"
    r"(?:pdg|ceo|patron\w*|president\w*|direct\w+|dirigeant\w*|chef)"
    r"|\bqui (?:dirige|preside|gere|pilote)\b|\bqui est (?:a la tete|aux commandes)\b"
    r"|\bou (?:travaille|est employe\w*)\b|\bpour qui travaille\b"
    r"|\bcombien (?:de |d')\w+ (?:compte|a|comprend|emploie|reunit)\b"
    r"|\bcombien (?:compte|a|emploie)\b|\bquel\w* est (?:le|la) (?:poste|role|fonction|taille)\b"
    r"|\b(?:est|sont)[- ](?:il|elle|ils|elles)?\s*toujours\b|\btoujours\b|\bactuel\w*\b"
    r"|\baujourd'hui\b|\bdesormais\b|\ba present\b|\bmaintenant\b"
    r"|\bwho (?:is|'s|are) (?:the )?(?:current |new )?(?:ceo|head|president|chair\w*|boss|leader)"
    r"|\bwho (?:leads|runs|heads|manages)\b|\bwhere does \w+(?: \w+)? work\b"
    r"|\bhow many \w+ (?:does|do|has|have)\b|\bstill\b|\bcurrent(?:ly)?\b|\bnow\b|\btoday\b"
)
_PAST = re.compile(
    r"\bqui a (?!toujours)\w+|\bqui (?:etait|avait|fut)\b|\bcomptait\b|\bquand\b|\ba quelle date\b"
    r"|\bwho (?:was|were|did|had)\b|\bwhen\b|\bwho \w+ed\b"
)


def asks_current_state(question: str) -> bool:
    """Whether `question` asks how things stand (then the latest evidence wins) rather than
    about a past event."""
    text = fold(question)
    return bool(_CURRENT.search(text)) and not _PAST.search(text)
