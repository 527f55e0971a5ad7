"""Latest state first, supporting and conflicting sources, syndicated copies counted once."""

from dataclasses import replace
from datetime import date

import pytest

from corpus import Article
from index.query import Filters
from index.snapshot import Snapshot, build_snapshot
from service.answering import QuestionAnswerer
from service.answers import AnswerSentence
from service.facts import Kind, claim_in, focus_of
from service.state_questions import asks_current_state
from service.tuning import RankingTuning
from tests.fakes import HashingEmbedder

CEO = "qui est le PDG d'OpenAI ?"
ALWAYS = RankingTuning(threshold=-10)  # the fake embedder's confidences are low


@pytest.fixture(scope="module")
def answerer(fake_snapshot: Snapshot, fake_embedder: HashingEmbedder) -> QuestionAnswerer:
    return QuestionAnswerer(fake_snapshot, fake_embedder, tuning=ALWAYS)


@pytest.mark.parametrize(
    ("question", "state"),
    [
        (CEO, True),
        ("qui dirige OpenAI ?", True),
        ("Who is the current CEO of OpenAI?", True),
        ("Combien de membres compte le conseil d'administration ?", True),
        ("Sam Altman est-il toujours chez Microsoft ?", True),
        ("qui a remplacé Mira Murati ?", False),
        ("Combien de membres comptait le conseil qui a licencié Altman ?", False),
        ("Who was fired on Friday?", False),
    ],
)
def test_current_state_questions_are_told_from_past_events(question: str, state: bool) -> None:
    assert asks_current_state(question) is state


def test_the_fact_a_question_asks() -> None:
    assert focus_of(CEO) == focus_of("who is the CEO of OpenAI?")
    holder = focus_of(CEO)
    assert holder is not None and (holder.kind, holder.role) == (Kind.HOLDER, "ceo")
    count = focus_of("Combien d'employés compte OpenAI ?")
    assert count is not None and (count.kind, count.unit) == (Kind.COUNT, "employees")
    role = focus_of("Quel est le poste de Greg Brockman ?")
    assert role is not None and (role.kind, role.names) == (Kind.ROLE, frozenset({"brockman"}))
    assert focus_of("Pourquoi Altman a-t-il été licencié ?") is None


def test_claims_compare_by_value_not_by_wording() -> None:
    employees = focus_of("Combien d'employés compte OpenAI ?")
    assert employees is not None
    a = claim_in("Sur 770 employés, plus de 700 ont signé une lettre.", employees)
    b = claim_in("Aussi, 700+ (par le Times) des 770 collaborateurs ont signé.", employees)
    c = claim_in("Plus de 500 des 700 employés d'OpenAI signent une lettre.", employees)
    assert a and b and c and a.agrees(b) and not a.agrees(c)
    share = focus_of("Quel pourcentage des employés a signé la lettre ?")
    assert share is not None
    exact, more = (
        claim_in("95 % des 770 employés l'ont signée.", share),
        claim_in("Elle représente plus de 90 % de l'entreprise.", share),
    )
    assert exact and more and exact.agrees(more)
    ceo = focus_of(CEO)
    assert ceo is not None
    shear = claim_in("Deux jours plus tard, Emmett Shear a été nommé PDG d'OpenAI.", ceo)
    assert shear is not None and shear.value == "shear" and not shear.ended
    ousted = claim_in("Le CEO d'OpenAI, Sam Altman, a été licencié.", ceo)
    assert ousted is not None and ousted.value == "altman" and ousted.ended
    assert claim_in("Altman ne reviendra pas chez OpenAI en tant que PDG.", ceo) is None
    assert claim_in("Satya Nadella, PDG de Microsoft, a parlé.", ceo) is None


def _sliced(answerer: QuestionAnswerer, sentence: AnswerSentence) -> None:
    for item in (sentence, *sentence.superseded, *sentence.supporting, *sentence.conflicting):
        c = item.citation
        assert answerer.snapshot.articles[c.doc_id].text[c.start : c.end] == item.text


def test_the_latest_state_comes_first_with_what_it_superseded(answerer: QuestionAnswerer) -> None:
    answer = answerer.ask(CEO).answer
    assert answer is not None and "Altman" in answer.text
    assert answer.event_date == answer.as_of == date(2023, 11, 22)
    earlier = [(s.event_date, s.text) for s in answer.superseded]
    assert [d for d, _ in earlier] == sorted((d for d, _ in earlier), reverse=True)
    assert "Shear" in earlier[0][1] and earlier[0][0] == date(2023, 11, 19)
    assert any("Murati" in t and d == date(2023, 11, 17) for d, t in earlier)
    _sliced(answerer, answer)


def test_as_of_gives_the_state_of_that_day(answerer: QuestionAnswerer) -> None:
    answer = answerer.ask(CEO, filters=Filters().as_of(date(2023, 11, 20))).answer
    assert answer is not None and "Shear" in answer.text
    assert answer.citation.published is not None
    assert answer.citation.published <= date(2023, 11, 20)
    assert all("Altman" not in s.text or s.event_date for s in answer.superseded)


def test_conflicting_and_supporting_sources(answerer: QuestionAnswerer) -> None:
    answer = answerer.ask("Combien d'employés compte OpenAI ?").answer
    assert answer is not None and "700 employés" in answer.text
    assert {c.citation.doc_id for c in answer.conflicting} >= {"0e71460ec8a4328c"}
    assert all("770" in c.text for c in answer.conflicting)
    assert answer.citation.doc_id not in {c.citation.doc_id for c in answer.conflicting}
    _sliced(answerer, answer)


def test_a_past_event_question_keeps_its_answer(answerer: QuestionAnswerer) -> None:
    answer = answerer.ask("qui a remplacé Mira Murati ?").answer
    assert answer is not None and "Emmett Shear" in answer.text and not answer.superseded


def test_syndicated_copies_count_once(
    articles: list[Article], fake_embedder: HashingEmbedder
) -> None:
    original = next(a for a in articles if a.doc_id == "9322674a4feffd24")
    copy = replace(
        original,
        doc_id="copy-of-9322",
        source="Le Relais",
        url="https://relais.example/openai",
        text=original.text.replace("Newsletter", "Partagez cet article"),
    )
    snapshot = build_snapshot(fake_embedder, 800, 150, keep={}, add=[*articles, copy])
    answerer = QuestionAnswerer(snapshot, fake_embedder, tuning=ALWAYS)
    result = answerer.ask("Combien d'employés compte OpenAI ?", k=20)
    texts = [" ".join(p.text.split()) for p in result.passages]
    assert len(texts) == len(set(texts))
    docs = [p.citation.doc_id for p in result.passages]
    shared = [
        p.text for p in result.passages if p.citation.doc_id in {original.doc_id, copy.doc_id}
    ]
    assert len(shared) == len({t[:200] for t in shared})
    answer = result.answer
    assert answer is not None and docs
    cited = [c.citation for c in answer.conflicting + answer.supporting]
    assert len([c for c in cited if c.doc_id in {original.doc_id, copy.doc_id}]) == 1
    grouped = next(c for c in cited if c.doc_id in {original.doc_id, copy.doc_id})
    assert {c.doc_id for c in grouped.also_published_by} == (
        {original.doc_id, copy.doc_id} - {grouped.doc_id}
    )


def test_slack_says_how_many_sources_and_warns_of_conflicts(answerer: QuestionAnswerer) -> None:
    from service.slack_blocks import answer_message

    message = answer_message(answerer.ask("Combien d'employés compte OpenAI ?"), 1)
    assert "⚠ Une autre source indique :" in message["blocks"][0]["text"]["text"]
    shear = answerer.ask(CEO, filters=Filters().as_of(date(2023, 11, 20)))
    assert shear.answer is not None and shear.answer.supporting
    assert f"Selon {len(shear.answer.supporting) + 1} sources" in answer_message(shear, 1)["text"]
