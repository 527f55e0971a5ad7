"""The news forms of a Slack question: « au <date> : <question> » asks as of a day,
« chronologie <sujet> » asks for a timeline.

Pure translation: Slack text in, a `SlackRequest` out (or a `SlackRequestError` whose message
is shown to the person); messages for an answer given as of a day and for a timeline.
"""

import re
from dataclasses import dataclass
from datetime import date

from index.event_dates import parse_day
from service.slack_blocks import MAX_BLOCKS, MAX_TEXT_CHARS, Message, french_date, text_message
from service.timeline import Timeline

_TIMELINE = re.compile(r"chronologie\b\s*:?\s*(?P<subject>.*)", re.IGNORECASE | re.DOTALL)
_AS_OF = re.compile(r"au\s+(?P<day>[^:]{1,40}?)\s*:\s*(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
EXAMPLE = "au 20 novembre 2023 : qui dirige OpenAI ?"


class SlackRequestError(ValueError):
    """The text looks like a news form but cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class SlackRequest:
    """A question, perhaps to be answered as the news stood on `as_of`."""

    question: str
    as_of: date | None = None
    timeline: bool = False  # `question` is then the subject of a timeline


def parse_request(text: str, today: date) -> SlackRequest:
    """Read « chronologie Sam Altman », « au 20 novembre 2023 : qui dirige OpenAI ? » (or « au
    2023-11-20 : … »; a day without a year is the latest such day on or before `today`).
    Other text is a question."""
    timeline = _TIMELINE.fullmatch(text.strip())
    if timeline is not None:
        if not timeline["subject"].strip():
            raise SlackRequestError("Chronologie de quoi ? Exemple : chronologie Sam Altman")
        return SlackRequest(timeline["subject"].strip(), timeline=True)
    match = _AS_OF.fullmatch(text.strip())
    if match is None:
        return SlackRequest(text)
    day = parse_day(match["day"], today)
    if day is None:
        if not re.search(r"\d", match["day"]):
            return SlackRequest(text)  # « au fait : … » is a question
        raise SlackRequestError(f"Date non comprise : « {match['day']} ». Exemple : {EXAMPLE}")
    if not match["rest"].strip():
        raise SlackRequestError(f"Il manque la question après la date. Exemple : {EXAMPLE}")
    return SlackRequest(match["rest"].strip(), day)


def with_as_of(message: Message, as_of: date | None) -> Message:
    """`message` opened by a note naming the day it answers as of (unchanged without one)."""
    if as_of is None:
        return message
    note = f"_Selon les articles publiés jusqu'au {french_date(as_of)} :_"
    block = {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}
    blocks = [block, *message["blocks"]][:MAX_BLOCKS]
    return message | {"text": f"{note}\n{message['text']}", "blocks": blocks}


def timeline_message(timeline: Timeline) -> Message:
    """One line per event, oldest first: its day, how many sources tell it, its sentence."""
    if not timeline.events:
        return text_message(f"Aucun événement daté sur « {timeline.query} » dans les articles.")
    lines = []
    for event in timeline.events:
        sources = f" · selon {event.sources} sources" if event.sources > 1 else ""
        lines.append(f"*{french_date(event.date)}*{sources} : {_escape(event.text)}")
    blocks, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > MAX_TEXT_CHARS:
            blocks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line[:MAX_TEXT_CHARS]
    blocks.append(current)
    title = f"Chronologie : {_escape(timeline.query)}"
    sections = [{"type": "section", "text": {"type": "mrkdwn", "text": b}} for b in blocks]
    header = {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}}
    return {"text": title, "blocks": [header, *sections][:MAX_BLOCKS]}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
