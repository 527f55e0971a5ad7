"""Putting the parts together: the configured embedder, index directory, served index and
writer."""

import gc
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from corpus import Article, builtin_articles, read_paths
from index.checked import CheckedFiles
from index.directory import IndexDirectory, IndexMissingError
from index.e5_model import E5_MODEL_NAME
from index.embedding import (
    Embedder,
    SentenceTransformerEmbedder,
    TokenProjection,
    resolve_model,
    stay_offline,
)
from index.embedding_cache import EmbeddingCache
from index.snapshot import Snapshot, build_snapshot
from service.answering import QuestionAnswerer
from service.library import Change, Library, compare
from service.reader import Reader
from service.served import ServedIndex
from service.settings import Settings
from service.shared_state import writer_lock
from service.translation import english_to_french
from service.tuning import RankingTuning

log = logging.getLogger("depeche.index")


def load_embedder(settings: Settings, threads: int | None = None) -> Embedder:
    """The configured model, loaded without any model hub (unless the environment allows one):
    the CLI, the server and the evaluation all start the model here. It runs on
    `settings.torch_threads` threads, or `threads` (a batch build's)."""
    stay_offline()
    threads = threads or settings.torch_threads
    if settings.encoder == "onnx" and settings.model == E5_MODEL_NAME:
        from index.onnx_embedding import OnnxEmbedder

        folder = Path(resolve_model(settings.model, settings.cache_dir))
        return OnnxEmbedder(settings.model, folder, threads=threads, device=settings.device)
    return SentenceTransformerEmbedder(
        settings.model, settings.cache_dir, threads=threads, device=settings.device
    )


def embedding_cache(settings: Settings, embedder: Embedder) -> EmbeddingCache | None:
    """The on-disk cache of the embeddings of `embedder`'s model, unless disabled."""
    if not settings.embedding_cache:
        return None
    return EmbeddingCache(settings.cache_dir / "embeddings.sqlite", embedder.model_id)


def load_reader(settings: Settings) -> Reader | None:
    """The shipped reader, unless disabled; it fits only the default embedding model."""
    if not settings.reader or settings.model != E5_MODEL_NAME:
        return None
    return shipped_reader()


@lru_cache(maxsize=1)
def shipped_reader() -> Reader:
    return Reader.load()


def index_paths(
    settings: Settings, embedder: Embedder, paths: Sequence[Path] = (), replace: bool = False
) -> Change:
    """Add the articles under `paths` (the built-in corpus if none) to the index, or with
    `replace` make them its whole content, and publish the result if anything changed.

    Articles unchanged since the live index keep their vectors, so a rebuild is quick.
    """
    articles: list[Article] = read_paths(paths) if paths else builtin_articles()
    return index_articles(settings, embedder, articles, replace, load_reader(settings))


def index_articles(
    settings: Settings,
    embedder: Embedder,
    articles: list[Article],
    replace: bool,
    reader: TokenProjection | None,
) -> Change:
    """`index_paths` for articles already read, with the reader's token projection given."""
    directory = IndexDirectory(settings.index_dir)
    with writer_lock(settings).hold(), directory.writer_lock():
        previous = _reusable_index(directory, embedder)
        before = previous.articles if previous else {}
        added, replaced, unchanged = compare(before, articles)
        removed = sorted(set(before) - {a.doc_id for a in articles}) if replace else []
        if previous is not None and not (added or replaced or removed):
            m = previous.manifest
            if (m.chunk_size, m.chunk_overlap) == (settings.chunk_size, settings.chunk_overlap):
                return Change([], [], unchanged, [], None, len(previous.passages))
        snapshot = build_snapshot(
            embedder,
            settings.chunk_size,
            settings.chunk_overlap,
            keep={} if replace else dict(before),
            add=articles,
            base=previous,
            progress=log.info,
            reader=reader,
            cache=embedding_cache(settings, embedder),
        )
        folder = directory.publish(snapshot)
    return Change(added, replaced, unchanged, removed, folder.name, len(snapshot.passages))


@dataclass(frozen=True)
class Optimized:
    """What `depeche index --optimize` did: the segments and tombstoned articles it merged
    away, and the generation it published (None when the index was one segment already)."""

    segments: int
    tombstones: int
    generation: str | None
    passages: int


def optimize_index(settings: Settings) -> Optimized:
    """Merge every segment of the live index into one, dropping tombstoned rows, and publish it
    (`depeche index --optimize`); nothing is embedded again."""
    directory = IndexDirectory(settings.index_dir)
    with writer_lock(settings).hold(), directory.writer_lock():
        live = directory.load(settings.model)
        merged = live.optimized(progress=True)
        tombstones = sum(len(d) for d in live.deleted.values())
        if merged is live:
            return Optimized(1, 0, None, len(live.passages))
        folder = directory.publish(merged)
    return Optimized(len(live.segments), tombstones, folder.name, len(merged.passages))


def _reusable_index(directory: IndexDirectory, embedder: Embedder) -> Snapshot | None:
    try:
        return directory.load(embedder.model_id)
    except IndexMissingError:
        return None
    except Exception as error:  # an unusable old index is replaced, not reused
        log.warning("Not reusing the existing index: %s", error)
        return None


def make_answerer(settings: Settings, snapshot: Snapshot, embedder: Embedder) -> QuestionAnswerer:
    """The configured question-answering core over `snapshot`."""
    reader = load_reader(settings)
    if reader is not None and snapshot.manifest.reader != reader.id:
        built = snapshot.manifest.reader
        log.warning(
            "The index was built %s, not for the shipped reader %s: answers are chosen by the "
            "formula alone until `depeche index` rebuilds it",
            f"for reader {built}" if built else "without the reader",
            reader.id,
        )
        reader = None
    threshold = settings.no_answer_threshold
    if threshold is None:
        threshold = reader.threshold if reader else RankingTuning.threshold
    return QuestionAnswerer(
        snapshot,
        embedder,
        RankingTuning(
            dense_weight=settings.dense_weight,
            sentence_weight=settings.sentence_weight,
            lexical_weight=settings.lexical_weight,
            rrf_k=settings.rrf_k,
            threshold=threshold,
        ),
        settings.max_query_chars,
        reader,
        english_to_french() if settings.translate_english else None,
    )


@dataclass(frozen=True)
class Service:
    """What the HTTP app serves: the served index and, if writes are possible, its writer."""

    served: ServedIndex
    library: Library | None = None


def open_service(
    settings: Settings,
    build_if_missing: bool = False,
    verified: Future[CheckedFiles] | None = None,
) -> Service:
    """Load the model and the newest readable index once (building it first if there is none
    and `build_if_missing`); an unreadable newest index is reported, not served. The model loads
    on another thread while the index's files are verified (both mostly outside Python's lock:
    at 10^6 passages, 3.6 -> 2.8 s warm here, 11.2 -> 9.3 s from a cold cache), or while the
    verification started earlier (`index.live.verify_ahead`, `verified`) ends."""
    with ThreadPoolExecutor(1, thread_name_prefix="model") as pool:
        loading = pool.submit(load_embedder, settings)
        directory = IndexDirectory(settings.index_dir, verified.result() if verified else None)
        try:
            snapshot, degraded = directory.load_last_good(settings.model)
        except IndexMissingError:
            if not build_if_missing:
                raise
            log.info("No index in %s yet: building it from the built-in corpus", directory.root)
            index_paths(settings, loading.result())
            snapshot, degraded = directory.load_last_good(settings.model)
        embedder = loading.result()
    if degraded:
        log.warning("Degraded: %s", degraded)
    served = ServedIndex(
        directory,
        lambda s: make_answerer(settings, s, embedder),
        snapshot,
        None if degraded else directory.current(),
        degraded,
    )
    library = Library(
        served,
        embedder,
        reader=load_reader(settings),
        cache=embedding_cache(settings, embedder),
    )
    settle_heap()
    return Service(served, library)


def settle_heap() -> None:
    """Collect what is garbage, then exempt every object alive now (the model, the served
    index) from the garbage collector's scans: an index holds hundreds of thousands of objects
    that live as long as it, and scanning them again and again slowed every request (about
    1 ms a question at 10^5 passages). Call it when the served index is loaded or replaced."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def open_answerer(settings: Settings, build_if_missing: bool = False) -> QuestionAnswerer:
    """The answerer over the newest readable index, for the CLI and evaluation."""
    return open_service(settings, build_if_missing).served.answerer
