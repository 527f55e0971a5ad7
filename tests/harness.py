"""Helpers shared by the robustness tests: a served index on disk with the fake embedder,
opened exactly as the service opens it (`open_service`), and an HTTP client for it."""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

from fastapi.testclient import TestClient

from index.directory import IndexDirectory
from index.embedding import Embedder
from index.snapshot import Snapshot
from service.answering import QuestionAnswerer
from service.api import create_app
from service.library import Library
from service.runtime import Service, make_answerer, open_service
from service.served import ServedIndex
from service.settings import Settings
from tests.fakes import HashingEmbedder

TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def fake_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for the fake embedder, writes enabled, limits out of the way unless overridden."""
    values: dict[str, Any] = {
        "model": "fake-hashing",
        "data_dir": data_dir,
        "admin_token": TOKEN,
        "rate_limit": 100_000,
        "rate_burst": 100_000,
        "max_in_flight": 64,
    }
    return Settings(**(values | overrides))


def publish(settings: Settings, snapshot: Snapshot) -> Path:
    """Publish `snapshot` as the live generation of the settings' index directory."""
    return IndexDirectory(settings.index_dir).publish(snapshot)


def serve_published(
    settings: Settings,
    snapshot: Snapshot,
    embedder: Embedder,
    answerer_for: Callable[[Snapshot], QuestionAnswerer] | None = None,
) -> Service:
    """Publish `snapshot` and serve it, writes enabled; answered by `answerer_for` (by default
    the configured answerer)."""
    directory = IndexDirectory(settings.index_dir)
    folder = directory.publish(snapshot)
    served = ServedIndex(
        directory,
        answerer_for or (lambda s: make_answerer(settings, s, embedder)),
        snapshot,
        folder,
    )
    return Service(served, Library(served, embedder))


def published_client(settings: Settings, snapshot: Snapshot, embedder: Embedder) -> TestClient:
    """A test client for an app serving `snapshot` as published (writes enabled). Use it as
    a context manager so that the service is opened (lifespan)."""
    service = serve_published(settings, snapshot, embedder)
    return TestClient(create_app(settings, lambda s: service))


def open_fake_service(settings: Settings) -> Service:
    """`open_service` itself (fallback to the last good generation included), with the fake
    embedder in place of the real model."""
    with mock.patch("service.runtime.load_embedder", return_value=HashingEmbedder()):
        return open_service(settings)


def client_for(settings: Settings, raise_server_exceptions: bool = True) -> TestClient:
    """A test client for the app as `depeche serve` builds it, on the fake embedder.
    Use it as a context manager so that the service is opened (lifespan)."""
    return TestClient(
        create_app(settings, open_fake_service), raise_server_exceptions=raise_server_exceptions
    )
