import pytest

from service.query_language import is_english
from service.tuning import RankingTuning


@pytest.mark.parametrize(
    "question",
    [
        "qui a remplacé Mira Murati ?",
        "Qu'a dit Sam Altman après son renvoi ?",
        "qui etait directeur de la preparation chez openai",
        "Combien d'employés ont signé la lettre ?",
        "Quel est le rôle de Greg Brockman chez OpenAI ?",
        "OpenAI CEO",  # no function word: the corpus's language
    ],
)
def test_french_questions_and_bare_names_are_not_english(question: str) -> None:
    assert not is_english(question)


@pytest.mark.parametrize(
    "question",
    [
        "Who replaced Mira Murati?",
        "What fine must Didier Moreau's company pay?",
        "How many employees signed the letter?",
        "when was sam altman fired by the board",
    ],
)
def test_english_questions_are_english(question: str) -> None:
    assert is_english(question)


def test_english_questions_weigh_words_less_than_french_ones() -> None:
    tuning = RankingTuning()
    assert tuning.for_question("qui a remplacé Mira Murati ?") is tuning
    english = tuning.for_question("Who replaced Mira Murati?")
    assert english.lexical_weight == tuning.english_lexical_weight < tuning.lexical_weight
    assert english.term_weight == tuning.english_term_weight < tuning.term_weight
    assert english.dense_weight == tuning.dense_weight
