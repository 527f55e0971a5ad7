"""Candidate answer sentences: the sentences of the best passages, once each, with their cues."""

from index.answer_types import AnswerType, asked, holds
from index.search import Searcher
from index.snapshot import Snapshot
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
    nothing = asked("")
    for c in found:  # the question asks for a number, so a number answers its type
        assert c.typed == c.has_number
        dated = any(holds(c.text, t, nothing) for t in (AnswerType.DATE, AnswerType.TIME))
        assert c.has_number or dated or not any(ch.isdigit() for ch in c.text)
        assert c.has_number or not c.counted  # a number of employees is a number
        assert -1.0 <= c.cosine <= 1.0 and 0.0 <= c.shared <= 1.0
    assert candidates(searcher, question, passages, min_chars=10_000) == []
