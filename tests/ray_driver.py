"""The driver of tests/test_cluster.py's raylet-kill test, run inside the head's namespace:

`python -m tests.ray_driver ADDRESS DATA_DIR MARKER WORKER_IP PATHS...` indexes PATHS on the
Ray cluster at ADDRESS with the fake embedder (`index_on_ray`, as `depeche index --ray` does)
and prints `published <generation> <passages>`. On the worker node (WORKER_IP), the embedder
writes MARKER after its first batch and then stalls on the next one, so that the test kills
the node's raylet while that batch is in flight, however busy the machine is.
"""

import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.embedding import Embedder
from service.cluster_index import index_on_ray
from service.settings import Settings
from tests.fakes import HashingEmbedder


class StallingEmbedder(HashingEmbedder):
    """The fake embedder; with a marker, it stalls once it has written it."""

    def __init__(self, marker: Path | None) -> None:
        super().__init__()
        self.marker = marker

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if self.marker is not None and self.marker.exists():
            threading.Event().wait()  # until the node is killed
        vectors = super().embed_passages(texts)
        if self.marker is not None:
            self.marker.write_text("first batch embedded on the worker node\n")
        return vectors


class StallOnWorker:
    """Makes each actor's embedder: stalling on the worker node, plain elsewhere."""

    def __init__(self, marker: Path, worker_ip: str) -> None:
        self.marker, self.worker_ip = marker, worker_ip

    def __call__(self, device: str) -> Embedder:
        import ray

        on_worker = ray.util.get_node_ip_address() == self.worker_ip
        return StallingEmbedder(self.marker if on_worker else None)


def main(argv: list[str]) -> int:
    address, data_dir, marker, worker_ip, *paths = argv
    settings = Settings(
        model="fake-hashing", data_dir=Path(data_dir), chunk_size=300, chunk_overlap=50
    )
    change = index_on_ray(
        settings,
        address,
        [Path(p) for p in paths],
        make_embedder=StallOnWorker(Path(marker), worker_ip),
    )
    print(f"published {change.generation} {change.passages}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
