"""Crash safety: a writer process is SIGKILLed at random points while it publishes, again and
again; after every kill the service opens the index as it would at start-up and must serve
the previous or the new generation, verified by checksum, with every acknowledged article."""

import os
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
from tests.crash_writer import article
from tests.harness import fake_settings, open_fake_service, publish

ROOT = Path(__file__).parent.parent
KILLS = 32
MIN_ACKNOWLEDGED = 30
BUDGET_SECONDS = 50
SEED = 20231122


class Writer:
    """The forking writer of tests/crash_writer.py, its output read line by line."""

    def __init__(self, index_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_writer", str(index_dir)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        assert self.next_line() == "warm"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def next_line(self, timeout: float = 20.0) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the writer said nothing for {timeout} s") from None

    def start(self, first: int) -> int:
        """Fork a writer adding crash-<first>, ...; returns its pid once it is publishing."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"write {first}\n")
        self.process.stdin.flush()
        pid, ready = None, False
        while pid is None or not ready:
            line = self.next_line()
            if line.startswith("pid "):
                pid = int(line.split()[1])
            else:
                assert line == "ready", line
                ready = True
        return pid

    def acknowledgements_until_exit(self, pid: int) -> tuple[list[tuple[str, str]], int]:
        """(doc_id, generation) acknowledged by the child, and the signal that ended it."""
        acks = []
        while True:
            line = self.next_line()
            kind, *rest = line.split()
            if kind == "ack":
                acks.append((rest[0], rest[1]))
            else:
                assert kind == "exit" and int(rest[0]) == pid, line
                return acks, int(rest[1])

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


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
    return "while building the next snapshot in memory (or between publishes)"


def test_sigkill_during_publishes_never_loses_acknowledged_articles(
    tmp_path: Path, fake_snapshot: Snapshot, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fake_settings(tmp_path)
    seeds = set(fake_snapshot.articles)
    served = publish(settings, fake_snapshot).name
    directory = IndexDirectory(settings.index_dir)
    rng = random.Random(SEED)
    acknowledged: set[str] = set()
    committed: set[str] = set()
    places: Counter[str] = Counter()
    kills = publishes = 0
    started = time.monotonic()
    writer = Writer(settings.index_dir)
    try:
        while kills < KILLS or len(acknowledged) < MIN_ACKNOWLEDGED:
            assert time.monotonic() - started < BUDGET_SECONDS, (kills, len(acknowledged))
            first = max((number_of(d) for d in committed), default=-1) + 1
            before = {p.name for p in directory.generations.iterdir()}

            pid = writer.start(first)
            spread = 0.6 if kills < KILLS else 2.0  # longer if too few publishes got through
            time.sleep(rng.uniform(0.0, spread))
            os.kill(pid, signal.SIGKILL)
            acks, died_of = writer.acknowledgements_until_exit(pid)
            assert died_of == signal.SIGKILL, f"the writer was not killed but ended with {died_of}"
            kills += 1
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
            places[where_it_died(directory, before, docs, in_flight)] += 1
            names = [previous_round, *(generation for _, generation in acks)]
            assert names == sorted(set(names)), "generation names do not sort in publish order"

            newest = max(docs, key=number_of, default=None)
            if newest is not None:
                marker = f"zq{number_of(newest)}x"
                top = service.served.answerer.ask(marker, k=1).passages[0].citation.doc_id
                assert top == newest
            served, committed = live.name, docs
    finally:
        writer.close()

    with capsys.disabled():
        print(f"\ncrash test: {kills} SIGKILLs, {publishes} acknowledged publishes", end="")
        print(f" ({len(acknowledged)} articles), {time.monotonic() - started:.1f} s; killed:")
        for place, count in places.most_common():
            print(f"  {count:3d} {place}")
    assert len(places) >= 3, "the kills did not land in varied places"

    # The leftovers of killed writes do not stop the next writer, which cleans them up.
    writer = Writer(settings.index_dir)
    try:
        pid = writer.start(max(number_of(d) for d in committed) + 1)
        first_ack = writer.next_line()
        os.kill(pid, signal.SIGKILL)
        writer.acknowledgements_until_exit(pid)
    finally:
        writer.close()
    assert first_ack.startswith("ack "), (
        f"a writer after the crashes could not publish: {first_ack}"
    )
    remaining = [p.name for p in directory.generations.iterdir() if p.name.startswith(".tmp-")]
    assert len(remaining) <= 1  # at most the write the final kill interrupted
