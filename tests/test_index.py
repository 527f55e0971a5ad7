import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from corpus import Article
from index import manifest as manifest_module
from index.directory import IndexDirectory, IndexMissingError
from index.live import verify_ahead
from index.manifest import IndexCorruptError, IndexMismatchError
from index.matrix_file import MatrixFile
from index.query import Mode
from index.search import Searcher
from index.snapshot import Snapshot, build_snapshot
from service.ranking import rank_passages
from tests.fakes import HashingEmbedder

MURATI = "0e71460ec8a4328c"


def test_publish_and_load_round_trip(tmp_path: Path, fake_snapshot: Snapshot) -> None:
    directory = IndexDirectory(tmp_path)
    with pytest.raises(IndexMissingError, match="depeche index"):
        directory.load("fake-hashing")
    directory.publish(fake_snapshot)
    loaded = directory.load("fake-hashing")
    assert loaded.passages == fake_snapshot.passages
    assert loaded.articles == fake_snapshot.articles
    assert loaded.manifest.passages == len(loaded.passages) == len(loaded.vectors)
    some = len(loaded.rows) - 1  # rows, like passages, come in the same order
    assert np.allclose(loaded.vectors.vector(some), fake_snapshot.vectors.vector(some))
    assert loaded.rows.ids[some] == fake_snapshot.rows.ids[some]
    for doc_id, table in fake_snapshot.sentences.items():
        assert np.array_equal(loaded.sentences[doc_id].spans, table.spans)
        assert np.allclose(loaded.sentences[doc_id].vectors, table.vectors)


def test_sentence_vectors_are_read_from_disk_as_they_are_used(
    tmp_path: Path, fake_snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's load (not the publishing directory's own segments): no sentence
    vector is read at load; an article's are read from its segment's float16 matrix file,
    its rows only, when its table is asked for."""
    read: list[int] = []
    rows = MatrixFile.rows

    def counted(self: MatrixFile, first: int, last: int) -> np.ndarray:
        read.append(last - first)
        return rows(self, first, last)

    monkeypatch.setattr(MatrixFile, "rows", counted)
    IndexDirectory(tmp_path).publish(fake_snapshot)
    loaded = IndexDirectory(tmp_path).load("fake-hashing")
    assert read == []
    for doc_id, table in fake_snapshot.sentences.items():
        vectors = loaded.sentences[doc_id].vectors
        assert read[-1] == len(table.spans) and vectors.dtype == np.float16
        assert np.array_equal(vectors, table.vectors)


def test_rebuild_gives_the_same_ids(
    articles: list[Article], fake_embedder: HashingEmbedder
) -> None:
    first = build_snapshot(fake_embedder, 800, 150, keep={}, add=articles)
    second = build_snapshot(fake_embedder, 800, 150, keep={}, add=list(reversed(articles)))
    assert sorted(first.passages) == sorted(second.passages)
    assert first.manifest.corpus_fingerprint == second.manifest.corpus_fingerprint


def test_a_different_model_is_refused(tmp_path: Path, fake_snapshot: Snapshot) -> None:
    directory = IndexDirectory(tmp_path)
    directory.publish(fake_snapshot)
    with pytest.raises(IndexMismatchError, match="built with model 'fake-hashing'"):
        directory.load("multilingual-e5-small")


@pytest.mark.parametrize("name", ["vectors.faiss", "sentences.npy"])
def test_a_tampered_file_is_refused(tmp_path: Path, fake_snapshot: Snapshot, name: str) -> None:
    directory = IndexDirectory(tmp_path)
    directory.publish(fake_snapshot)
    (found,) = tmp_path.rglob(name)
    with found.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(IndexCorruptError, match="checksum"):
        directory.load("fake-hashing")


def test_an_index_checksummed_by_an_earlier_release_loads_and_is_still_verified(
    tmp_path: Path, fake_snapshot: Snapshot
) -> None:
    folder = IndexDirectory(tmp_path).publish(fake_snapshot)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert all(d.startswith("xxh3_128:") for d in manifest["checksums"].values())
    manifest["checksums"] = {  # SHA-256 in hex, as releases before xxh3 wrote them
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in manifest["checksums"]
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert (
        IndexDirectory(tmp_path).load("fake-hashing").articles.keys()
        == fake_snapshot.articles.keys()
    )
    with (folder / "sentences.npy").open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(IndexCorruptError, match="checksum"):
        IndexDirectory(tmp_path).load("fake-hashing")


def test_files_verified_ahead_are_not_hashed_again_and_a_tampered_one_is_still_refused(
    tmp_path: Path, fake_snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(IndexMissingError):
        IndexDirectory(tmp_path, verify_ahead(tmp_path).result()).load("fake-hashing")
    IndexDirectory(tmp_path).publish(fake_snapshot)
    hashed: list[Path] = []
    real = manifest_module.file_checksum

    def counted(path: Path, like: str = manifest_module.XXH3_PREFIX) -> str:
        hashed.append(path)
        return real(path, like)

    monkeypatch.setattr(manifest_module, "file_checksum", counted)
    checked = verify_ahead(tmp_path).result()
    assert hashed, "verifying ahead hashes the live generation's files"
    hashed.clear()
    loaded = IndexDirectory(tmp_path, checked).load("fake-hashing")
    assert loaded.articles.keys() == fake_snapshot.articles.keys()
    assert hashed == []
    (tampered,) = tmp_path.rglob("sentences.npy")
    with tampered.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\x00\x01\x02")
    checked = verify_ahead(tmp_path).result()
    hashed.clear()
    with pytest.raises(IndexCorruptError, match="checksum"):
        IndexDirectory(tmp_path, checked).load("fake-hashing")
    assert hashed == [tampered]  # only the file that did not match ahead was hashed again


def test_mismatched_counts_are_refused(tmp_path: Path, fake_snapshot: Snapshot) -> None:
    folder = IndexDirectory(tmp_path).publish(fake_snapshot)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["passages"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="the manifest says"):
        IndexDirectory(tmp_path).load("fake-hashing")


def test_deleting_a_document_removes_it_from_both_indexes(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    gone = {vid for vid, p in fake_snapshot.passages.items() if p.doc_id == MURATI}
    after = fake_snapshot.updated(fake_embedder, remove=[MURATI])

    assert MURATI not in after.articles and MURATI not in after.sentences
    assert len(after.vectors) == len(fake_snapshot.vectors) - len(gone)
    assert not gone & set(int(i) for i in after.lexical.ids)
    rows, _ = after.vectors.search(fake_embedder.embed_query("Emmett Shear"), len(after.vectors))
    assert len(rows) == len(after.vectors) and not gone & set(after.rows.ids[rows].tolist())
    searcher = Searcher(after, fake_embedder)
    for mode in Mode:
        hits = rank_passages(searcher, "Lilian Weng directrice de la sécurité", 50, mode)
        assert all(hit.passage.doc_id != MURATI for hit in hits)
    assert len(fake_snapshot.vectors) == sum(1 for _ in fake_snapshot.passages), (
        "old snapshot changed"
    )


def test_update_reuses_vectors_of_unchanged_articles(
    articles: list[Article], fake_snapshot: Snapshot
) -> None:
    counting = CountingEmbedder()
    changed = Article("extra", "Nouvel article", "Greg Brockman revient chez OpenAI.")
    after = fake_snapshot.updated(counting, add=[changed])
    assert counting.embedded == [changed.text, changed.text]
    assert set(after.passages) > set(fake_snapshot.passages)


def test_published_generations_are_pruned(tmp_path: Path, fake_snapshot: Snapshot) -> None:
    directory = IndexDirectory(tmp_path)
    for _ in range(4):
        directory.publish(fake_snapshot)
    (directory.generations / ".tmp-crashed").mkdir()
    last = directory.publish(fake_snapshot)
    remaining = sorted(p.name for p in directory.generations.iterdir())
    assert len(remaining) == 2 and last.name in remaining
    assert directory.current() == last


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed_passages(self, texts, progress=False):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return super().embed_passages(texts, progress)


def test_each_thread_stems_with_its_own_stemmer() -> None:
    """PyStemmer must not be called from two threads at once: one stemmer per thread."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from index.analysis import _stemmer, analyse

    together = threading.Barrier(4)  # four distinct threads, all alive at once

    def stemmers(_: int) -> tuple[object, object]:
        together.wait(timeout=30)
        return _stemmer(), _stemmer()

    with ThreadPoolExecutor(4) as pool:
        pairs = list(pool.map(stemmers, range(4)))
        results = list(pool.map(analyse, ["Les employés menacent de démissionner"] * 200))
    assert all(first is second for first, second in pairs)  # kept within a thread
    assert len({id(first) for first, _ in pairs}) == 4  # not shared between threads
    assert _stemmer() not in [first for first, _ in pairs]
    assert all(result == results[0] for result in results)


def test_a_build_with_progress_shows_each_long_step(capsys: pytest.CaptureFixture[str]) -> None:
    articles = [Article(f"a{i}", f"Titre {i}", "Le 3 mai 2024, une grève. " * 80) for i in range(3)]
    build_snapshot(HashingEmbedder(), 1000, 200, {}, articles)
    assert capsys.readouterr().err == ""
    snapshot = build_snapshot(HashingEmbedder(), 1000, 200, {}, articles, progress=print)
    shown = capsys.readouterr().err
    for step in ("Embedding", "Event dates", "BM25 analysis"):
        assert step in shown, step
    assert "3/3" in shown and f"{len(snapshot.passages)}/{len(snapshot.passages)}" in shown
