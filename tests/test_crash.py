"""Crash safety: a writer process is SIGKILLed at random points while it publishes, again and
again; after every kill the service opens the index as it would at start-up and must serve
the previous or the new generation, verified by checksum, with every acknowledged article."""

import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from index.directory import IndexDirectory
from index.manifest import Manifest
from index.snapshot import Snapshot
from tests.crash_writer import STEPS as STEP_HOOKS
from tests.crash_writer import article
from tests.harness import fake_settings, open_fake_service, publish

ROOT = Path(__file__).parent.parent
ROUNDS = 40
MIN_ACKNOWLEDGED = 30
HANG_SECONDS = 600.0  # only a guard against a hung writer: every wait is on its own signal
SEED = 20231122
STEPS = list(STEP_HOOKS)


class Child:
    """One writer process of tests/crash_writer.py, its output read line by line."""

    def __init__(self, index_dir: Path, first: int, stop: tuple[str, int] | None = None) -> None:
        where = [stop[0], str(stop[1])] if stop else []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_writer", str(index_dir), str(first), *where],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.acks: list[tuple[str, str]] = []
        threading.Thread(target=self._read, daemon=True).start()
        assert self._next_line() == "ready"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put("eof")  # the process is gone: nothing more will come

    def _next_line(self) -> str:
        try:
            return self.lines.get(timeout=HANG_SECONDS)
        except queue.Empty:
            raise AssertionError(f"the writer hung: nothing for {HANG_SECONDS} s") from None

    def wait_for(self, wanted: str) -> None:
        """Read the child's lines until one starts with `wanted` (`ack` or `at`)."""
        while True:
            kind, *rest = self._next_line().split()
            if kind == "ack":
                self.acks.append((rest[0], rest[1]))
            if kind == wanted:
                return
            assert kind == "ack", f"unexpected line from the writer: {kind} {rest}"

    def kill(self) -> int:
        """SIGKILL the child, then collect what it acknowledged before it died (everything
        up to the end of its output); returns the signal it died of."""
        self.process.kill()
        self.process.wait(timeout=HANG_SECONDS)
        while (line := self._next_line()) != "eof":
            kind, *rest = line.split()
            assert kind == "ack", line
            self.acks.append((rest[0], rest[1]))
        return -self.process.returncode


def schedule(rng: random.Random) -> list[tuple[int, tuple[str, int] | None, float]]:
    """Per round: acknowledgements to wait for, the step to stop at (every step in turn, on
    even rounds) or None, and a random delay before a kill that is not at a step."""
    rounds = []
    for number in range(ROUNDS):
        step = STEPS[(number // 2) % len(STEPS)] if number % 2 == 0 else None
        acks = rng.randint(0, 2)
        stop = (step, acks + 1) if step else None
        rounds.append((acks, stop, rng.uniform(0.0, 0.3)))
    return rounds


def live_articles(directory: IndexDirectory) -> set[str]:
    return set(directory.load("fake-hashing").articles)


def number_of(doc_id: str) -> int:
    return int(doc_id.removeprefix("crash-"))


def where_it_died(
    directory: IndexDirectory, before: set[str], docs: set[str], in_flight: str
) -> str:
    """Which step of a publish the kill interrupted, judged from what it left on disk."""
    live = directory.current()
    assert live is not None
    entries = {p.name for p in directory.generations.iterdir()} - before
    if in_flight in docs:
        return "after CURRENT was replaced, before the acknowledgement"
    orphans = [name for name in entries if name > live.name and not name.startswith(".")]
    if orphans:
        (orphan,) = orphans
        folder = directory.generations / orphan
        unpublished = Snapshot.load(folder, Manifest.read(folder))
        assert set(unpublished.articles) - set(live_articles(directory)) == {in_flight}
        return "after the generation was renamed into place, before CURRENT"
    if any(name.startswith(".tmp-") for name in entries):
        return "while writing or fsyncing the staging generation"
    return BUILDING


BUILDING = "while building the next snapshot in memory (or between publishes)"
PLACE_OF = {
    "build": BUILDING,
    "save": BUILDING,  # the staging folder does not exist yet
    "fsync": "while writing or fsyncing the staging generation",
    "current": "after the generation was renamed into place, before CURRENT",
    "prune": "after CURRENT was replaced, before the acknowledgement",
}


def test_sigkill_during_publishes_never_loses_acknowledged_articles(
    tmp_path: Path, fake_snapshot: Snapshot, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fake_settings(tmp_path)
    seeds = set(fake_snapshot.articles)
    served = publish(settings, fake_snapshot).name
    directory = IndexDirectory(settings.index_dir)
    acknowledged: set[str] = set()
    committed: set[str] = set()
    places: Counter[str] = Counter()
    publishes = 0
    started = time.monotonic()
    rounds = schedule(random.Random(SEED))
    for acks_first, stop, delay in rounds:
        first = max((number_of(d) for d in committed), default=-1) + 1
        before = {p.name for p in directory.generations.iterdir()}

        child = Child(settings.index_dir, first, stop)
        for _ in range(acks_first):
            child.wait_for("ack")
        if stop:
            child.wait_for("at")  # the child waits at that step
        else:
            time.sleep(delay)  # a kill at a random point, not a wait for anything
        died_of = child.kill()
        acks = child.acks
        assert died_of == signal.SIGKILL, f"the writer was not killed but ended with {died_of}"
        publishes += len(acks)
        acknowledged |= {doc_id for doc_id, _ in acks}

        # Start the service as after a crash: newest readable generation, checksums verified.
        service = open_fake_service(settings)
        assert service.served.degraded is None, service.served.degraded
        live = service.served.generation
        assert live is not None and live == directory.current()
        Manifest.read(live).check_files(live)
        docs = set(service.served.snapshot.articles) - seeds
        in_flight = article(first + len(acks)).doc_id
        previous, previous_round = (acks[-1][1] if acks else served), served
        expected = committed | {doc_id for doc_id, _ in acks}
        assert acknowledged <= docs, f"lost acknowledged articles: {acknowledged - docs}"
        if live.name == previous:
            assert docs == expected
        else:  # the publish in flight had made its generation live when it was killed
            assert live.name > previous
            assert docs == expected | {in_flight}
        place = where_it_died(directory, before, docs, in_flight)
        places[place] += 1
        if stop:
            assert place == PLACE_OF[stop[0]], (stop, place)
        names = [previous_round, *(generation for _, generation in acks)]
        assert names == sorted(set(names)), "generation names do not sort in publish order"

        newest = max(docs, key=number_of, default=None)
        if newest is not None:
            marker = f"zq{number_of(newest)}x"
            top = service.served.answerer.ask(marker, k=1).passages[0].citation.doc_id
            assert top == newest
        served, committed = live.name, docs

    with capsys.disabled():
        print(f"\ncrash test: {len(rounds)} SIGKILLs, {publishes} acknowledged publishes", end="")
        print(f" ({len(acknowledged)} articles), {time.monotonic() - started:.1f} s; killed:")
        for place, count in places.most_common():
            print(f"  {count:3d} {place}")
    assert len(acknowledged) >= MIN_ACKNOWLEDGED
    assert set(places) >= set(PLACE_OF.values()), "the kills did not land in every place"

    # The leftovers of killed writes do not stop the next writer, which cleans them up.
    child = Child(settings.index_dir, max(number_of(d) for d in committed) + 1)
    child.wait_for("ack")
    child.kill()
    remaining = [p.name for p in directory.generations.iterdir() if p.name.startswith(".tmp-")]
    assert len(remaining) <= 1  # at most the write the final kill interrupted
