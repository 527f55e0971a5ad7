"""Putting the parts together: the configured embedder, index directory, served index and
writer."""

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus import Article, builtin_articles, read_paths
from index.directory import IndexDirectory, IndexMissingError
from index.embedding import Embedder, SentenceTransformerEmbedder
from index.search import FusionWeights
from index.snapshot import Snapshot, build_snapshot
from service.answering import AnswerTuning, QuestionAnswerer
from service.library import Library
from service.served import ServedIndex
from service.settings import Settings


def say(message: str) -> None:
    """Progress for people, on stderr so that --json output stays clean."""
    print(message, file=sys.stderr, flush=True)


def load_embedder(settings: Settings) -> Embedder:
    return SentenceTransformerEmbedder(
        settings.model, settings.cache_dir, threads=settings.torch_threads
    )


def build_index(
    settings: Settings, embedder: Embedder, paths: Sequence[Path] = (), progress: bool = True
) -> Snapshot:
    """Index the articles under `paths` (the built-in corpus if none) and publish the result.

    Articles unchanged since the live index keep their vectors, so a rebuild is quick.
    """
    articles: list[Article] = read_paths(paths) if paths else builtin_articles()
    directory = IndexDirectory(settings.index_dir)
    with directory.writer_lock():
        try:
            previous: Snapshot | None = directory.load(embedder.model_id)
        except IndexMissingError:
            previous = None
        except Exception as error:  # an unusable old index is replaced, not reused
            say(f"Not reusing the existing index: {error}")
            previous = None
        snapshot = build_snapshot(
            embedder,
            settings.chunk_size,
            settings.chunk_overlap,
            keep={},
            add=articles,
            base=previous,
            progress=say if progress else None,
        )
        folder = directory.publish(snapshot)
    if progress:
        m = snapshot.manifest
        say(f"Indexed {m.articles} articles, {m.passages} passages into {folder}")
    return snapshot


def make_answerer(settings: Settings, snapshot: Snapshot, embedder: Embedder) -> QuestionAnswerer:
    """The configured question-answering core over `snapshot`."""
    return QuestionAnswerer(
        snapshot,
        embedder,
        FusionWeights(
            settings.dense_weight, settings.sentence_weight, settings.lexical_weight, settings.rrf_k
        ),
        AnswerTuning(threshold=settings.no_answer_threshold),
        settings.max_query_chars,
    )


@dataclass(frozen=True)
class Service:
    """What the HTTP app serves: the served index and, if writes are possible, its writer."""

    served: ServedIndex
    library: Library | None = None


def open_service(settings: Settings, build_if_missing: bool = False) -> Service:
    """Load the model and the newest readable index once (building it first if there is none
    and `build_if_missing`); an unreadable newest index is reported, not served."""
    embedder = load_embedder(settings)
    directory = IndexDirectory(settings.index_dir)
    try:
        snapshot, degraded = directory.load_last_good(settings.model)
    except IndexMissingError:
        if not build_if_missing:
            raise
        say(f"No index in {settings.index_dir} yet: building it from the built-in corpus.")
        build_index(settings, embedder)
        snapshot, degraded = directory.load_last_good(settings.model)
    if degraded:
        say(f"Degraded: {degraded}")
    served = ServedIndex(
        directory,
        lambda s: make_answerer(settings, s, embedder),
        snapshot,
        None if degraded else directory.current(),
        degraded,
    )
    return Service(served, Library(served, embedder))


def open_answerer(settings: Settings, build_if_missing: bool = False) -> QuestionAnswerer:
    """The answerer over the newest readable index, for the CLI and evaluation."""
    return open_service(settings, build_if_missing).served.answerer
