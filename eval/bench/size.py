"""Everything the benchmark measures at one corpus size: ingest (and, with real vectors, the
bare encoding of the same texts and a re-index), recall of the passage index, adding and
deleting one article, search in process and over HTTP, start-up and peak memory, and merging
the segments the writes left into one (`depeche index --optimize`)."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from corpus import Article
from eval.bench.floors import batch_encoding_seconds
from eval.bench.recall import recall_at_10
from eval.bench.server import serve_and_query
from eval.bench.timing import median_seconds, per_question_ms, seconds, tail
from index.directory import IndexDirectory
from index.embedding import Embedder
from index.embedding_cache import EmbeddingCache
from index.snapshot import Snapshot, build_snapshot
from service.library import Library
from service.runtime import load_reader, make_answerer
from service.served import ServedIndex
from service.settings import Settings


@dataclass(frozen=True)
class Size:
    """One corpus to measure: its articles and the embedder that indexes them (the real model on
    the threads `depeche index` gives it, or random vectors for a size that cannot be embedded
    in time)."""

    label: str
    articles: list[Article]
    embedder: Embedder
    real_vectors: bool


def measure(
    size: Size,
    embedder: Embedder,
    settings: Settings,
    questions: Sequence[str],
    additions: Sequence[Article],
    repeats: int,
    work: Path,
) -> dict[str, Any]:
    """The figures of `size`, with its index under `work`: `embedder` is the real model (for
    queries and for the articles added one at a time, `additions`)."""
    directory = IndexDirectory(work / "index")
    cache = EmbeddingCache(work / "embeddings.sqlite", embedder.model_id)
    reader = load_reader(settings) if size.real_vectors else None
    figures: dict[str, Any] = {"label": size.label, "real_vectors": size.real_vectors}

    def build() -> Snapshot:
        snapshot = build_snapshot(
            size.embedder,
            settings.chunk_size,
            settings.chunk_overlap,
            keep={},
            add=size.articles,
            progress=lambda message: tqdm.write(message),
            reader=reader,
            cache=cache,
        )
        directory.publish(snapshot)
        return snapshot

    started = time.perf_counter()
    snapshot = build()
    ingest = time.perf_counter() - started
    passages = len(snapshot.passages)
    figures |= {
        "articles": len(snapshot.articles),
        "passages": passages,
        "sentences": snapshot.manifest.sentences,
        "ingest_s": round(ingest, 2),
        "ingest_passages_per_s": round(passages / ingest, 1),
    }
    if size.real_vectors:
        texts = embedded_texts(snapshot, with_titles=reader is not None)
        bare = batch_encoding_seconds(size.embedder, texts)
        figures |= {
            "texts_embedded": len(texts),
            "bare_encoding_s": round(bare, 2),
            "bare_encoding_texts_per_s": round(len(texts) / bare, 1),
            "ingest_over_encode": round(bare / ingest, 3),
            "reindex_s": round(seconds(build), 2),
        }
    figures["recall_at_10"] = round(recall_at_10(snapshot, cache, embedder, questions), 4)
    served = ServedIndex(
        directory,
        lambda s: make_answerer(settings, s, embedder),
        snapshot,
        directory.current(),
    )
    library = Library(served, embedder, reader=reader, cache=cache)
    figures["add_one_s"] = round(median_seconds(lambda i: library.put([additions[i]]), repeats), 3)
    figures["delete_one_s"] = round(
        median_seconds(lambda i: library.delete(additions[i].doc_id), repeats), 3
    )
    took = per_question_ms(served.answerer.ask, questions, repeats, "In-process search")
    figures["search_in_process_ms"] = tail(took)
    http = serve_and_query(
        work,
        questions,
        repeats,
        {"DEPECHE_MODEL": settings.model, "DEPECHE_CACHE_DIR": str(settings.cache_dir)},
    )
    figures |= {
        "search_http_ms": tail(http.search_ms),
        "startup_s": round(http.startup_s, 2),
        "server_peak_rss_mb": round(http.peak_rss_mb, 1),
        "segments": len(served.snapshot.segments),
        "optimize_s": round(seconds(lambda: directory.publish(served.snapshot.optimized())), 2),
    }
    return figures


def embedded_texts(snapshot: Snapshot, with_titles: bool) -> list[str]:
    """The distinct texts a build of `snapshot` embeds: passages, sentences and (for the
    reader) titles."""
    texts = {p.text for p in snapshot.passages.values()}
    for doc_id, table in snapshot.sentences.items():
        text = snapshot.articles[doc_id].text
        texts |= {text[int(s) : int(e)] for s, e in table.spans}
    if with_titles:
        texts |= {a.title for a in snapshot.articles.values()}
    return sorted(texts)
