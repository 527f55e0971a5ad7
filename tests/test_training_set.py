"""The reader's training set: well formed, and independent of the evaluation data."""

import re

from corpus import builtin_articles
from corpus.training import load_training_set
from eval.gold import QUESTIONS_FILE, load_questions
from eval.metrics import normalise


def words(text: str) -> set[str]:
    return set(re.findall(r"\w{4,}", normalise(text)))


def test_every_answer_is_a_sentence_of_its_article_and_counts_are_met() -> None:
    training = load_training_set()
    assert len(training.articles) >= 40
    assert len(training.questions) >= 1000
    kinds = [q.kind for q in training.questions]
    assert sum(k.startswith("no_answer") for k in kinds) >= 150
    assert all(not q.answerable for q in training.questions if q.kind.startswith("no_answer"))
    for question in training.questions:
        for evidence in question.evidence:
            sentence = training.articles[evidence.doc_id].text[evidence.start : evidence.end]
            assert evidence.short in sentence, question.id
    assert len({q.id for q in training.questions}) == len(training.questions)


def test_training_and_gold_share_no_article_and_no_question() -> None:
    training = load_training_set()
    seeds = builtin_articles()
    assert not set(training.articles) & {a.doc_id for a in seeds}
    seed_texts = {a.text for a in seeds}
    assert not seed_texts & {a.text for a in training.articles.values()}
    for article in training.articles.values():  # no seed paragraph copied either
        for seed in seeds:
            shared = set(article.text.split("\n")) & set(seed.text.split("\n"))
            assert not {line for line in shared if len(line) > 40}, article.doc_id
    gold = [words(q.question) for q in load_questions(QUESTIONS_FILE)]
    for question in training.questions:  # not the same question, nor a near rewording
        mine = words(question.question)
        assert all(len(mine & g) <= 0.5 * len(mine | g) for g in gold), question.id


def test_the_training_stories_are_not_the_seed_story() -> None:
    training = load_training_set()
    story_words = {"openai", "altman", "murati", "sutskever", "brockman", "chatgpt"}
    for article in training.articles.values():
        assert not words(article.text) & story_words, article.doc_id
