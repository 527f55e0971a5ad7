"""Embedding many texts at the encoder's speed: each distinct text once, the cached ones not
at all, the rest in batches sorted by length (little padding), each batch cached as soon as it
is done so that a crashed build resumes where it stopped."""

from collections.abc import Sequence

import numpy as np
from tqdm import tqdm

from index.embedding import Embedder, TokenEmbedder, TokenProjection
from index.embedding_cache import Embedded, EmbeddingCache

BATCH = 256  # texts per call to the model, and per cache transaction

NO_TOKENS = np.zeros((0, 0), dtype=np.float16)


def embed_texts(
    embedder: Embedder,
    texts: Sequence[str],
    cache: EmbeddingCache | None = None,
    reader: TokenProjection | None = None,
    progress: bool = False,
    dtype: type[np.floating] = np.float32,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The passage vectors of `texts` (as `dtype`, stacked in one step: a corpus's sentence
    vectors can be gigabytes) and, with a `reader` (the embedder must then give token vectors),
    each text's token vectors in the reader's space (else empty arrays). A progress bar shows
    the rate and the time left."""
    if cache is not None and reader is not None:
        cache = cache.for_reader(reader.id, reader.dimension)
    distinct = list(dict.fromkeys(texts))
    done: dict[str, Embedded] = {}
    if cache is not None:
        done = {distinct[i]: e for i, e in cache.get(distinct).items()}
    missing = sorted((t for t in distinct if t not in done), key=len)
    with tqdm(
        total=len(distinct),
        initial=len(done),
        desc="Embedding",
        unit="text",
        disable=not progress or not missing,
    ) as bar:
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            vectors, tokens = _embed(embedder, batch, reader)
            if cache is not None:
                cache.put(batch, vectors, tokens)
            done |= dict(zip(batch, zip(vectors, tokens, strict=True), strict=True))
            bar.update(len(batch))
    if not texts:
        return np.empty((0, embedder.dimension), dtype=dtype), []
    vectors = np.vstack([done[t][0] for t in texts], dtype=dtype)
    return vectors, [done[t][1] for t in texts]


def _embed(
    embedder: Embedder, texts: list[str], reader: TokenProjection | None
) -> tuple[np.ndarray, list[np.ndarray]]:
    if reader is None:
        return embedder.embed_passages(texts), [NO_TOKENS] * len(texts)
    token_embedder: TokenEmbedder = embedder  # type: ignore[assignment]
    vectors, raw = token_embedder.embed_passages_with_tokens(texts)
    return vectors, [reader.project(t) for t in raw]
