"""The encoder's floors: what the model alone costs, without any of depeche around it."""

import time
from collections.abc import Sequence

from tqdm import tqdm

from eval.bench.timing import per_question_ms
from index.embedding import Embedder


def query_encoding_ms(embedder: Embedder, questions: Sequence[str], repeats: int) -> list[float]:
    """Milliseconds to embed each question, `repeats` times over (after a warm-up)."""
    return per_question_ms(embedder.embed_query, questions, repeats, "Query encoding")


def batch_encoding_seconds(embedder: Embedder, texts: Sequence[str]) -> float:
    """Seconds the model takes to embed `texts` as passages, in batches sorted by length (its
    best case), with a progress bar."""
    ordered = sorted(set(texts), key=len)
    step = 256
    started = time.perf_counter()
    with tqdm(total=len(ordered), desc="Bare encoding", unit="text") as bar:
        for start in range(0, len(ordered), step):
            embedder.embed_passages(ordered[start : start + step])
            bar.update(min(step, len(ordered) - start))
    return time.perf_counter() - started
