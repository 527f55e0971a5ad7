"""The write endpoints: add, replace, delete, rebuild, and their guard."""

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from corpus import Article
from index.directory import IndexDirectory
from index.snapshot import Snapshot
from service.api import create_app
from service.settings import Settings
from tests.fakes import HashingEmbedder
from tests.harness import serve_published

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARTICLE = {
    "doc_id": "shear-interview",
    "title": "Emmett Shear s'explique",
    "text": "Le nouveau PDG Emmett Shear promet une enquête indépendante sur le licenciement.",
    "source": "Le Test",
    "published": "2023-11-21",
}


def make_client(
    tmp_path: Path, snapshot: Snapshot, embedder: HashingEmbedder, **overrides: object
) -> TestClient:
    options = {"admin_token": TOKEN, "rate_limit": 10_000, "rate_burst": 10_000} | overrides
    settings = Settings(data_dir=tmp_path, **options)
    service = serve_published(settings, snapshot, embedder)
    return TestClient(create_app(settings, lambda s: service))


@pytest.fixture
def client(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> Iterator[TestClient]:
    with make_client(tmp_path, fake_snapshot, fake_embedder) as test_client:
        yield test_client


def test_add_is_searchable_durable_and_idempotent(client: TestClient, tmp_path: Path) -> None:
    response = client.post("/documents", json=ARTICLE, headers=AUTH)
    assert response.status_code == 201, response.text
    change = response.json()
    assert change["added"] == ["shear-interview"] and change["generation"]
    assert IndexDirectory(tmp_path / "index").current().name == change["generation"]  # type: ignore[union-attr]

    hits = client.post(
        "/search", json={"query": "enquête indépendante licenciement", "k": 3}
    ).json()
    assert hits["passages"][0]["citation"]["doc_id"] == "shear-interview"
    assert client.get("/documents/shear-interview").json()["source"] == "Le Test"

    again = client.post("/documents", json={"documents": [ARTICLE]}, headers=AUTH).json()
    assert again["unchanged"] == ["shear-interview"] and again["generation"] is None


def test_put_creates_with_201_then_replaces_with_200_and_delete_removes(
    client: TestClient,
) -> None:
    fields = {k: v for k, v in ARTICLE.items() if k != "doc_id"}
    created = client.put("/documents/shear-interview", json=fields, headers=AUTH)
    assert created.status_code == 201 and created.json()["added"] == ["shear-interview"]
    replaced = client.put(
        "/documents/shear-interview", json={**fields, "text": "Texte corrigé."}, headers=AUTH
    )
    assert replaced.status_code == 200 and replaced.json()["replaced"] == ["shear-interview"]
    assert client.get("/documents/shear-interview").json()["text"] == "Texte corrigé."

    deleted = client.delete("/documents/shear-interview", headers=AUTH)
    assert deleted.status_code == 200 and deleted.json()["deleted"] == ["shear-interview"]
    assert client.get("/documents/shear-interview").status_code == 404
    assert client.delete("/documents/shear-interview", headers=AUTH).status_code == 404


def test_rebuild_keeps_the_corpus(client: TestClient) -> None:
    before = client.get("/healthz").json()
    response = client.post("/index/rebuild", headers=AUTH)
    assert response.status_code == 200
    after = client.get("/healthz").json()
    assert after["corpus_fingerprint"] == before["corpus_fingerprint"]
    assert after["passages"] == before["passages"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": TOKEN}, 401)],
)
def test_writes_need_the_token(client: TestClient, headers: dict[str, str], status: int) -> None:
    before = client.get("/healthz").json()
    response = client.post("/documents", json=ARTICLE, headers=headers)
    assert response.status_code == status and "Bearer" in response.json()["message"]
    assert client.get("/healthz").json() == before


def test_writes_disabled_without_a_token(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    with make_client(tmp_path, fake_snapshot, fake_embedder, admin_token=None) as client:
        response = client.post("/documents", json=ARTICLE, headers=AUTH)
        assert response.status_code == 403
        assert "DEPECHE_ADMIN_TOKEN" in response.json()["message"]


def test_writes_get_503_and_reads_go_on_when_the_shared_redis_is_unreachable(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        gone = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    with make_client(tmp_path, fake_snapshot, fake_embedder, redis_url=gone) as client:
        response = client.post("/documents", json=ARTICLE, headers=AUTH)
        assert response.status_code == 503
        assert "writes are refused" in response.json()["message"]
        assert response.headers["retry-after"]
        assert client.get("/documents/shear-interview").status_code == 404  # nothing written
        assert client.post("/search", json={"query": "Altman"}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"title": "sans texte"},
        {"text": "a", "html": "<p>b</p>"},
        {"text": "ok", "doc_id": "../../etc/passwd"},
        {"text": "ok", "published": "demain"},
        {"text": "ok", "unknown": 1},
        {"text": "Laisser un commentaire"},
        {"documents": []},
    ],
)
def test_bad_articles_are_refused_and_change_nothing(
    client: TestClient, body: dict[str, object]
) -> None:
    before = client.get("/healthz").json()
    response = client.post("/documents", json=body, headers=AUTH)
    assert response.status_code == 422, response.text
    assert response.json()["message"]
    assert client.get("/healthz").json() == before


def test_put_takes_the_doc_id_from_the_path_only(client: TestClient) -> None:
    response = client.put("/documents/shear-interview", json=ARTICLE, headers=AUTH)
    assert response.status_code == 422 and "doc_id" in response.json()["message"]


def test_a_bad_single_article_reports_only_its_own_errors(client: TestClient) -> None:
    single = client.post("/documents", json={"text": "a", "html": "<p>b</p>"}, headers=AUTH)
    assert single.status_code == 422
    assert single.json()["message"] == "body: Value error, give exactly one of 'text' and 'html'"
    batch = client.post("/documents", json={"documents": [{"title": "t"}]}, headers=AUTH)
    assert batch.status_code == 422
    message = batch.json()["message"]
    assert message.startswith("documents.0: ") and "exactly one" in message
    assert "DocumentIn" not in message and "function-after" not in message


def test_in_a_batch_the_later_article_with_a_doc_id_wins(client: TestClient) -> None:
    later = {**ARTICLE, "text": "La seconde version de la même dépêche."}
    response = client.post("/documents", json={"documents": [ARTICLE, later]}, headers=AUTH)
    assert response.status_code == 201 and response.json()["added"] == ["shear-interview"]
    assert client.get("/documents/shear-interview").json()["text"] == later["text"]


def test_batch_limit(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    with make_client(tmp_path, fake_snapshot, fake_embedder, max_batch=2) as client:
        batch = [{**ARTICLE, "doc_id": f"d{i}"} for i in range(3)]
        response = client.post("/documents", json={"documents": batch}, headers=AUTH)
        assert response.status_code == 413 and "at most 2" in response.json()["message"]


def test_metrics_and_request_ids(client: TestClient) -> None:
    response = client.post("/search", json={"query": "Altman"}, headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    metrics = client.get("/metrics").text
    assert 'depeche_requests_total{method="POST",route="/search",status="200"} 1.0' in metrics
    assert "depeche_request_seconds_bucket" in metrics
    assert (
        "depeche_index_passages" in metrics and "depeche_index_updated_timestamp_seconds" in metrics
    )


def test_metrics_label_the_docs_routes_by_their_path(client: TestClient) -> None:
    for path in ("/docs", "/openapi.json", "/docs/assets/swagger-ui.css"):
        assert client.get(path).status_code == 200
    metrics = client.get("/metrics").text
    for route in ("/docs", "/openapi.json", "/docs/assets"):
        assert f'method="GET",route="{route}",status="200"' in metrics, route
    assert 'route="unmatched"' not in metrics


def test_the_server_follows_an_index_published_by_another_writer(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    with make_client(tmp_path, fake_snapshot, fake_embedder, reload_seconds=0.1) as client:
        directory = IndexDirectory(tmp_path / "index")
        extra = Article("cli-added", "Ajout par la CLI", "Un article publié par depeche index.")
        directory.publish(fake_snapshot.updated(fake_embedder, add=[extra]))
        deadline = time.monotonic() + 10
        while client.get("/documents/cli-added").status_code != 200:
            assert time.monotonic() < deadline, "the new generation was not picked up"
            time.sleep(0.1)
        assert client.get("/healthz").json()["articles"] == 6


def test_the_auth_scheme_is_case_insensitive(client: TestClient) -> None:
    """RFC 9110: the scheme name is case-insensitive; the token is compared exactly."""
    response = client.post("/documents", json=ARTICLE, headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 201, response.text
    upper = {"Authorization": f"Bearer {TOKEN.upper()}"}
    assert client.delete(f"/documents/{ARTICLE['doc_id']}", headers=upper).status_code == 401
