"""Slack messages for answers: pure functions from an `Answer` to a chat message payload.

Each message has Block Kit `blocks` and a plain `text` fallback (notifications, old
clients). Slack's documented limits hold whatever the input: at most 50 blocks, at most
3000 characters in a section's text.
"""

import re
from datetime import date
from typing import Any

from corpus.dates import MONTH_NAMES
from service.answers import Answer, Citation, CitedPassage

MAX_BLOCKS = 50
MAX_TEXT_CHARS = 3000
EXCERPT_CHARS = 600
SENTENCE_CHARS = 1000
TITLE_CHARS = 200
NO_ANSWER = "Je n'ai pas trouvé de réponse dans les articles."
APOLOGY = "Désolé, la recherche a échoué. L'erreur est notée ; réessayez dans un instant."

Message = dict[str, Any]


def answer_message(answer: Answer, passages: int) -> Message:
    """The answer sentence and its source, then the top `passages` passages, each cited."""
    shown = answer.passages[: min(passages, MAX_BLOCKS - 2)]
    headline, cited = _headline(answer), [_passage(p) for p in shown]
    divider = [{"type": "divider"}] if cited else []
    blocks = [_section(headline), *divider, *map(_section, cited)]
    return {"text": _clip("\n".join([headline, *cited])), "blocks": blocks}


def text_message(text: str) -> Message:
    """A one-paragraph message (usage, apology, refusal)."""
    return {"text": _clip(_escape(text)), "blocks": [_section(_escape(text))]}


def usage_message(command: str) -> Message:
    return text_message(
        f"Posez une question sur l'actualité, par exemple : {command} qui a remplacé Mira Murati ?"
    )


def _headline(answer: Answer) -> str:
    if answer.no_answer or answer.answer is None:
        nearest = " Les sources les plus proches :" if answer.passages else ""
        return f"{NO_ANSWER}{nearest}"
    found = answer.answer
    sentence = _escape(_shorten(found.text, SENTENCE_CHARS))
    lines = [f"*Réponse :* {sentence}", f"Source : {_source(found.citation)}"]
    if found.supporting:
        lines.append(f"Selon {len(found.supporting) + 1} sources")
    for other in found.conflicting[:2]:
        text = _escape(_shorten(other.text, EXCERPT_CHARS))
        lines.append(f"⚠ Une autre source indique : {text} ({_source(other.citation)})")
    return "\n".join(lines)


def _passage(passage: CitedPassage) -> str:
    excerpt = _escape(_shorten(passage.text, EXCERPT_CHARS))
    return f"*{passage.rank}.* {_source(passage.citation)}\n> {excerpt}"


def _source(citation: Citation) -> str:
    """Title (linked when the article has a URL), site and date, as mrkdwn."""
    title = _escape(_shorten(citation.title, TITLE_CHARS)) or citation.doc_id
    label = f"<{_escape(citation.url)}|{title}>" if citation.url else f"*{title}*"
    details = [_escape(citation.source or ""), french_date(citation.published)]
    return " · ".join([label, *(d for d in details if d)])


def french_date(day: date | None) -> str:
    """« 20 novembre 2023 » (empty for no date)."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}" if day else ""


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """`text` cut to `limit` characters, never inside an escaped entity such as `&amp;`."""
    if len(text) <= limit:
        return text
    return re.sub(r"&[a-z]*$", "", text[: limit - 1]) + "…"


def _shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word to at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0] + "…"


def _escape(text: str) -> str:
    """Slack's mrkdwn escaping: only &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
