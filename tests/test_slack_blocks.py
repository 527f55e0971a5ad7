"""Block Kit rendering: what people read, and Slack's limits whatever the input."""

from datetime import date
from typing import Any

from service.answers import Answer, AnswerSentence, Citation, CitedPassage
from service.slack_blocks import (
    MAX_BLOCKS,
    MAX_TEXT_CHARS,
    NO_ANSWER,
    answer_message,
    text_message,
    usage_message,
)

OPENAI = Citation(
    "d1",
    "Sam Altman de retour",
    "Études Tech",
    "https://example.org/a?x=1&y=2",
    date(2023, 11, 23),
    0,
    9,
)
RENVOI = Citation("d2", "Suite au renvoi", None, None, date(2023, 11, 20), 5, 40)


def passage(rank: int, text: str, citation: Citation = OPENAI) -> CitedPassage:
    return CitedPassage(rank, 1 / rank, text, citation)


def sections(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]


def test_answer_then_cited_passages() -> None:
    sentence = AnswerSentence("Mira Murati a été remplacée par Emmett Shear.", RENVOI, 1.2)
    answer = Answer(
        "q", False, sentence, [passage(1, "Texte\n\n du <b> & co"), passage(2, "B")], 3.0
    )
    message = answer_message(answer, passages=3)
    headline, first, second = sections(message)
    assert "Emmett Shear" in headline and "*Suite au renvoi* · 20 novembre 2023" in headline
    assert first.startswith("*1.* <https://example.org/a?x=1&amp;y=2|Sam Altman de retour>")
    assert "Études Tech · 23 novembre 2023" in first and first.endswith(
        "> Texte du &lt;b&gt; &amp; co"
    )
    assert second.startswith("*2.*") and "Emmett Shear" in message["text"]


def test_no_answer_says_so_and_lists_the_nearest_sources() -> None:
    message = answer_message(Answer("q", True, None, [passage(r, "x") for r in (1, 2, 3, 4)], 1), 3)
    headline, *cited = sections(message)
    assert headline.startswith(NO_ANSWER) and "sources les plus proches" in headline
    assert len(cited) == 3
    assert sections(answer_message(Answer("q", True, None, [], 1), 3)) == [NO_ANSWER]


def test_limits_hold_for_huge_answers() -> None:
    huge = Citation("d", "T&" * 5000, "S>" * 3000, "https://e.org/" + "a" * 5000, None, 0, 1)
    sentence = AnswerSentence("<&> " * 5000, huge, 2.0)
    passages = [passage(r, "&<>" * 10_000 + " mot" * 5000, huge) for r in range(1, 101)]
    message = answer_message(Answer("q", False, sentence, passages, 1), passages=100)
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert all(len(text) <= MAX_TEXT_CHARS for text in sections(message))
    assert 0 < len(message["text"]) <= MAX_TEXT_CHARS
    assert all(
        not text.rstrip("…").endswith(("&", "&a", "&am", "&amp")) for text in sections(message)
    )


def test_plain_messages_are_escaped_and_usage_names_the_command() -> None:
    assert sections(text_message("a < b & c")) == ["a &lt; b &amp; c"]
    assert "/ask qui a remplacé Mira Murati ?" in usage_message("/ask")["text"]
