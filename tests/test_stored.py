"""A loaded segment opens its layout's arrays and reads its articles, sentence details and
titles from its store only when asked; writes read only the articles they change."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from corpus import Article
from index.directory import IndexDirectory
from index.snapshot import Snapshot
from index.store import Store
from service.syndication import copies
from tests.fakes import HashingEmbedder


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The doc_ids of the articles read from any store, in order."""
    done: list[str] = []
    article = Store.article

    def counted(self: Store, doc_id: str) -> Article:
        done.append(doc_id)
        return article(self, doc_id)

    monkeypatch.setattr(Store, "article", counted)
    yield done


def _loaded(tmp_path: Path, snapshot: Snapshot) -> Snapshot:
    """`snapshot` published, then loaded as another process would (nothing held in memory)."""
    IndexDirectory(tmp_path).publish(snapshot)
    return IndexDirectory(tmp_path).load(snapshot.manifest.model)


def test_loading_reads_no_article(
    tmp_path: Path, fake_snapshot: Snapshot, reads: list[str]
) -> None:
    loaded = _loaded(tmp_path, fake_snapshot)
    assert reads == []
    assert len(loaded.articles) == len(fake_snapshot.articles)
    assert set(loaded.articles) == set(fake_snapshot.articles)


def test_rows_read_on_demand_are_those_written(tmp_path: Path, fake_snapshot: Snapshot) -> None:
    loaded = _loaded(tmp_path, fake_snapshot)
    for doc_id, article in fake_snapshot.articles.items():
        assert loaded.articles[doc_id] == article
        table, read = fake_snapshot.sentences[doc_id], loaded.sentences[doc_id]
        assert read.event_dates == table.event_dates
        assert [t.shape for t in read.tokens] == [t.shape for t in table.tokens]
        assert np.array_equal(loaded.titles[doc_id], fake_snapshot.titles[doc_id])
    for row in range(len(loaded.rows)):
        assert loaded.passage(row) == fake_snapshot.passage(row)
        assert loaded.passage(row).text == fake_snapshot.passage(row).text
    assert dict(loaded.passages) == dict(fake_snapshot.passages)
    with pytest.raises(KeyError):
        loaded.articles["no-such-article"]
    with pytest.raises(KeyError):
        loaded.passages[12345]


def test_writes_read_only_the_articles_they_change(
    tmp_path: Path,
    fake_snapshot: Snapshot,
    fake_embedder: HashingEmbedder,
    reads: list[str],
) -> None:
    loaded = _loaded(tmp_path, fake_snapshot)
    new = Article("note-1", "Une note", "Une brève sur le conseil d'administration. " * 5)
    added = loaded.updated(fake_embedder, add=[new])
    assert reads == [] and added.articles["note-1"] == new
    some = sorted(fake_snapshot.articles)[0]
    changed = replace(fake_snapshot.articles[some], title="Un autre titre")
    replaced = added.updated(fake_embedder, add=[changed])
    assert reads == [some]  # compared with the stored one, its vectors reused
    assert replaced.articles[some].title == "Un autre titre"
    reads.clear()
    deleted = replaced.updated(fake_embedder, remove=["note-1"])
    assert reads == [] and "note-1" not in deleted.articles
    assert deleted.manifest.corpus_fingerprint != fake_snapshot.manifest.corpus_fingerprint
    assert len(deleted.articles) == len(fake_snapshot.articles)


def test_layout_finds_the_articles_it_holds(fake_snapshot: Snapshot) -> None:
    layout = fake_snapshot.segments[0].layout
    held = sorted(fake_snapshot.articles)
    assert [layout.position(d) for d in held] == list(range(len(held)))
    assert layout.position("zzz") is None and layout.position("") is None
    assert layout.positions([held[2], "missing", held[0], held[2]]).tolist() == [0, 2]
    assert layout.positions([]).tolist() == []


def test_a_passages_sentence_vectors_are_those_of_its_sentences(
    tmp_path: Path, fake_snapshot: Snapshot
) -> None:
    loaded = _loaded(tmp_path, fake_snapshot)
    for row in range(len(fake_snapshot.rows)):
        passage = fake_snapshot.passage(row)
        table = fake_snapshot.sentences[passage.doc_id]
        inside = table.within(passage.start, passage.end)
        if not len(inside):
            inside = np.array([table.nearest(passage.start, passage.end)])
        expected = table.vectors[inside]
        assert np.array_equal(fake_snapshot.passage_sentence_vectors(row), expected)
        assert np.array_equal(loaded.passage_sentence_vectors(row), expected)


def test_syndicated_copies_are_found_without_reading_an_article(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder, reads: list[str]
) -> None:
    original = fake_snapshot.articles["9322674a4feffd24"]
    # another site's copy: other typography, a line of its own, the same sentences
    text = original.text.replace("'", "’").upper() + "\n\nLire aussi : notre dossier."
    copy = Article("copy-of-9322", original.title, text, "Le Relais")
    loaded = _loaded(tmp_path, fake_snapshot.updated(fake_embedder, add=[copy]))
    found = copies(loaded)
    assert reads == []
    assert found[original.doc_id] == (copy.doc_id,) and found[copy.doc_id] == (original.doc_id,)
    assert len(found) == 2
