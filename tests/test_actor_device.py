"""Where a Ray actor's model runs: a GPU each when the cluster has one per actor, else a CPU;
an actor whose GPU its packages cannot use falls back to the CPU (index/ray_ingest.py)."""

import numpy as np
import pytest

from index.embedding import Embedder, EmbeddingModelError
from index.ray_ingest import Encoder, actor_resources
from tests.fakes import HashingEmbedder


@pytest.mark.parametrize(
    ("cluster", "actors", "expected"),
    [
        ({"CPU": 4.0}, 2, ({"num_cpus": 1}, "cpu")),
        ({"CPU": 4.0, "GPU": 1.0}, 2, ({"num_cpus": 1}, "cpu")),
        ({"CPU": 4.0, "GPU": 2.0}, 2, ({"num_cpus": 1, "num_gpus": 1}, "cuda")),
    ],
)
def test_each_actor_gets_a_gpu_only_when_there_is_one_for_each(
    cluster: dict[str, float], actors: int, expected: tuple[dict[str, float], str]
) -> None:
    assert actor_resources(cluster, actors) == expected


class DevicesAsked:
    """An embedder factory that records the devices asked and has no CUDA."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, device: str) -> Embedder:
        self.asked.append(device)
        if device == "cuda":
            raise EmbeddingModelError("device 'cuda' asked, but no CUDA here")
        return HashingEmbedder()


def test_an_actor_without_cuda_embeds_on_the_cpu() -> None:
    factory = DevicesAsked()
    encoder = Encoder(factory, None, 300, 50, device="cuda")
    assert factory.asked == ["cuda", "cpu"]
    rows = encoder(
        {"doc_id": np.array(["a"]), "title": np.array(["T"]), "text": np.array(["Un texte."])}
    )
    assert len(rows["text"]) >= 1 and rows["vector"].shape[1] == 64


def test_a_cpu_actor_that_cannot_load_its_model_fails() -> None:
    def broken(device: str) -> Embedder:
        raise EmbeddingModelError("no such model")

    with pytest.raises(EmbeddingModelError, match="no such model"):
        Encoder(broken, None, 300, 50, device="cpu")
