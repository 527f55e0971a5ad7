"""The timeline: dated sentences about a subject, sorted, merged across articles, cited."""

from datetime import date

import pytest

from corpus import Article
from index.query import Filters
from index.search import Searcher
from index.snapshot import Snapshot, build_snapshot
from service.answering import QueryError
from service.slack_blocks import MAX_BLOCKS, MAX_TEXT_CHARS
from service.slack_news import SlackRequest, parse_request, timeline_message
from service.timeline import Timeline, _one_edit_apart, build_timeline
from tests.fakes import HashingEmbedder

WEEK = [date(2023, 11, day) for day in range(16, 23)]


@pytest.fixture(scope="module")
def searcher(fake_snapshot: Snapshot, fake_embedder: HashingEmbedder) -> Searcher:
    return Searcher(fake_snapshot, fake_embedder)


def test_sam_altman_timeline_covers_the_week_in_order_with_exact_citations(
    searcher: Searcher, fake_snapshot: Snapshot
) -> None:
    events = build_timeline(searcher, "Sam Altman").events
    days = [event.date for event in events]
    assert days == sorted(days) and set(WEEK) <= set(days)
    for event in events:
        assert event.sources == len({c.doc_id for c in event.citations}) >= 1
        assert (
            event.text
            == fake_snapshot.articles[event.citations[0].doc_id].text[
                event.citations[0].start : event.citations[0].end
            ]
        )
        for c in event.citations:
            cited = fake_snapshot.articles[c.doc_id].text[c.start : c.end].lower()
            assert any(name in cited for name in ("sam", "altman", "atlman", "altam"))
            assert event.date in fake_snapshot.event_dates_at(c.doc_id, c.start, c.end)
        assert event.published == min(c.published for c in event.citations if c.published)


def test_timeline_as_of_keeps_only_what_was_published_by_then(searcher: Searcher) -> None:
    events = build_timeline(searcher, "Sam Altman", Filters().as_of(date(2023, 11, 20))).events
    assert events and {c.published for e in events for c in e.citations} == {date(2023, 11, 20)}
    assert build_timeline(searcher, "Sam Altman", Filters().as_of(date(2023, 1, 1))).events == []


def test_the_same_event_told_by_two_articles_is_one_entry(fake_embedder: HashingEmbedder) -> None:
    told = "Le dimanche 19 novembre, Emmett Shear est nommé PDG d'OpenAI."
    other = "Le dimanche 19 novembre, Jan Leike visite les bureaux d'OpenAI."
    articles = [
        Article("a", "A", f"{told} {other}", published=date(2023, 11, 20)),
        Article("b", "B", told, published=date(2023, 11, 21)),
    ]
    snapshot = build_snapshot(fake_embedder, 800, 150, keep={}, add=articles)
    events = build_timeline(Searcher(snapshot, fake_embedder), "OpenAI").events
    assert sorted(e.sources for e in events) == [1, 2]
    merged = next(e for e in events if e.sources == 2)
    assert merged.date == date(2023, 11, 19) and merged.text == told
    assert {c.doc_id for c in merged.citations} == {"a", "b"}
    assert merged.published == date(2023, 11, 20)


def test_an_empty_or_huge_subject_is_refused(searcher: Searcher) -> None:
    for subject in ("", "   ", "x" * 1001):
        with pytest.raises(QueryError):
            build_timeline(searcher, subject)


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("altman", "atlman", True),
        ("altman", "altma", True),
        ("altman", "altam", False),
        ("altman", "altmann", True),
        ("altman", "altmen", True),
        ("altman", "altman", True),
        ("altman", "tlaman", False),
        ("altman", "alt", False),
        ("shear", "sheep", False),
    ],
)
def test_one_typo_is_forgiven_in_long_terms(a: str, b: str, close: bool) -> None:
    assert _one_edit_apart(a, b) is close


def test_slack_chronologie_asks_for_a_timeline() -> None:
    today = date(2026, 1, 5)
    assert parse_request("chronologie Sam Altman", today) == SlackRequest(
        "Sam Altman", timeline=True
    )
    assert parse_request("Chronologie : Emmett Shear", today).timeline


def test_slack_timeline_message_lists_events_within_block_kit_limits(searcher: Searcher) -> None:
    timeline = build_timeline(searcher, "Sam Altman")
    message = timeline_message(timeline)
    assert "17 novembre 2023" in "\n".join(b["text"]["text"] for b in message["blocks"])
    huge = Timeline("x", timeline.events * 200, 1.0)
    for result in (message, timeline_message(huge)):
        assert len(result["blocks"]) <= MAX_BLOCKS
        assert all(len(b["text"]["text"]) <= MAX_TEXT_CHARS for b in result["blocks"])
    assert "Aucun événement" in timeline_message(Timeline("x", [], 1.0))["text"]
