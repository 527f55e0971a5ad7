"""The news forms of a Slack question: « au <date> : <question> » asks as of a day.

Pure translation: Slack text in, a `SlackRequest` out (or a `SlackRequestError` whose message
is shown to the person); a note that says which day an answer is given as of.
"""

import re
from dataclasses import dataclass
from datetime import date

from index.event_dates import parse_day
from service.slack_blocks import MAX_BLOCKS, MONTHS, Message

_AS_OF = re.compile(r"au\s+(?P<day>[^:]{1,40}?)\s*:\s*(?P<rest>.*)", re.IGNORECASE | re.DOTALL)
EXAMPLE = "au 20 novembre 2023 : qui dirige OpenAI ?"


class SlackRequestError(ValueError):
    """The text looks like a news form but cannot be read; the message says how to write it."""


@dataclass(frozen=True)
class SlackRequest:
    """A question, perhaps to be answered as the news stood on `as_of`."""

    question: str
    as_of: date | None = None


def parse_request(text: str, today: date) -> SlackRequest:
    """Read « au 20 novembre 2023 : qui dirige OpenAI ? » (or « au 2023-11-20 : … »); a day
    without a year is the latest such day on or before `today`. Other text is a question."""
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


def french_date(day: date) -> str:
    """« 20 novembre 2023 »."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
