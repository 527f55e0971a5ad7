"""The default model run by ONNX Runtime gives the vectors and token vectors torch gives."""

import numpy as np
import pytest

from index.e5_model import E5_MODEL_NAME
from index.embedding import Embedder, EmbeddingModelError, SentenceTransformerEmbedder
from index.onnx_embedding import ONNX_FILE, OnnxEmbedder
from service.runtime import load_embedder
from service.settings import Settings

pytestmark = pytest.mark.integration

TEXTS = [
    "Emmett Shear dirige OpenAI.",
    "Un.",
    "Le conseil d'administration d'OpenAI a nommé Emmett Shear directeur général par intérim "
    "dimanche soir, après deux jours de négociations avec Sam Altman et Microsoft. " * 3,
]


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    settings = Settings()
    return SentenceTransformerEmbedder(settings.model, settings.cache_dir)


def test_the_default_model_runs_on_onnx_unless_torch_is_asked(real_embedder: Embedder) -> None:
    assert isinstance(real_embedder, OnnxEmbedder)
    assert real_embedder.model_id == E5_MODEL_NAME and real_embedder.dimension == 384
    assert (Settings().cache_dir / E5_MODEL_NAME / ONNX_FILE).is_file()
    assert isinstance(load_embedder(Settings(encoder="torch")), SentenceTransformerEmbedder)


def test_onnx_vectors_and_token_vectors_are_torchs(
    real_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    vectors, tokens = real_embedder.embed_passages_with_tokens(TEXTS)
    expected, expected_tokens = torch_embedder.embed_passages_with_tokens(TEXTS)
    assert np.all(np.sum(vectors * expected, axis=1) > 0.9999)
    for mine, theirs in zip(tokens, expected_tokens, strict=True):
        assert mine.shape == theirs.shape
        assert np.allclose(mine, theirs, atol=1e-3)
    question = "qui a remplacé Mira Murati ?"
    assert (
        float(real_embedder.embed_query(question) @ torch_embedder.embed_query(question)) > 0.9999
    )
    assert np.allclose(real_embedder.embed_passages(TEXTS), vectors, atol=1e-6)


def test_a_build_on_more_threads_gives_the_vectors_questions_are_compared_with(
    real_embedder: OnnxEmbedder,
) -> None:
    indexer = load_embedder(Settings(), threads=2)
    vectors, tokens = indexer.embed_passages_with_tokens(TEXTS)
    expected, expected_tokens = real_embedder.embed_passages_with_tokens(TEXTS)
    assert np.allclose(vectors, expected, atol=1e-5)
    for mine, theirs in zip(tokens, expected_tokens, strict=True):
        assert np.allclose(mine, theirs, atol=1e-4)


def cuda_present() -> bool:
    import onnxruntime
    import torch

    onnx_cuda = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    return onnx_cuda or torch.cuda.is_available()


@pytest.mark.skipif(cuda_present(), reason="this machine has CUDA: the refusal cannot be seen")
@pytest.mark.parametrize("encoder", ["onnx", "torch"])
def test_a_cuda_device_without_cuda_is_refused_with_what_to_install(encoder: str) -> None:
    with pytest.raises(EmbeddingModelError, match="'cuda' asked, but"):
        load_embedder(Settings(encoder=encoder, device="cuda"))
