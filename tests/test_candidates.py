"""Candidate answer sentences: the sentences of the best passages, once each, with their cues."""

import numpy as np

from corpus import Article
from index.answer_types import asked
from index.search import Searcher
from index.snapshot import Snapshot, build_snapshot
from service.candidates import Question, candidates
from tests.fakes import HashingEmbedder


def test_candidates_are_the_sentences_of_the_passages_once_each_best_first(
    fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    searcher = Searcher(fake_snapshot, fake_embedder)
    text = "Combien d'employés ont signé la lettre ?"
    question = Question(
        text, fake_embedder.embed_query(text), searcher.term_weights(text), asked(text)
    )
    doc = next(iter(fake_snapshot.articles))
    passages = sorted(
        (p for p in fake_snapshot.passages.values() if p.doc_id == doc), key=lambda p: p.start
    )[:2]
    found = candidates(searcher, question, passages, min_chars=25)
    article = fake_snapshot.articles[doc].text
    assert found and len({(c.doc_id, c.start) for c in found}) == len(found)
    assert all(article[c.start : c.end] == c.text and len(c.text) >= 25 for c in found)
    assert all(
        passages[c.passage_rank].start <= c.start < passages[c.passage_rank].end + 1 for c in found
    )
    assert [c.passage_rank for c in found] == sorted(c.passage_rank for c in found)
    for c in found:  # the question asks for a number, so a number answers its type
        assert c.typed == c.has_number
        assert c.has_number or not any(ch.isdigit() for ch in c.text)
        assert -1.0 <= c.cosine <= 1.0 and 0.0 <= c.shared <= 1.0
    assert candidates(searcher, question, passages, min_chars=10_000) == []


def test_a_sentence_opening_with_an_anaphor_is_read_with_its_antecedent(
    fake_embedder: HashingEmbedder,
) -> None:
    """« Ce dernier… » is cited with the sentence before it, so it shares that sentence's
    terms and is at least as close to the question; a sentence opening its paragraph is not."""
    text = (
        "Le conseil ne garde qu'Adam D'Angelo. Ce dernier, patron de Quora, reste seul.\n\n"
        "Il pleuvait ce jour-là sur San Francisco."
    )
    snapshot = build_snapshot(fake_embedder, 800, 150, keep={}, add=[Article("d", "T", text)])
    searcher = Searcher(snapshot, fake_embedder)
    query = "Qui le conseil garde-t-il ?"
    vector = fake_embedder.embed_query(query)
    question = Question(query, vector, searcher.term_weights(query), asked(query))
    first, anaphoric, own_paragraph = candidates(
        searcher, question, list(snapshot.passages.values()), min_chars=10
    )
    own = [float(vector @ np.asarray(v, dtype=np.float32)) for v in snapshot.sentences["d"].vectors]
    assert first.shared > 0 and anaphoric.shared == first.shared
    assert anaphoric.cosine == max(own[0], own[1]) and first.cosine == own[0]
    assert own_paragraph.shared == 0 and own_paragraph.cosine == own[2]
