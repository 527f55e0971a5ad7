"""Crash safety of segments: a writer SIGKILLed at each step of `depeche index --optimize`, or
of a publish whose new segment makes the small ones merge, leaves the previous generation (or,
once CURRENT names it, the new one) live, verified by checksum, with the same articles."""

import subprocess
import sys
from pathlib import Path

import pytest

from index.directory import IndexDirectory
from index.manifest import Manifest
from index.merging import FACTOR
from index.snapshot import Snapshot
from service.settings import Settings
from tests.crash_writer import article
from tests.harness import fake_settings, open_fake_service
from tests.test_crash import HANG_SECONDS, Child

ROOT = Path(__file__).parent.parent
MURATI = "0e71460ec8a4328c"


def segmented(settings: Settings, snapshot: Snapshot, embedder: object, small: int) -> set[str]:
    """Publish `snapshot`, then `small` one-article updates and a deletion (tombstones in the
    base segment); the live doc_ids."""
    directory = IndexDirectory(settings.index_dir)
    directory.publish(snapshot)
    for number in range(small):
        snapshot = snapshot.updated(embedder, add=[article(9000 + number)])  # type: ignore[arg-type]
        directory.publish(snapshot)
    snapshot = snapshot.updated(embedder, remove=[MURATI])  # type: ignore[arg-type]
    directory.publish(snapshot)
    assert len(snapshot.segments) == small + 1 and snapshot.deleted
    return set(snapshot.articles)


def assert_serves(settings: Settings, docs: set[str], segments: int) -> Path:
    """The service opens the live generation, healthy and verified, with exactly `docs`."""
    directory = IndexDirectory(settings.index_dir)
    service = open_fake_service(settings)
    live = service.served.generation
    assert service.served.degraded is None and live == directory.current()
    assert live is not None
    Manifest.read(live).check_files(live)
    assert set(service.served.snapshot.articles) == docs
    assert len(service.served.snapshot.segments) == segments
    return live


def run_optimizer(settings: Settings, step: str | None) -> subprocess.Popen[str]:
    where = [step] if step else []
    return subprocess.Popen(
        [sys.executable, "-m", "tests.optimize_writer", str(settings.data_dir), *where],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("step", ["merge", "save", "fsync", "current", "prune"])
def test_a_kill_during_optimize_leaves_a_whole_generation_live(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: object, step: str
) -> None:
    settings = fake_settings(tmp_path)
    docs = segmented(settings, fake_snapshot, fake_embedder, small=3)
    before = IndexDirectory(settings.index_dir).current()

    child = run_optimizer(settings, step)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    assert child.stdout.readline().strip() == f"at {step}"  # it waits there for the kill
    child.kill()
    child.wait(timeout=HANG_SECONDS)

    live = assert_serves(settings, docs, 1 if step == "prune" else 4)
    assert (live == before) == (step != "prune")

    finished = run_optimizer(settings, None)
    out, _ = finished.communicate(timeout=HANG_SECONDS)
    assert finished.returncode == 0, out
    assert_serves(settings, docs, 1)
    # Killed after CURRENT named it, the merged generation is live: nothing left to merge.
    assert out.endswith("done None\n") == (step == "prune")
    leftovers = list(IndexDirectory(settings.index_dir).generations.iterdir())
    assert not any(p.name.startswith(".tmp-") for p in leftovers)


@pytest.mark.parametrize("step", ["build", "save", "fsync", "current"])
def test_a_kill_during_a_publish_that_merges_leaves_the_previous_generation_live(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: object, step: str
) -> None:
    """FACTOR - 1 small segments wait in the lowest tier: the next put merges them with its
    own; killed before CURRENT names it, the previous generation stays live, unmerged."""
    settings = fake_settings(tmp_path)
    docs = segmented(settings, fake_snapshot, fake_embedder, small=FACTOR - 1)
    before = IndexDirectory(settings.index_dir).current()

    child = Child(settings.index_dir, 0, (step, 1))
    child.wait_for("at")
    child.kill()
    assert child.acks == []

    assert assert_serves(settings, docs, FACTOR) == before
    child = Child(settings.index_dir, 0, ("build", 2))  # one put, then wait at the next
    child.wait_for("at")
    child.kill()
    assert [doc_id for doc_id, _ in child.acks] == [article(0).doc_id]
    new = article(0).doc_id
    merged = open_fake_service(settings).served.snapshot
    assert set(merged.articles) == docs | {new} and len(merged.segments) < FACTOR
