"""Faults on disk: a write that fails during a publish leaves the old index live, loadable and
served, and is reported (507 over HTTP); an unreadable newest generation is refused at start-up,
the previous one is served and /healthz says degraded until a write succeeds."""

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient

from corpus import Article
from index.directory import IndexDirectory
from index.manifest import IndexCorruptError
from index.snapshot import Snapshot, build_snapshot
from tests.fakes import HashingEmbedder
from tests.harness import AUTH, client_for, fake_settings, open_fake_service, publish

NEW = {
    "doc_id": "depeche-nouvelle",
    "title": "Une nouvelle dépêche",
    "text": "Le conseil d'administration annonce le retour de xylophoniste Brockman à Paris.",
    "source": "Le Test",
    "published": "2023-11-23",
}
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def half_written(error: Exception) -> Callable[..., None]:
    """A save function that leaves a partial file at its path, then fails like a full disk."""

    def save(*args: Any) -> None:
        path = next(a for a in args if isinstance(a, Path))
        if path.suffix:
            path.write_bytes(b"partial")
        else:
            path.mkdir(parents=True, exist_ok=True)
            (path / "ids.npy").write_bytes(b"partial")
        raise error

    return save


FAILED_WRITES = {
    # SQLite reports a full disk as its own error, FAISS as a RuntimeError, numpy as OSError.
    "store": (
        "index.segment_files.write_store",
        sqlite3.OperationalError("database or disk is full"),
    ),
    "vectors": (
        "index.vectors.VectorIndex.save",
        RuntimeError("write error in vectors.faiss: 0 != 256000 (No space left on device)"),
    ),
    "lexical": ("index.lexical.LexicalIndex.save", ENOSPC),
    "fsync": ("index.directory._fsync_tree", OSError(errno.EIO, os.strerror(errno.EIO))),
    "CURRENT": ("index.directory._write_atomically", ENOSPC),
}


@pytest.fixture
def served(tmp_path: Path, fake_snapshot: Snapshot) -> Iterator[TestClient]:
    settings = fake_settings(tmp_path)
    publish(settings, fake_snapshot)
    with client_for(settings, raise_server_exceptions=False) as client:
        yield client


def assert_serves_only_the_old_index(
    client: TestClient, index_dir: Path, before: dict[str, Any], live: Path | None
) -> None:
    assert client.get("/healthz").json() == before
    search = client.post("/search", json={"query": "xylophoniste Brockman", "k": 5})
    assert search.status_code == 200
    assert all(p["citation"]["doc_id"] != NEW["doc_id"] for p in search.json()["passages"])
    assert client.get(f"/documents/{NEW['doc_id']}").status_code == 404
    directory = IndexDirectory(index_dir)
    assert directory.current() == live
    reloaded = directory.load("fake-hashing")
    assert reloaded.manifest.corpus_fingerprint == before["corpus_fingerprint"]


@pytest.mark.parametrize("step", FAILED_WRITES)
def test_a_failed_write_gets_507_and_the_old_index_keeps_serving(
    served: TestClient, tmp_path: Path, step: str
) -> None:
    target, error = FAILED_WRITES[step]
    index_dir = tmp_path / "index"
    before = served.get("/healthz").json()
    live = IndexDirectory(index_dir).current()
    folders = sorted((index_dir / "generations").iterdir())
    effect = half_written(error) if step in ("store", "vectors", "lexical") else error
    with mock.patch(target, side_effect=effect):
        response = served.post("/documents", json=NEW, headers=AUTH)

    if step == "fsync":  # an I/O error, not a full or read-only disk: a 500 to report
        assert response.status_code == 500, response.text
        assert response.json()["request_id"]
    else:
        assert response.status_code == 507, response.text
        message = response.json()["message"]
        assert "nothing changed" in message and str(error) in message
    assert_serves_only_the_old_index(served, index_dir, before, live)
    assert sorted((index_dir / "generations").iterdir()) == folders, "the failed write left files"

    retry = served.post("/documents", json=NEW, headers=AUTH)
    assert retry.status_code == 201 and retry.json()["added"] == [NEW["doc_id"]]
    top = served.post("/search", json={"query": "xylophoniste Brockman", "k": 1}).json()
    assert top["passages"][0]["citation"]["doc_id"] == NEW["doc_id"]


def test_the_library_raises_an_os_error_and_keeps_the_old_snapshot(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    settings = fake_settings(tmp_path)
    live = publish(settings, fake_snapshot)
    service = open_fake_service(settings)
    served, library = service.served, service.library
    assert library is not None
    old = served.snapshot
    with (
        mock.patch(
            "index.segment_files.write_store", side_effect=sqlite3.OperationalError("disk full")
        ),
        pytest.raises(OSError, match="disk full"),
    ):
        library.put([Article("a", "A", "Un texte tout neuf.")])
    assert served.snapshot is old and served.generation == live == library.directory.current()
    assert served.degraded is None


def mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


def test_a_full_disk_gets_507_and_a_write_succeeds_once_space_is_freed(
    tmp_path: Path, fake_snapshot: Snapshot
) -> None:
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "1m")
    try:
        settings = fake_settings(disk)
        live = publish(settings, fake_snapshot)
        free = shutil.disk_usage(disk).free
        filler = disk / "filler"
        # One page left: less than the new segment's store alone (a write costs what it
        # changes, so half a generation's room, as before segments, would be enough).
        filler.write_bytes(b"\0" * (free - 4096))
        with client_for(settings) as client:
            before = client.get("/healthz").json()
            response = client.post("/documents", json=NEW, headers=AUTH)
            assert response.status_code == 507, response.text
            message = response.json()["message"]
            assert "disk is full" in message or "No space left" in message
            assert_serves_only_the_old_index(client, settings.index_dir, before, live)
            assert not list((settings.index_dir / "generations").glob(".tmp-*"))

            filler.unlink()
            retry = client.post("/documents", json=NEW, headers=AUTH)
            assert retry.status_code == 201, retry.text
            assert client.get(f"/documents/{NEW['doc_id']}").status_code == 200
    finally:
        subprocess.run(["umount", "-l", str(disk)], timeout=10, check=False)


def corrupt_truncate_vectors(folder: Path) -> str:
    path = folder / "vectors.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return "does not match its checksum"


def corrupt_flip_a_byte_of_the_store(folder: Path) -> str:
    with (folder / "store.sqlite").open("r+b") as handle:
        handle.seek(2000)
        byte = handle.read(1)
        handle.seek(2000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    return "does not match its checksum"


def corrupt_truncate_the_manifest(folder: Path) -> str:
    path = folder / "manifest.json"
    path.write_text(path.read_text()[:100])
    return "not a valid manifest"


def corrupt_counts(folder: Path) -> str:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["articles"] += 1
    path.write_text(json.dumps(manifest))
    return "the manifest says"


def corrupt_delete_a_file(folder: Path) -> str:
    (folder / "lexical" / "ids.npy").unlink()
    return "missing"


def corrupt_delete_the_generation(folder: Path) -> str:
    shutil.rmtree(folder)
    return "missing"


@pytest.mark.parametrize(
    "corrupt",
    [
        corrupt_truncate_vectors,
        corrupt_flip_a_byte_of_the_store,
        corrupt_truncate_the_manifest,
        corrupt_counts,
        corrupt_delete_a_file,
        corrupt_delete_the_generation,
    ],
)
def test_an_unreadable_newest_index_is_refused_and_the_previous_one_served(
    tmp_path: Path,
    fake_snapshot: Snapshot,
    fake_embedder: HashingEmbedder,
    corrupt: Callable[[Path], str],
) -> None:
    settings = fake_settings(tmp_path)
    previous = publish(settings, fake_snapshot)
    lost = Article("perdu", "Perdu", "Un article du dernier index, que le disque a abîmé.")
    newest = publish(settings, fake_snapshot.updated(fake_embedder, add=[lost]))
    problem = corrupt(newest)

    with client_for(settings) as client:
        health = client.get("/healthz").json()
        assert health["status"] == "degraded"
        assert problem in health["reason"] and previous.name in health["reason"]
        assert health["corpus_fingerprint"] == fake_snapshot.manifest.corpus_fingerprint
        assert client.get("/documents/perdu").status_code == 404
        search = client.post("/search", json={"query": "Emmett Shear", "k": 3})
        assert search.status_code == 200 and search.json()["passages"]

        added = client.post("/documents", json=NEW, headers=AUTH)
        assert added.status_code == 201, added.text
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and health["reason"] is None
        assert health["articles"] == len(fake_snapshot.articles) + 1

    restarted = open_fake_service(settings)
    assert restarted.served.degraded is None
    assert NEW["doc_id"] in restarted.served.snapshot.articles


def test_no_readable_generation_refuses_to_start(tmp_path: Path, fake_snapshot: Snapshot) -> None:
    settings = fake_settings(tmp_path)
    for _ in range(2):
        corrupt_truncate_vectors(publish(settings, fake_snapshot))
    with pytest.raises(IndexCorruptError, match="no readable index generation"):
        open_fake_service(settings)


def test_generation_names_sort_in_publish_order(
    tmp_path: Path, fake_embedder: HashingEmbedder
) -> None:
    """The fallback and the pruning take the newest generations by name: names must sort in
    publish order, also within one second (runs past a second boundary of every clock)."""
    tiny = build_snapshot(fake_embedder, 800, 150, keep={}, add=[Article("t", "T", "Brève.")])
    directory = IndexDirectory(tmp_path)
    names: list[str] = []
    started = time.monotonic()
    while time.monotonic() - started < 1.2:
        names.append(directory.publish(tiny).name)
    assert len(names) >= 4
    assert names == sorted(set(names))
    kept = sorted(p.name for p in directory.generations.iterdir())
    assert kept == names[-2:]


def test_a_refused_generation_is_checked_once_not_at_every_refresh(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    """The server looks for new generations every few seconds: a refused one is not re-hashed
    each time, and a later good one is still picked up."""
    settings = fake_settings(tmp_path)
    publish(settings, fake_snapshot)
    served = open_fake_service(settings).served
    corrupt_truncate_vectors(publish(settings, fake_snapshot))
    loads: list[Path | None] = []
    original = IndexDirectory.load

    def counted(directory: IndexDirectory, model: str) -> Snapshot:
        loads.append(directory.current())
        return original(directory, model)

    with mock.patch.object(IndexDirectory, "load", counted):
        assert served.refresh() is False
        assert served.degraded is not None and "checksum" in served.degraded
        assert served.refresh() is False
        assert len(loads) == 1
        extra = Article("frais", "Frais", "Un article publié après la génération abîmée.")
        publish(settings, fake_snapshot.updated(fake_embedder, add=[extra]))
        assert served.refresh() is True
    assert served.degraded is None
    assert "frais" in served.snapshot.articles


def test_a_generation_a_crash_left_unpublished_is_never_served(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    """A crash between renaming a generation into place and naming it in CURRENT leaves an
    unacknowledged folder, newer than the live one: the fallback skips it, the next publish
    removes it, and the one that was live before stays as the fallback."""
    settings = fake_settings(tmp_path)
    previous = publish(settings, fake_snapshot)
    live = publish(settings, fake_snapshot)
    extra = Article("jamais", "Jamais", "Un article dont l'ajout n'a jamais été confirmé.")
    with (
        mock.patch("index.directory._write_atomically", side_effect=SystemExit("killed")),
        pytest.raises(SystemExit),
    ):
        publish(settings, fake_snapshot.updated(fake_embedder, add=[extra]))
    orphan = max(IndexDirectory(settings.index_dir)._finished())
    assert orphan > live, "the simulated crash should leave the folder in place"

    corrupt_truncate_vectors(live)
    service = open_fake_service(settings)
    assert "jamais" not in service.served.snapshot.articles
    assert service.served.degraded is not None and previous.name in service.served.degraded

    assert service.library is not None
    service.library.put([Article("suivant", "Suivant", "Un article écrit après la reprise.")])
    remaining = sorted(IndexDirectory(settings.index_dir)._finished())
    assert orphan not in remaining and len(remaining) == 2
