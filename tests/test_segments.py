"""Segments: an update adds a segment and tombstones what it replaces or deletes, search merges
the segments and never returns a tombstoned row, small segments are merged by tier, optimize
makes one segment, a generation hard-links the segments it shares and still verifies them."""

import json
from datetime import date
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

import index.manifest as manifest_module
from corpus import Article
from index.directory import IndexDirectory
from index.manifest import IndexCorruptError, IndexMismatchError
from index.merging import FACTOR, tier, to_merge
from index.query import Filters, Mode
from index.search import Searcher
from index.snapshot import Snapshot
from service.ranking import rank_passages
from tests.fakes import HashingEmbedder

MURATI = "0e71460ec8a4328c"
ETUDES_TECH = "e21a9bdea7febeae"  # the only article from that source


def note(number: int, text: str = "") -> Article:
    return Article(
        f"note-{number}",
        f"Note {number}",
        text or f"La note numéro {number} signale l'événement zq{number}x à Lyon.",
        source="Test",
    )


def top_doc(snapshot: Snapshot, embedder: HashingEmbedder, query: str, mode: Mode) -> str:
    return rank_passages(Searcher(snapshot, embedder), query, 1, mode)[0].passage.doc_id


def test_an_update_adds_a_segment_and_tombstones_what_it_replaces_or_deletes(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    added = fake_snapshot.updated(fake_embedder, add=[note(1)])
    assert added.segments[:-1] == fake_snapshot.segments and not added.deleted
    assert set(added.segments[-1].articles) == {"note-1"}

    old = fake_snapshot.articles[MURATI]
    rewritten = Article(MURATI, old.title, "Mira Murati quitte le conseil zqmuratix.")
    replaced = added.updated(fake_embedder, add=[rewritten], remove=["note-1"])
    first, second, _ = replaced.segments
    assert replaced.deleted == {first.name: {MURATI}, second.name: {"note-1"}}
    assert replaced.articles[MURATI] == rewritten and "note-1" not in replaced.articles
    assert replaced.manifest.articles == len(fake_snapshot.articles)
    assert replaced.manifest.passages == len(replaced.passages) == len(replaced.vectors)

    live_ids = {int(i) for i in replaced.rows.ids if i >= 0}
    assert live_ids == set(replaced.passages)
    for mode in Mode:
        hits = rank_passages(Searcher(replaced, fake_embedder), "Murati zq1x Lyon", 50, mode)
        assert all(h.passage.doc_id != "note-1" for h in hits)
        murati = [h.passage for h in hits if h.passage.doc_id == MURATI]
        assert all(p.text in rewritten.text for p in murati)
    assert top_doc(replaced, fake_embedder, "zqmuratix", Mode.LEXICAL) == MURATI


def test_search_over_segments_finds_what_one_segment_finds(
    articles: list[Article], fake_embedder: HashingEmbedder
) -> None:
    """The same articles in five segments or in one: the same dense candidates and scores,
    BM25 with the IDF of all segments (only the mean passage length stays per segment)."""
    from index.snapshot import build_snapshot

    one = build_snapshot(fake_embedder, 800, 150, keep={}, add=articles)
    five = build_snapshot(fake_embedder, 800, 150, keep={}, add=articles[:1])
    for article in articles[1:]:
        five = five.updated(fake_embedder, add=[article])
    assert len(five.segments) == 5 and five.passages == one.passages
    assert five.manifest.corpus_fingerprint == one.manifest.corpus_fingerprint
    for query in ["Emmett Shear directeur général", "Mira Murati", "conseil d'administration"]:
        a = Searcher(one, fake_embedder).candidates(query, None, Mode.HYBRID, Filters(), 10)
        b = Searcher(five, fake_embedder).candidates(query, None, Mode.HYBRID, Filters(), 10)
        dense_a = {a.passage(r).vector_id: s for r, s in a.dense.items()}
        dense_b = {b.passage(r).vector_id: s for r, s in b.dense.items()}
        assert dense_a.keys() == dense_b.keys()
        assert np.allclose([dense_a[i] for i in dense_a], [dense_b[i] for i in dense_a])
        for term in one.lexical.terms(query).terms:
            assert np.isclose(one.lexical.idf(term), five.lexical.idf(term))
        lexical_a = {a.passage(r).vector_id: s for r, s in a.lexical.items()}
        lexical_b = {b.passage(r).vector_id: s for r, s in b.lexical.items()}
        assert lexical_a.keys() == lexical_b.keys()  # here; scores within 3 % (mean lengths)
        assert np.allclose(
            [lexical_a[i] for i in lexical_a], [lexical_b[i] for i in lexical_a], rtol=0.03
        )
        for row, score in b.lexical.items():
            assert np.isclose(b.bm25[row], score, rtol=1e-5)


def test_filters_and_tombstones_together(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    updated = fake_snapshot.updated(fake_embedder, add=[note(2)], remove=[ETUDES_TECH])
    filters = Filters(frozenset({"test"}))
    searcher = Searcher(updated, fake_embedder)
    found = searcher.candidates("note événement Murati", None, Mode.HYBRID, filters, 50)
    rows = found.dense.keys() | found.lexical.keys()
    assert rows and {found.passage(r).doc_id for r in rows} == {"note-2"}
    assert not searcher.admits_any(Filters(frozenset({"études tech"})))
    assert searcher.admits_any(Filters(frozenset({"djaboo"})))


def test_the_tiered_policy_merges_a_full_tier() -> None:
    assert tier(0) == tier(9) == 0 and tier(10) == 1 and tier(12_345) == 4
    assert to_merge([5000, 3, 4]) == []
    assert to_merge([5000] + [3] * FACTOR) == list(range(1, FACTOR + 1))
    assert to_merge([40] * FACTOR + [3] * FACTOR) == list(range(FACTOR, 2 * FACTOR))


def test_small_segments_are_merged_as_they_accumulate(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    snapshot = fake_snapshot
    counts = []
    for number in range(2 * FACTOR):
        snapshot = snapshot.updated(fake_embedder, add=[note(number)])
        counts.append(len(snapshot.segments))
    # The FACTOR-th small segment merges its tier into one of the next; at most FACTOR - 1
    # segments wait in each tier.
    assert counts[FACTOR - 2 : FACTOR] == [FACTOR, 2] and counts[-1] == 3
    assert max(counts) == FACTOR + 1
    assert snapshot.segments[0] is fake_snapshot.segments[0]
    assert set(snapshot.articles) == set(fake_snapshot.articles) | {f"note-{n}" for n in range(20)}
    assert top_doc(snapshot, fake_embedder, "zq7x", Mode.LEXICAL) == "note-7"


def test_optimize_makes_one_segment_without_tombstones(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    assert fake_snapshot.optimized() is fake_snapshot
    changed = fake_snapshot.updated(fake_embedder, add=[note(3)], remove=[MURATI])
    optimized = changed.optimized()
    (segment,) = optimized.segments
    assert not optimized.deleted and MURATI not in segment.articles
    assert optimized.articles == changed.articles and optimized.passages == changed.passages
    assert optimized.manifest.corpus_fingerprint == changed.manifest.corpus_fingerprint
    assert optimized.manifest.sentences == changed.manifest.sentences
    for query in ["zq3x Lyon", "Emmett Shear", "conseil d'administration d'OpenAI"]:
        for mode in (Mode.DENSE, Mode.LEXICAL):
            assert top_doc(optimized, fake_embedder, query, mode) == top_doc(
                changed, fake_embedder, query, mode
            )


def test_a_generation_links_the_segments_it_shares_and_writes_only_the_new_one(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    directory = IndexDirectory(tmp_path)
    first = directory.publish(fake_snapshot)
    updated = fake_snapshot.updated(fake_embedder, add=[note(4)], remove=[MURATI])
    second = directory.publish(updated)
    base = fake_snapshot.segments[0].name
    inherited = second / "segments" / base / "vectors.faiss"
    assert inherited.stat().st_ino == (first / "vectors.faiss").stat().st_ino
    assert (second / "vectors.faiss").stat().st_ino != (first / "vectors.faiss").stat().st_ino

    loaded = IndexDirectory(tmp_path).load("fake-hashing")
    assert [s.name for s in loaded.segments] == [s.name for s in updated.segments]
    assert loaded.deleted == updated.deleted and loaded.articles == updated.articles
    assert top_doc(loaded, fake_embedder, "zq4x", Mode.HYBRID) == "note-4"
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["segments"][0]["deleted"] == [MURATI]

    with (second / "segments" / base / "store.sqlite").open("r+b") as handle:
        handle.seek(3000)
        handle.write(b"\x00\x01\x02")  # the shared file: both generations are hit
    with pytest.raises(IndexCorruptError, match="checksum"):
        IndexDirectory(tmp_path).load("fake-hashing")


def test_a_segment_whose_files_are_gone_is_written_again(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    directory = IndexDirectory(tmp_path)
    first = directory.publish(fake_snapshot)
    (first / "lexical" / "ids.npy").unlink()  # the linked segment lost a file
    second = directory.publish(fake_snapshot.updated(fake_embedder, add=[note(5)]))
    base = second / "segments" / fake_snapshot.segments[0].name
    assert (base / "lexical" / "ids.npy").is_file()
    assert "note-5" in IndexDirectory(tmp_path).load("fake-hashing").articles


def test_an_index_of_the_previous_format_is_refused_with_what_to_do(
    tmp_path: Path, fake_snapshot: Snapshot
) -> None:
    folder = IndexDirectory(tmp_path).publish(fake_snapshot)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 2
    del manifest["segments"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match=r"index format 2.*`depeche index`"):
        IndexDirectory(tmp_path).load("fake-hashing")


def test_following_a_new_generation_hashes_and_reads_only_its_new_segment(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    IndexDirectory(tmp_path).publish(fake_snapshot)
    follower = IndexDirectory(tmp_path)
    before = follower.load("fake-hashing")
    writer = IndexDirectory(tmp_path)  # another process, as `depeche index` is
    writer.load("fake-hashing")
    second = writer.publish(before.updated(fake_embedder, add=[note(6)]))

    hashed: list[Path] = []
    original = manifest_module.file_checksum

    def counted(path: Path, like: str) -> str:
        hashed.append(path)
        return original(path, like)

    with mock.patch.object(manifest_module, "file_checksum", counted):
        after = follower.load("fake-hashing")
    assert after.segments[0] is before.segments[0]  # held, not read again
    assert hashed and all(p.parent in (second, second / "lexical") for p in hashed)
    assert "note-6" in after.articles

    third = writer.publish(after.updated(fake_embedder, add=[note(7)]))
    shared = third / "segments" / before.segments[0].name / "store.sqlite"
    with shared.open("r+b") as handle:  # a change to a file the follower had checked
        handle.seek(3000)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(IndexCorruptError, match="checksum"):
        follower.load("fake-hashing")


def test_a_new_date_alone_moves_the_article_to_a_new_segment_without_embedding(
    fake_snapshot: Snapshot,
) -> None:
    from tests.test_index import CountingEmbedder

    old = fake_snapshot.articles[MURATI]
    moved = Article(MURATI, old.title, old.text, old.source, old.url, date(2023, 11, 25))
    counting = CountingEmbedder()
    after = fake_snapshot.updated(counting, add=[moved])
    assert counting.embedded == []
    assert set(after.segments[-1].articles) == {MURATI}
    assert after.articles[MURATI].published == date(2023, 11, 25)
    assert {p for p in after.passages.values() if p.doc_id == MURATI} == {
        p for p in fake_snapshot.passages.values() if p.doc_id == MURATI
    }


def test_syndicated_copies_are_found_across_segments_and_forgotten_when_deleted(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    from service.syndication import copies

    original = fake_snapshot.articles["9322674a4feffd24"]
    copy = Article("copy-of-9322", original.title, original.text, "Le Relais")
    added = fake_snapshot.updated(fake_embedder, add=[copy])
    assert copies(added)[original.doc_id] == (copy.doc_id,)
    deleted = added.updated(fake_embedder, remove=[copy.doc_id])
    assert original.doc_id not in copies(deleted)
