"""The benchmark's parts that are not timings: its corpora, the texts it counts as embedded,
and the ratios of its summary."""

import numpy as np

from eval.bench.corpora import RandomVectors, recombined_articles
from eval.bench.report import summarise
from eval.bench.size import embedded_texts
from index.snapshot import Snapshot
from tests.fakes import HashingEmbedder

SENTENCES = [f"Phrase française numéro {i}, assez longue pour compter." for i in range(50)]


def test_recombined_articles_are_seeded_real_sentences_of_about_the_size_asked() -> None:
    articles = recombined_articles(SENTENCES, 40, 800, seed=7, prefix="s")
    assert articles == recombined_articles(SENTENCES, 40, 800, seed=7, prefix="s")
    assert articles != recombined_articles(SENTENCES, 40, 800, seed=8, prefix="s")
    assert len({a.doc_id for a in articles}) == len(articles)
    total = sum(len(a.text) for a in articles)
    assert 40 * 800 <= total < 40 * 800 + max(len(a.text) for a in articles)
    for article in articles:
        for paragraph in article.text.split("\n\n"):
            assert paragraph.count(".") == 4 and all(s in SENTENCES for s in _split(paragraph))


def _split(paragraph: str) -> list[str]:
    return [part + "." for part in paragraph.removesuffix(".").split(". ")]


def test_random_vectors_are_unit_vectors_of_the_model_with_its_query_encoder() -> None:
    real = HashingEmbedder(dimension=16)
    random = RandomVectors(real)
    vectors = random.embed_passages(["a", "b", "c"])
    assert vectors.shape == (3, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert random.model_id == real.model_id
    assert np.array_equal(random.embed_query("Sam Altman"), real.embed_query("Sam Altman"))


def test_embedded_texts_are_the_distinct_passages_sentences_and_titles(
    fake_snapshot: Snapshot,
) -> None:
    without = embedded_texts(fake_snapshot, with_titles=False)
    with_titles = embedded_texts(fake_snapshot, with_titles=True)
    assert len(without) == len(set(without))
    assert {p.text for p in fake_snapshot.passages.values()} <= set(without)
    assert set(with_titles) - set(without) == {
        a.title for a in fake_snapshot.articles.values()
    } - set(without)


def test_summary_ratios() -> None:
    def size(passages: int, add: float, http: float, rss: float) -> dict[str, object]:
        return {
            "passages": passages,
            "add_one_s": add,
            "search_http_ms": {"p50": http},
            "server_peak_rss_mb": rss,
            "recall_at_10": 0.99,
        }

    small = size(1000, 2.0, 50.0, 900.0) | {
        "ingest_s": 100.0,
        "reindex_s": 4.0,
        "ingest_over_encode": 0.95,
    }
    large = size(101_000, 3.0, 60.0, 1900.0) | {"recall_at_10": 0.97}
    summary = summarise({"query_encoding_ms": {"p50": 40.0}}, [small, large])
    assert summary["search_over_encode_p50"] == 1.5
    assert summary["update_growth"] == 1.5
    assert summary["reindex_speedup"] == 25.0
    assert summary["rss_mb_per_1k_passages"] == 10.0
    assert summary["ingest_over_encode"] == 0.95 and summary["min_recall_at_10"] == 0.97
