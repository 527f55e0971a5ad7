"""Queries during writes: thousands of questions from several threads while another thread adds,
replaces and deletes articles; no errors, and every answer is explained by one generation.
And writers exclude each other: a second one waits or is refused, never interleaves.

How a mix would be caught: every write replaces the four "rotating" articles together with a
new version (the version is in their titles and texts), adds one article and deletes another,
so consecutive generations differ. Every generation served is recorded (by wrapping `swap`);
a response passes only if one recorded generation holds every article it cites, with the
cited title and with `text[start:end]` equal to the quoted text. A response assembled from
two generations would cite two versions, or a deleted article next to a newer one, and fail.
"""

import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from corpus import Article
from index.directory import IndexDirectory, WriterBusyError
from index.snapshot import Snapshot
from service.answers import Answer
from service.library import Library
from service.runtime import make_answerer
from service.served import ServedIndex
from tests.fakes import HashingEmbedder
from tests.harness import AUTH, client_for, fake_settings, publish, serve_published

ROOT = Path(__file__).parent.parent
ROTATING = 4
QUESTIONS = [
    "rédacteur rotatif version de la brève tournante",
    "brève supplémentaire marché rotatif",
    "qui a remplacé Mira Murati ?",
    "Emmett Shear nommé PDG",
    "Sam Altman licencié par le conseil d'administration",
]

Cited = tuple[str, str, int, int, str]  # doc_id, title, start, end, quoted text


def rotating(version: int) -> list[Article]:
    return [
        Article(
            f"tournant-{i}",
            f"Tournant {i} version {version}",
            f"Dépêche tournante {i}, version v{version}x. Le rédacteur rotatif publie la "
            f"version v{version}x de la brève tournante numéro {i}.",
            source="Rotation",
        )
        for i in range(ROTATING)
    ]


def extra(number: int) -> Article:
    return Article(
        f"extra-{number}",
        f"Extra {number}",
        f"Brève supplémentaire numéro {number} sur le marché rotatif des dépêches.",
        source="Rotation",
    )


class Recorder:
    """Every snapshot the served index serves, in order (the first one included)."""

    def __init__(self, served: ServedIndex, monkeypatch: pytest.MonkeyPatch) -> None:
        self.generations: list[dict[str, Article]] = [dict(served.snapshot.articles)]
        swap = served.swap

        def recording_swap(snapshot: Snapshot, generation: Path) -> None:
            self.generations.append(dict(snapshot.articles))
            swap(snapshot, generation)

        monkeypatch.setattr(served, "swap", recording_swap)

    def explaining(self, cited: list[Cited]) -> int | None:
        """The first generation that holds every cited article, title and text, if any."""
        for number, articles in enumerate(self.generations):
            if all(
                doc_id in articles
                and articles[doc_id].title == title
                and articles[doc_id].text[start:end] == text
                for doc_id, title, start, end, text in cited
            ):
                return number
        return None


def cited_in_answer(answer: Answer) -> list[Cited]:
    quoted = [(p.citation, p.text) for p in answer.passages]
    if answer.answer:
        quoted.append((answer.answer.citation, answer.answer.text))
    return [(c.doc_id, c.title, c.start, c.end, text) for c, text in quoted]


def cited_in_json(body: dict[str, Any]) -> list[Cited]:
    quoted = [(p["citation"], p["text"]) for p in body["passages"]]
    if body["answer"]:
        quoted.append((body["answer"]["citation"], body["answer"]["text"]))
    return [(c["doc_id"], c["title"], c["start"], c["end"], text) for c, text in quoted]


def keep_writing(stop: threading.Event, library: Library, errors: list[BaseException]) -> None:
    """Replace the rotating articles, add one, delete the previous one; again until stopped."""
    version = 0
    try:
        while not stop.is_set():
            version += 1
            library.put(rotating(version))
            library.put([extra(version)])
            if version > 1:
                library.delete(extra(version - 1).doc_id)
    except BaseException as error:
        errors.append(error)


HANG_SECONDS = 600  # only a guard against a hang: the threads end when their work is done


def run_threads(targets: Iterable[Callable[[], None]]) -> None:
    """Run `targets` in threads and wait for all of them to end."""
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + HANG_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        assert not thread.is_alive(), "a thread hung"


@pytest.fixture
def library(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> Iterator[Library]:
    settings = fake_settings(tmp_path)
    first = fake_snapshot.updated(fake_embedder, add=rotating(0))
    library = serve_published(settings, first, fake_embedder).library
    assert library is not None
    yield library


def test_thousands_of_queries_during_writes_each_see_one_generation(
    library: Library, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(library.served, monkeypatch)
    threads, per_thread = 4, 550
    answers: list[list[Cited]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask_many(offset: int) -> None:
        """`per_thread` questions, and more until the writer has published a dozen times."""
        try:
            i = 0
            while (i < per_thread or len(recorder.generations) < 13) and not errors:
                question = QUESTIONS[(offset + i) % len(QUESTIONS)]
                answers.append(cited_in_answer(library.served.answerer.ask(question, k=6)))
                i += 1
        except BaseException as error:
            errors.append(error)

    writer = threading.Thread(target=keep_writing, args=(stop, library, errors))
    writer.start()
    started = time.monotonic()
    try:
        run_threads([partial(ask_many, offset) for offset in range(threads)])
    finally:
        stop.set()
        writer.join(HANG_SECONDS)
    elapsed = time.monotonic() - started

    assert not errors, errors
    assert len(answers) >= threads * per_thread
    seen = [recorder.explaining(cited) for cited in answers]
    mixed = [cited for cited, number in zip(answers, seen, strict=True) if number is None]
    assert not mixed, f"{len(mixed)} answers match no single generation, e.g. {mixed[0]}"
    distinct = len(set(seen))
    with capsys.disabled():
        print(
            f"\nconcurrency: {len(answers)} queries from {threads} threads in {elapsed:.1f} s "
            f"during {len(recorder.generations) - 1} publishes; answers came from {distinct} "
            "generations, each answer from exactly one"
        )
    assert len(recorder.generations) > 10 and distinct > 5, "the writes did not overlap the reads"


def test_queries_over_http_during_writes_each_see_one_generation(
    tmp_path: Path,
    fake_snapshot: Snapshot,
    fake_embedder: HashingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = fake_settings(tmp_path)
    publish(settings, fake_snapshot.updated(fake_embedder, add=rotating(0)))
    bodies: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    with client_for(settings) as client:
        library = client.app.state.service.library  # type: ignore[attr-defined]
        recorder = Recorder(library.served, monkeypatch)

        def ask_many(offset: int) -> None:
            try:
                for i in range(100):
                    query = {"query": QUESTIONS[(offset + i) % len(QUESTIONS)], "k": 6}
                    response = client.post("/search", json=query)
                    assert response.status_code == 200, response.text
                    bodies.append(response.json())
            except BaseException as error:
                errors.append(error)

        writer = threading.Thread(target=keep_writing, args=(stop, library, errors))
        writer.start()
        try:
            run_threads([partial(ask_many, offset) for offset in range(3)])
        finally:
            stop.set()
            writer.join(HANG_SECONDS)

    assert not errors, errors
    assert len(bodies) == 300
    seen = [recorder.explaining(cited_in_json(body)) for body in bodies]
    assert None not in seen
    assert len(set(seen)) > 2


def test_two_libraries_writing_at_once_lose_nothing(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    """Two writers (as two services would) on one directory: each write starts from the
    newest published state under the lock, so neither overwrites the other's articles."""
    settings = fake_settings(tmp_path)
    live = publish(settings, fake_snapshot)
    libraries = [
        Library(
            ServedIndex(
                IndexDirectory(settings.index_dir),
                lambda s: make_answerer(settings, s, fake_embedder),
                fake_snapshot,
                live,
            ),
            fake_embedder,
        )
        for _ in range(2)
    ]
    errors: list[BaseException] = []
    generations: list[str | None] = []

    def add(library: Library, name: str) -> None:
        try:
            for i in range(8):
                article = Article(f"{name}-{i}", name, f"Dépêche {i} du rédacteur {name}.")
                generations.append(library.put([article]).generation)
        except BaseException as error:
            errors.append(error)

    run_threads([lambda: add(libraries[0], "alpha"), lambda: add(libraries[1], "beta")])
    assert not errors, errors
    expected = set(fake_snapshot.articles) | {
        f"{n}-{i}" for n in ("alpha", "beta") for i in range(8)
    }
    assert set(IndexDirectory(settings.index_dir).load("fake-hashing").articles) == expected
    assert len(set(generations)) == 16, "two writes published the same generation"


HOLD_THE_LOCK = """
import sys
from pathlib import Path
from index.directory import IndexDirectory
with IndexDirectory(Path(sys.argv[1])).writer_lock():
    print("locked", flush=True)
    sys.stdin.read()
"""


class LockHolder:
    """Another process holding the writer lock (as `depeche index` would) until released."""

    def __init__(self, index_dir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD_THE_LOCK, str(index_dir)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], HANG_SECONDS)
        assert ready and self.process.stdout.readline().strip() == "locked"

    def release(self) -> float:
        assert self.process.stdin is not None
        released = time.monotonic()
        self.process.stdin.close()
        self.process.wait(timeout=HANG_SECONDS)
        return released


def test_a_second_writer_is_refused_or_waits_while_another_process_holds_the_lock(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    settings = fake_settings(tmp_path)
    live = publish(settings, fake_snapshot)
    directory = IndexDirectory(settings.index_dir)
    served = ServedIndex(
        directory, lambda s: make_answerer(settings, s, fake_embedder), fake_snapshot, live
    )
    article = Article("attente", "Attente", "Un article qui attend son tour.")
    holder = LockHolder(settings.index_dir)
    try:
        impatient = Library(served, fake_embedder, lock_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(WriterBusyError, match="another writer"):
            impatient.put([article])
        assert time.monotonic() - started < 5
        assert directory.current() == live and served.snapshot is fake_snapshot

        patient = Library(served, fake_embedder, lock_timeout=30)
        finished: list[float] = []
        waiting = threading.Thread(target=lambda: finished.append(_put(patient, article)))
        waiting.start()
        time.sleep(0.5)
        assert not finished, "the second writer did not wait for the lock"
    finally:
        released = holder.release()
    waiting.join(HANG_SECONDS)
    assert finished and finished[0] >= released
    assert "attente" in directory.load("fake-hashing").articles


def _put(library: Library, article: Article) -> float:
    library.put([article])
    return time.monotonic()


def test_a_write_over_http_gets_409_while_another_process_holds_the_lock(
    tmp_path: Path, fake_snapshot: Snapshot
) -> None:
    settings = fake_settings(tmp_path)
    publish(settings, fake_snapshot)
    body = {"doc_id": "bloque", "text": "Un article refusé tant que le verrou est tenu."}
    with client_for(settings) as client:
        client.app.state.service.library.lock_timeout = 0.3  # type: ignore[attr-defined]
        before = client.get("/healthz").json()
        holder = LockHolder(settings.index_dir)
        try:
            response = client.post("/documents", json=body, headers=AUTH)
        finally:
            holder.release()
        assert response.status_code == 409
        assert "another writer" in response.json()["message"] and response.headers["retry-after"]
        assert client.get("/healthz").json() == before
        assert client.post("/documents", json=body, headers=AUTH).status_code == 201
