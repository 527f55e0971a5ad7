"""The bad-input battery, over HTTP: every request below gets the right 4xx with a message,
and the index is unchanged afterwards (same generation, same corpus fingerprint).

With the default settings a 1 MB query is within the body limit (2 MB), so the request's
schema refuses it (422: at most `max_query_chars`, 1000 by default); with a body limit under
1 MB it is 413.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index.directory import IndexDirectory
from index.snapshot import Snapshot
from service.settings import Settings
from tests.harness import AUTH, TOKEN, client_for, fake_settings, publish

MB = 1_000_000
JSON = {"content-type": "application/json"}
ARTICLE = {"doc_id": "nouveau", "title": "Nouveau", "text": "Un article bien formé."}


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, fake_snapshot: Snapshot
) -> Iterator[tuple[TestClient, Settings]]:
    settings = fake_settings(tmp_path_factory.mktemp("bad-input"), max_batch=100)
    publish(settings, fake_snapshot)
    with client_for(settings) as client:
        yield client, settings


def state(client: TestClient, settings: Settings) -> tuple[Any, ...]:
    health = client.get("/healthz").json()
    live = IndexDirectory(settings.index_dir).current()
    return live, health["corpus_fingerprint"], health["articles"], health["passages"]


def check(
    served: tuple[TestClient, Settings],
    status: int,
    expected: str,
    method: str,
    path: str,
    **request: Any,
) -> None:
    client, settings = served
    before = state(client, settings)
    response = client.request(method, path, **request)
    assert response.status_code == status, response.text[:500]
    message = response.json()["message"]
    assert expected.lower() in message.lower(), message
    assert state(client, settings) == before, "a refused request changed the index"


SEARCHES: list[tuple[str, dict[str, Any], int, str]] = [
    ("missing query", {}, 422, "query: Field required"),
    ("empty query", {"query": ""}, 422, "query"),
    ("whitespace query", {"query": " \t\n\u00a0 "}, 422, "query: Value error, empty"),
    ("query over max_query_chars", {"query": "mot " * 300}, 422, "at most 1000 characters"),
    ("1 MB query", {"query": "é" * (MB // 2)}, 422, "at most 1000 characters"),
    ("k = 0", {"query": "Altman", "k": 0}, 422, "k: Input should be greater than or equal"),
    ("k = -1", {"query": "Altman", "k": -1}, 422, "k: Input should be greater than or equal"),
    ("k = 10**6", {"query": "Altman", "k": 10**6}, 422, "k: Input should be less than"),
    ("k a string", {"query": "Altman", "k": "5"}, 422, "k: Input should be a valid integer"),
    ("k a float", {"query": "Altman", "k": 2.5}, 422, "k: Input should be a valid integer"),
    ("k a boolean", {"query": "Altman", "k": True}, 422, "k: Input should be a valid integer"),
    ("k null", {"query": "Altman", "k": None}, 422, "k: Input should be a valid integer"),
    ("query a number", {"query": 42}, 422, "query: Input should be a valid string"),
    ("query a list", {"query": ["Altman"]}, 422, "query: Input should be a valid string"),
    ("query an object", {"query": {"q": 1}}, 422, "query: Input should be a valid string"),
    ("query null", {"query": None}, 422, "query: Input should be a valid string"),
    ("unknown mode", {"query": "Altman", "mode": "magic"}, 422, "mode"),
    ("sources a string", {"query": "Altman", "sources": "Djaboo"}, 422, "sources"),
    ("sources of numbers", {"query": "Altman", "sources": [1]}, 422, "sources.0"),
    ("date in words", {"query": "Altman", "published_from": "hier"}, 422, "YYYY-MM-DD"),
    ("date as a number", {"query": "Altman", "published_to": 0}, 422, "YYYY-MM-DD"),
    ("date as a numeric string", {"query": "Altman", "published_to": "0"}, 422, "YYYY-MM-DD"),
    ("impossible date", {"query": "Altman", "published_to": "2023-02-30"}, 422, "published_to"),
    ("unknown field", {"query": "Altman", "limit": 3}, 422, "limit: Extra inputs"),
]


@pytest.mark.parametrize(
    ("body", "status", "expected"), [c[1:] for c in SEARCHES], ids=[c[0] for c in SEARCHES]
)
def test_bad_search_bodies(
    served: tuple[TestClient, Settings], body: dict[str, Any], status: int, expected: str
) -> None:
    check(served, status, expected, "POST", "/search", json=body)


RAW_BODIES: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("invalid JSON", b'{"query": "Altman",', JSON, 422, "JSON decode error"),
    ("invalid UTF-8", b'{"query": "caf\xe9"}', JSON, 400, "error parsing the body"),
    ("a JSON array", b'["Altman"]', JSON, 422, "valid dictionary"),
    ("JSON null", b"null", JSON, 422, "valid dictionary"),
    ("empty body", b"", JSON, 422, "Field required"),
    ("not JSON at all", b"query=Altman", {"content-type": "text/plain"}, 422, "valid dictionary"),
]


@pytest.mark.parametrize(
    ("content", "headers", "status", "expected"),
    [c[1:] for c in RAW_BODIES],
    ids=[c[0] for c in RAW_BODIES],
)
def test_malformed_bodies(
    served: tuple[TestClient, Settings],
    content: bytes,
    headers: dict[str, str],
    status: int,
    expected: str,
) -> None:
    check(served, status, expected, "POST", "/search", content=content, headers=headers)


def test_oversized_bodies_get_413_with_or_without_a_content_length(
    served: tuple[TestClient, Settings],
) -> None:
    big = b'{"query": "' + b"x" * 3 * MB + b'"}'
    check(served, 413, "larger than 2000000 bytes", "POST", "/search", content=big, headers=JSON)

    def chunks() -> Iterator[bytes]:  # sent chunked: no Content-Length to refuse early
        yield b'{"query": "'
        for _ in range(30):
            yield b"x" * 100_000
        yield b'"}'

    check(served, 413, "larger than", "POST", "/search", content=chunks(), headers=JSON)
    documents = {"documents": [{**ARTICLE, "doc_id": "gros", "text": "x" * 3 * MB}]}
    check(served, 413, "larger than", "POST", "/documents", json=documents, headers=AUTH)


def test_a_1_mb_query_is_413_when_the_body_limit_is_under_1_mb(
    tmp_path: Path, fake_snapshot: Snapshot
) -> None:
    settings = fake_settings(tmp_path, max_body_bytes=500_000)
    publish(settings, fake_snapshot)
    with client_for(settings) as client:
        check(
            (client, settings),
            413,
            "larger than 500000",
            "POST",
            "/search",
            json={"query": "x" * MB},
        )


TRAVERSALS = ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", "%2Fetc%2Fpasswd", "..%5C..%5Cwindows"]


@pytest.mark.parametrize("doc_id", TRAVERSALS)
def test_path_traversal_in_doc_ids_reads_no_file(
    served: tuple[TestClient, Settings], doc_id: str
) -> None:
    client, settings = served
    before = state(client, settings)
    for method, body in (("GET", None), ("DELETE", None), ("PUT", {"text": "Texte."})):
        response = client.request(method, f"/documents/{doc_id}", json=body, headers=AUTH)
        assert response.status_code in (404, 422), (method, response.text)
        assert response.json()["message"] and "root:" not in response.text
    assert state(client, settings) == before


def bad(name: str, status: int, expected: str, method: str, path: str, **request: Any) -> Any:
    return pytest.param(method, path, request, status, expected, id=name)


def post(name: str, status: int, expected: str, body: Any, headers: Any = AUTH) -> Any:
    """POST /documents with this JSON body, with the token unless told otherwise."""
    return bad(name, status, expected, "POST", "/documents", json=body, headers=headers)


WRONG = {"Authorization": "Bearer nope"}
OTHER_SCHEME = {"Authorization": f"Basic {TOKEN}"}
BATCH = {"documents": [{**ARTICLE, "doc_id": f"d{i}"} for i in range(101)]}
RAW = {**AUTH, **JSON}
TEXT = {"text": "Texte."}


@pytest.mark.parametrize(
    ("method", "path", "request_args", "status", "expected"),
    [
        post("no token", 401, "Bearer", ARTICLE, headers={}),
        post("wrong token", 401, "Bearer", ARTICLE, headers=WRONG),
        post("token alone", 401, "Bearer", ARTICLE, headers={"Authorization": TOKEN}),
        bad("other scheme", 401, "Bearer", "DELETE", "/documents/x", headers=OTHER_SCHEME),
        bad("wrong token, rebuild", 401, "Bearer", "POST", "/index/rebuild", headers=WRONG),
        bad("wrong token, put", 401, "Bearer", "PUT", "/documents/x", json=TEXT, headers=WRONG),
        post("doc_id a path", 422, "doc_id", {**ARTICLE, "doc_id": "../../etc/passwd"}),
        bad("doc_id a dot file", 422, "doc_id", "PUT", "/documents/.x", json=TEXT, headers=AUTH),
        bad(
            "doc_id too long",
            422,
            "doc_id",
            "PUT",
            "/documents/" + "a" * 129,
            json=TEXT,
            headers=AUTH,
        ),
        bad(
            "doc_id in a PUT body",
            422,
            "doc_id: Extra inputs",
            "PUT",
            "/documents/a",
            json={**TEXT, "doc_id": "b"},
            headers=AUTH,
        ),
        post("no text", 422, "exactly one of 'text' and 'html'", {"title": "T"}),
        post("text and html", 422, "exactly one", {"text": "a", "html": "<p>b</p>"}),
        post("only boilerplate", 422, "empty after cleaning", {"text": "Laisser un commentaire"}),
        post("HTML without text", 422, "empty after cleaning", {"html": "<html></html>"}),
        post("date in words", 422, "YYYY-MM-DD", {**ARTICLE, "published": "demain"}),
        post("date a number", 422, "YYYY-MM-DD", {**ARTICLE, "published": 1700000000}),
        post("unknown field", 422, "path: Extra inputs", {**ARTICLE, "path": "/etc/passwd"}),
        post("text a number", 422, "text", {**ARTICLE, "text": 3}),
        post("empty batch", 422, "documents", {"documents": []}),
        post("batch of 101", 413, "at most 100 documents", BATCH),
        bad(
            "unknown doc_id",
            404,
            "no document with doc_id 'x'",
            "DELETE",
            "/documents/x",
            headers=AUTH,
        ),
        bad(
            "invalid JSON",
            422,
            "JSON decode error",
            "POST",
            "/documents",
            content=b"{",
            headers=RAW,
        ),
        bad(
            "invalid UTF-8",
            400,
            "error parsing",
            "POST",
            "/documents",
            content=b'"\xff"',
            headers=RAW,
        ),
    ],
)
def test_bad_writes(
    served: tuple[TestClient, Settings],
    method: str,
    path: str,
    request_args: dict[str, Any],
    status: int,
    expected: str,
) -> None:
    check(served, status, expected, method, path, **request_args)


def test_writes_are_disabled_with_403_when_no_token_is_configured(
    tmp_path: Path, fake_snapshot: Snapshot
) -> None:
    settings = fake_settings(tmp_path, admin_token=None)
    publish(settings, fake_snapshot)
    with client_for(settings) as client:
        for method, path in (
            ("POST", "/documents"),
            ("DELETE", "/documents/x"),
            ("POST", "/index/rebuild"),
        ):
            check(
                (client, settings),
                403,
                "set DEPECHE_ADMIN_TOKEN",
                method,
                path,
                json=ARTICLE,
                headers=AUTH,
            )


def test_entities_and_urls_in_articles_read_no_file(served: tuple[TestClient, Settings]) -> None:
    """No option reads a file: `url` is metadata, and HTML entities are not resolved."""
    client, _ = served
    html = (
        '<?xml version="1.0"?><!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<html><body><article><p>L'entité &xxe; ne doit jamais être résolue par le lecteur "
        "de pages, quelle que soit la longueur du paragraphe.</p></article></body></html>"
    )
    article = {"doc_id": "xxe", "html": html, "url": "file:///etc/passwd"}
    response = client.post("/documents", json=article, headers=AUTH)
    assert response.status_code == 201, response.text
    document = client.get("/documents/xxe").json()
    assert "root:" not in document["text"] and document["url"] == "file:///etc/passwd"
    assert client.delete("/documents/xxe", headers=AUTH).status_code == 200
