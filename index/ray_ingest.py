"""Chunking and embedding on a Ray cluster (`depeche index --ray`).

One Ray Data job over the articles: `map_batches` on a pool of actors, each holding one
embedding model, chunks every article as a local build does (index/chunking.py), embeds its
passages, its sentences and its title, and projects the sentences' token vectors for the
reader. The driver gathers the vectors by text into `Precomputed`, an `Embedder` that
`build_snapshot` then uses in place of the model, so that the snapshot, its manifest and its
publication are exactly those of a local build. A batch re-run after a lost node yields the
same texts with the same vectors, which the gathering collapses: nothing is counted twice.

Ray is imported here only, when a job runs (`pip install -e '.[scale]'`).
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from corpus import Article
from index.chunking import chunk_article, make_splitter
from index.embedding import Embedder, EmbeddingModelError, TokenProjection, stay_offline
from index.ingest import embed_texts
from index.sentences import sentence_spans

if TYPE_CHECKING:
    import ray.data

log = logging.getLogger("depeche.ray")
T = TypeVar("T")

PLAIN, WITH_TOKENS = 0, 1  # which embedding method gave a row's vector
ARTICLES_PER_BATCH = 8
REPORT_SECONDS = 5.0


class ClusterBuildError(RuntimeError):
    """The cluster's results do not cover what the build needs; the message says why."""


@dataclass
class Projected:
    """A reader's identity for `build_snapshot` when the token vectors arrive already
    projected (by the cluster's actors)."""

    id: str
    dimension: int

    def project(self, tokens: np.ndarray) -> np.ndarray:
        return tokens


class Precomputed:
    """An `Embedder` answering from the vectors the cluster computed, by text."""

    def __init__(
        self,
        model_id: str,
        dimension: int,
        plain: dict[str, np.ndarray],
        with_tokens: dict[str, tuple[np.ndarray, np.ndarray]],
    ) -> None:
        self.model_id, self.dimension = model_id, dimension
        self._plain, self._with_tokens = plain, with_tokens

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        rows = [self._found(self._plain, text) for text in texts]
        return np.vstack(rows) if rows else np.empty((0, self.dimension), dtype=np.float32)

    def embed_passages_with_tokens(
        self, texts: Sequence[str], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        found = [self._found(self._with_tokens, text) for text in texts]
        if not found:
            return np.empty((0, self.dimension), dtype=np.float32), []
        return np.vstack([v for v, _ in found]), [t for _, t in found]

    def embed_query(self, text: str) -> np.ndarray:
        raise ClusterBuildError("a cluster build embeds passages only")

    def _found(self, table: Mapping[str, T], text: str) -> T:
        try:
            return table[text]
        except KeyError:
            raise ClusterBuildError(
                "a text to index was not embedded by the cluster: the index changed during the "
                "distributed build; run it again"
            ) from None


class Encoder:
    """The Ray actor: one model, loaded once, on `device` if it can run there, else on the
    CPU; a batch of articles in, one row per text out."""

    def __init__(
        self,
        make_embedder: Callable[[str], Embedder],
        reader: TokenProjection | None,
        chunk_size: int,
        chunk_overlap: int,
        device: str = "cpu",
    ) -> None:
        stay_offline()
        try:
            self.embedder = make_embedder(device)
        except EmbeddingModelError as error:
            if device == "cpu":
                raise
            log.warning("The actor's model runs on the CPU: %s", error)
            self.embedder = make_embedder("cpu")
        tokens = hasattr(self.embedder, "embed_passages_with_tokens")
        self.reader = reader if tokens else None
        self.splitter = make_splitter(chunk_size, chunk_overlap)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        articles = [
            Article(str(d), str(t), str(x))
            for d, t, x in zip(batch["doc_id"], batch["title"], batch["text"], strict=True)
        ]
        passages = [p.text for a in articles for p in chunk_article(a, self.splitter)]
        sentences = [a.text[s:e] for a in articles for s, e in sentence_spans(a.text)]
        # as build_snapshot embeds them: titles and token vectors only for a reader
        titled = sentences + [a.title for a in articles] * (self.reader is not None)
        plain, _ = embed_texts(self.embedder, passages)
        vectors, tokens = embed_texts(self.embedder, titled, reader=self.reader)
        kind = PLAIN if self.reader is None else WITH_TOKENS
        return _rows(
            [PLAIN] * len(passages) + [kind] * len(titled),
            passages + titled,
            np.vstack([plain, vectors]),
            [b""] * len(passages) + [t.astype(np.float16).tobytes() for t in tokens],
        )


def _rows(
    kinds: list[int], texts: list[str], vectors: np.ndarray, tokens: list[bytes]
) -> dict[str, np.ndarray]:
    return {
        "kind": np.array(kinds, dtype=np.int8),
        "text": np.array(texts, dtype=object),
        "vector": np.asarray(vectors, dtype=np.float32),
        "tokens": np.array(tokens, dtype=object),
    }


@dataclass(frozen=True)
class ClusterJob:
    """Where and how to embed: the cluster's address, how each actor makes its model, the
    reader to project tokens for (None: none), the chunking, and how many actors."""

    address: str
    make_embedder: Callable[[str], Embedder]
    model_id: str
    reader: TokenProjection | None
    chunk_size: int
    chunk_overlap: int
    actors: int = 2

    def encode(self, articles: Iterable[Article], dimension: int | None = None) -> Precomputed:
        """Run the job over `articles` and gather their vectors. `dimension` is the model's
        if known (from the live index): the results must have it."""
        import ray

        rows = [{"doc_id": a.doc_id, "title": a.title, "text": a.text} for a in articles]
        plain: dict[str, np.ndarray] = {}
        with_tokens: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if rows:
            ray.init(address=self.address, logging_level=logging.WARNING, log_to_driver=False)
            try:
                ray.data.DataContext.get_current().enable_progress_bars = False
                resources, device = actor_resources(ray.cluster_resources(), self.actors)
                log.info("%d actors, each with %s", self.actors, resources)
                self._gather(ray.data.from_items(rows), plain, with_tokens, resources, device)
            finally:
                ray.shutdown()
        found = {v.size for v in [*plain.values(), *(v for v, _ in with_tokens.values())]}
        if dimension is not None:
            found.add(dimension)
        if len(found) != 1:
            raise ClusterBuildError(f"vector dimensions {sorted(found)}: the model changed?")
        return Precomputed(self.model_id, found.pop(), plain, with_tokens)

    def _gather(
        self,
        dataset: "ray.data.Dataset",
        plain: dict[str, np.ndarray],
        with_tokens: dict[str, tuple[np.ndarray, np.ndarray]],
        resources: dict[str, float],
        device: str,
    ) -> None:
        """Embed on the actor pool; log texts/s across the cluster as results arrive."""
        import ray.data

        width = self.reader.dimension if self.reader else 0
        encoded = dataset.map_batches(
            Encoder,
            fn_constructor_args=(
                self.make_embedder,
                self.reader,
                self.chunk_size,
                self.chunk_overlap,
                device,
            ),
            batch_size=ARTICLES_PER_BATCH,
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            **resources,
        )
        started = reported = time.monotonic()
        count = 0
        for batch in encoded.iter_batches(batch_format="numpy", prefetch_batches=1):
            for kind, text, vector, tokens in zip(
                batch["kind"], batch["text"], batch["vector"], batch["tokens"], strict=True
            ):
                if kind == PLAIN:
                    plain[str(text)] = vector
                else:
                    shape = (-1, width) if width else (0, 0)
                    with_tokens[str(text)] = (
                        vector,
                        np.frombuffer(tokens, np.float16).reshape(shape),
                    )
            count += len(batch["kind"])
            if time.monotonic() - reported > REPORT_SECONDS:
                reported = time.monotonic()
                rate = count / (reported - started)
                log.info("%d texts embedded, %.1f/s across the cluster", count, rate)
        elapsed = time.monotonic() - started
        log.info(
            "%d texts embedded in %.1f s: %.1f/s across the cluster",
            count,
            elapsed,
            count / max(elapsed, 1e-9),
        )


def actor_resources(cluster: Mapping[str, float], actors: int) -> tuple[dict[str, float], str]:
    """What each actor asks of the `cluster` (Ray's `cluster_resources()`), and where its model
    runs: a GPU each when there is one per actor, else a CPU each."""
    if cluster.get("GPU", 0) >= actors:
        return {"num_cpus": 1, "num_gpus": 1}, "cuda"
    return {"num_cpus": 1}, "cpu"
