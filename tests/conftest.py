"""Shared fixtures: the built-in corpus, a fake embedder, and the real model when asked."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from corpus import Article, builtin_articles
from index.embedding import Embedder
from index.snapshot import Snapshot, build_snapshot
from service.settings import Settings
from tests.fakes import HashingEmbedder


@pytest.fixture(scope="session")
def articles() -> list[Article]:
    return builtin_articles()


@pytest.fixture(scope="session")
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture(scope="session")
def fake_snapshot(articles: list[Article], fake_embedder: HashingEmbedder) -> Snapshot:
    return build_snapshot(fake_embedder, 800, 150, keep={}, add=articles)


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings with a private data dir; the model cache stays shared so it is built once."""
    yield Settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    from service.runtime import load_embedder

    return load_embedder(Settings())


@pytest.fixture(scope="session")
def real_snapshot(real_embedder: Embedder, articles: list[Article]) -> Snapshot:
    """The built-in corpus indexed with the real model (built once per test session)."""
    from service.runtime import load_reader

    settings = Settings()
    return build_snapshot(
        real_embedder,
        settings.chunk_size,
        settings.chunk_overlap,
        keep={},
        add=articles,
        reader=load_reader(settings),
    )
