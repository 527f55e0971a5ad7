import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from index.snapshot import Snapshot
from tests.fakes import HashingEmbedder
from tests.harness import fake_settings, published_client


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory,
    fake_snapshot: Snapshot,
    fake_embedder: HashingEmbedder,
) -> Iterator[TestClient]:
    settings = fake_settings(tmp_path_factory.mktemp("api"), max_query_chars=200)
    with published_client(settings, fake_snapshot, fake_embedder) as test_client:
        yield test_client


def test_search_cites_exact_offsets(client: TestClient) -> None:
    response = client.post("/search", json={"query": "Emmett Shear nommé PDG", "k": 4})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "no_answer", "answer", "passages", "took_ms", "notice"}
    assert body["notice"] is None
    assert [p["rank"] for p in body["passages"]] == [1, 2, 3, 4]
    for passage in body["passages"]:
        citation = passage["citation"]
        document = client.get(f"/documents/{citation['doc_id']}").json()
        assert document["text"][citation["start"] : citation["end"]] == passage["text"]
        assert citation["title"] == document["title"]


def test_filters_by_source_and_date(client: TestClient) -> None:
    by_source = client.post("/search", json={"query": "Altman", "k": 10, "sources": ["djaboo"]})
    assert {p["citation"]["source"] for p in by_source.json()["passages"]} == {"Djaboo"}
    by_date = client.post(
        "/search",
        json={
            "query": "Altman",
            "k": 10,
            "published_from": "2023-11-21",
            "published_to": "2023-11-22",
        },
    )
    dates = {p["citation"]["published"] for p in by_date.json()["passages"]}
    assert dates == {"2023-11-22"}


def test_a_filter_that_excludes_everything_says_so(client: TestClient) -> None:
    response = client.post(
        "/search", json={"query": "Altman", "sources": ["nulle-part"], "published_to": "2001-01-01"}
    )
    body = response.json()
    assert response.status_code == 200 and body["passages"] == [] and body["no_answer"]
    assert body["notice"] == (
        "no article matches the filters (source nulle-part, published on or before 2001-01-01)"
    )


def test_docs_page_loads_every_asset_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)|\burl: ["']([^"']+)""", page.text)
    assets = [a or b for a, b in urls]
    assert len(assets) >= 4, assets  # script, stylesheet, icon, schema
    for url in assets:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url
    assert "validator.swagger.io" not in page.text and "cdn" not in page.text.lower()
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN


def test_the_schema_states_what_the_server_checks(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    parts = schema["components"]["schemas"]
    assert parts["SearchRequest"]["properties"]["query"]["maxLength"] == 200  # from settings
    article = parts["ArticleIn"]
    assert [option["required"] for option in article["oneOf"]] == [["text"], ["html"]]
    search = schema["paths"]["/search"]["post"]["responses"]
    for status in ("400", "413", "422", "429", "500", "503"):
        body = search[status]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/ErrorOut"}, status
    put = schema["paths"]["/documents/{doc_id}"]["put"]["responses"]
    assert {"200", "201", "409", "507"} <= set(put)
    assert not any(path.startswith("/slack") for path in schema["paths"])


def test_documents_and_health(client: TestClient) -> None:
    documents = client.get("/documents").json()
    assert len(documents) == 5 and all("text" not in d for d in documents)
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["model"] == "fake-hashing"
    assert health["articles"] == 5 and health["passages"] > 5


def test_documents_come_a_page_at_a_time_following_the_link(client: TestClient) -> None:
    everything = client.get("/documents").json()
    assert "link" not in client.get("/documents").headers
    pages, url = [], "/documents?limit=2"
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(response.json())
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else ""
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [d for page in pages for d in page] == everything
    assert [d["doc_id"] for d in everything] == sorted(d["doc_id"] for d in everything)
    for bad in ("limit=0", "limit=1001", "after=a%20b"):
        response = client.get(f"/documents?{bad}")
        assert response.status_code == 422, bad
        assert response.json()["message"].startswith(bad.split("=")[0])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "query"),
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "\u200b"}, "query"),
        ({"query": "x" * 201}, "at most 200 characters"),
        ({"query": "x" * 10_001}, "query"),
        ({"query": "ok", "k": 0}, "k"),
        ({"query": "ok", "k": -1}, "k"),
        ({"query": "ok", "k": 51}, "k"),
        ({"query": "ok", "k": 1_000_000}, "k"),
        ({"query": "ok", "k": "5"}, "k"),
        ({"query": "ok", "k": 2.5}, "k"),
        ({"query": 42}, "query"),
        ({"query": ["a"]}, "query"),
        ({"query": "ok", "mode": "magic"}, "mode"),
        ({"query": "ok", "published_from": "yesterday"}, "published_from"),
        ({"query": "ok", "sources": "Djaboo"}, "sources"),
        ({"query": "ok", "unknown": 1}, "unknown"),
    ],
)
def test_invalid_search_requests_get_422_with_a_message(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    response = client.post("/search", json=body)
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_malformed_bodies_get_4xx(client: TestClient) -> None:
    for content in (b"{not json", b"\xff\xfe\x00", b"[]", b"null"):
        response = client.post(
            "/search", content=content, headers={"content-type": "application/json"}
        )
        assert response.status_code in (400, 422), content
        assert response.json()["message"]


def test_unknown_document_and_route(client: TestClient) -> None:
    response = client.get("/documents/nope")
    assert response.status_code == 404 and "nope" in response.json()["message"]
    assert client.get("/nowhere").status_code == 404
    assert client.get("/search").status_code == 405
