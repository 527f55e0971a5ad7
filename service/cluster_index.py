"""`depeche index --ray ADDRESS PATHS…`: the articles' chunking and embedding run on a Ray
cluster (index/ray_ingest.py), then the index is built and published exactly as `depeche
index` does it, by the same function, with the cluster's vectors in place of the model."""

import logging
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from corpus import Article, builtin_articles, read_paths
from index.directory import IndexDirectory
from index.embedding import Embedder
from index.ray_ingest import ClusterJob, Projected
from index.snapshot import Snapshot, reusable_articles
from service.library import Change
from service.runtime import index_articles, load_embedder, load_reader
from service.settings import Settings

log = logging.getLogger("depeche.index")


def index_on_ray(
    settings: Settings,
    address: str,
    paths: Sequence[Path] = (),
    replace: bool = False,
    make_embedder: Callable[[str], Embedder] | None = None,
) -> Change:
    """`index_paths` with the embedding on the Ray cluster at `address`; each actor makes its
    model with `make_embedder(device)` (by default the configured model)."""
    articles: list[Article] = read_paths(paths) if paths else builtin_articles()
    reader = load_reader(settings)
    if make_embedder is None:
        make_embedder = partial(_embedder_on, settings)
    job = ClusterJob(
        address,
        make_embedder,
        settings.model,
        reader,
        settings.chunk_size,
        settings.chunk_overlap,
        settings.ray_actors,
    )
    live = _live(settings)
    todo = _to_embed(settings, live, articles, replace, reader.id if reader else None)
    log.info("Embedding %d articles on the Ray cluster at %s", len(todo), address)
    vectors = job.encode(todo, live.manifest.dimension if live else None)
    projection = Projected(reader.id, reader.dimension) if reader else None
    return index_articles(settings, vectors, articles, replace, projection)


def _embedder_on(settings: Settings, device: str) -> Embedder:
    return load_embedder(settings.model_copy(update={"device": device}))


def _to_embed(
    settings: Settings,
    live: Snapshot | None,
    articles: list[Article],
    replace: bool,
    reader: str | None,
) -> list[Article]:
    """The articles whose vectors the build cannot take from the `live` index: what
    `build_snapshot` will ask the embedder for."""
    kept = live.articles if live is not None and not replace else {}
    wanted = dict(kept) | {a.doc_id: a for a in articles}
    reused = reusable_articles(
        live, wanted, settings.model, settings.chunk_size, settings.chunk_overlap, reader
    )
    return [a for doc_id, a in sorted(wanted.items()) if doc_id not in reused]


def _live(settings: Settings) -> Snapshot | None:
    try:
        return IndexDirectory(settings.index_dir).load(settings.model)
    except Exception as error:  # missing or unusable: everything is embedded afresh
        log.info("Not reusing the existing index: %s", error)
        return None
