"""As of a day: only what was published by then; the answer's event date; the Slack form."""

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from index.query import Filters
from index.snapshot import Snapshot
from service.answering import QuestionAnswerer
from service.slack_blocks import text_message
from service.slack_news import SlackRequest, SlackRequestError, parse_request, with_as_of
from tests.fakes import HashingEmbedder
from tests.harness import fake_settings, published_client

NOV_20 = date(2023, 11, 20)


@pytest.fixture(scope="module")
def answerer(fake_snapshot: Snapshot, fake_embedder: HashingEmbedder) -> QuestionAnswerer:
    return QuestionAnswerer(fake_snapshot, fake_embedder)


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory,
    fake_snapshot: Snapshot,
    fake_embedder: HashingEmbedder,
) -> Iterator[TestClient]:
    settings = fake_settings(tmp_path_factory.mktemp("as-of"))
    with published_client(settings, fake_snapshot, fake_embedder) as test_client:
        yield test_client


def test_as_of_narrows_the_published_range() -> None:
    assert Filters().as_of(None) == Filters()
    assert Filters().as_of(NOV_20).published_to == NOV_20
    assert Filters(published_to=date(2023, 11, 18)).as_of(NOV_20).published_to == date(2023, 11, 18)
    assert Filters(published_to=date(2023, 11, 30)).as_of(NOV_20).published_to == NOV_20


def test_search_as_of_uses_only_articles_published_by_then(client: TestClient) -> None:
    everything = client.post("/search", json={"query": "Altman PDG OpenAI", "k": 20}).json()
    assert {p["citation"]["published"] for p in everything["passages"]} > {"2023-11-20"}
    body = client.post(
        "/search", json={"query": "Altman PDG OpenAI", "k": 20, "as_of": "2023-11-20"}
    ).json()
    assert body["passages"]
    assert {p["citation"]["published"] for p in body["passages"]} == {"2023-11-20"}
    later_limit = {"published_to": "2023-11-30", "as_of": "2023-11-20"}
    narrowed = client.post("/search", json={"query": "Altman", "k": 20} | later_limit).json()
    assert {p["citation"]["published"] for p in narrowed["passages"]} == {"2023-11-20"}


def test_as_of_before_every_article_is_an_honest_no_answer(client: TestClient) -> None:
    response = client.post("/search", json={"query": "qui dirige OpenAI ?", "as_of": "2023-11-01"})
    assert response.status_code == 200
    assert response.json() | {"took_ms": 0} == {
        "query": "qui dirige OpenAI ?",
        "no_answer": True,
        "answer": None,
        "passages": [],
        "took_ms": 0,
        "notice": "no article matches the filters (published on or before 2023-11-01)",
    }


@pytest.mark.parametrize("value", ["20/11/2023", "2023-02-30", "hier", 20231120, "", None])
def test_malformed_as_of_gets_422_naming_the_field(client: TestClient, value: object) -> None:
    response = client.post("/search", json={"query": "qui dirige OpenAI ?", "as_of": value})
    if value is None:  # null is the default: no as_of
        assert response.status_code == 200
        return
    assert response.status_code == 422
    assert "as_of" in response.json()["message"]


def test_answer_carries_the_event_date_of_its_sentence(answerer: QuestionAnswerer) -> None:
    answer = answerer.ask("Deux jours plus tard, Emmett Shear a été nommé PDG d'OpenAI.")
    assert answer.answer is not None and "Deux jours plus tard" in answer.answer.text
    assert answer.answer.event_date == date(2023, 11, 19)
    assert answer.answer.citation.published == NOV_20
    undated = answerer.ask("Cet épisode dramatique a renforcé les liens entre OpenAI et Microsoft.")
    assert undated.answer is not None and undated.answer.event_date is None


def test_event_date_is_in_the_http_answer(client: TestClient) -> None:
    query = "Deux jours plus tard, Emmett Shear a été nommé PDG d'OpenAI."
    body = client.post("/search", json={"query": query}).json()
    assert body["answer"]["event_date"] == "2023-11-19"
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    assert "as_of" in schema["SearchRequest"]["properties"]
    assert "event_date" in schema["AnswerSentence"]["properties"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("au 20 novembre 2023 : qui dirige OpenAI ?", SlackRequest("qui dirige OpenAI ?", NOV_20)),
        ("Au 2023-11-20: qui dirige OpenAI ?", SlackRequest("qui dirige OpenAI ?", NOV_20)),
        ("au 20 novembre : qui ?", SlackRequest("qui ?", date(2025, 11, 20))),
        ("au le 17/11/2023 : qui ?", SlackRequest("qui ?", date(2023, 11, 17))),
        ("au fait : qui dirige OpenAI ?", SlackRequest("au fait : qui dirige OpenAI ?")),
        ("qui dirige OpenAI au 20 novembre ?", SlackRequest("qui dirige OpenAI au 20 novembre ?")),
    ],
)
def test_slack_reads_a_leading_as_of(text: str, expected: SlackRequest) -> None:
    assert parse_request(text, today=date(2026, 1, 5)) == expected


@pytest.mark.parametrize("text", ["au 32 novembre 2023 : qui ?", "au 20 novembre 2023 :  "])
def test_slack_explains_an_unreadable_as_of(text: str) -> None:
    with pytest.raises(SlackRequestError, match="au 20 novembre 2023 : qui dirige OpenAI"):
        parse_request(text, today=date(2026, 1, 5))


def test_slack_answer_says_which_day_it_answers_as_of() -> None:
    message = text_message("Réponse")
    assert with_as_of(message, None) == message
    dated = with_as_of(message, NOV_20)
    assert dated["blocks"][0]["type"] == "context"
    assert "jusqu'au 20 novembre 2023" in dated["text"]
    assert dated["blocks"][1:] == message["blocks"]
