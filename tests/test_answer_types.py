"""Answer types: what a question asks for, and which sentences hold a new value of it."""

import pytest

from index.answer_types import AnswerType, answers_type, asked, counts, holds


@pytest.mark.parametrize(
    ("question", "types"),
    [
        ("quel jour Altman a-t-il été licencié ?", {AnswerType.DATE}),
        ("Quand la grève a-t-elle commencé", {AnswerType.DATE}),
        ("When was the CEO fired?", {AnswerType.DATE}),
        ("Combien d'employés ont signé ?", {AnswerType.NUMBER}),
        ("how many people were evacuated", {AnswerType.NUMBER}),
        ("Quelle part du capital détient le fonds ?", {AnswerType.NUMBER}),
        ("À quelle heure le vote a-t-il eu lieu ?", {AnswerType.TIME}),
        ("What time did the board meet?", {AnswerType.TIME}),
        ("qui a remplacé Mira Murati ?", set()),
    ],
)
def test_what_a_question_asks_for(question: str, types: set[AnswerType]) -> None:
    assert asked(question).types == types


def test_a_value_the_question_names_is_not_an_answer() -> None:
    question = asked("Qui dirigeait l'entreprise le 17 novembre ?")
    assert not holds("Le 17 novembre, Mira Murati devient PDG.", AnswerType.DATE, question)
    assert holds("Le 19 novembre, Emmett Shear la remplace.", AnswerType.DATE, question)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Le conseil ne compte plus que trois membres.", True),
        ("Plus de 700 salariés ont signé la lettre.", True),
        ("La participation atteint 95 %.", True),
        ("Les salariés ont signé une lettre ouverte.", False),
        ("La lettre a été signée le 20 novembre 2023.", False),  # a date is not a quantity
        ("Le vote a eu lieu à 15 h 30.", False),
        ("Le 20 novembre, 700 salariés ont signé.", True),
    ],
)
def test_numbers_in_words_and_figures(sentence: str, expected: bool) -> None:
    assert answers_type(sentence, asked("Combien de personnes ?")) is expected


def test_dates_relative_and_absolute() -> None:
    question = asked("quand a-t-il été renvoyé ?")
    for sentence in (
        "Il a été renvoyé le vendredi 17 novembre 2023.",
        "Il a été renvoyé la veille.",
    ):
        assert answers_type(sentence, question)
    assert not answers_type("Il a été renvoyé sans préavis.", question)


def test_an_hour_answers_what_time_but_not_what_day() -> None:
    at_noon = "À midi, Altman est licencié."
    assert not answers_type(at_noon, asked("quel jour Altman a-t-il été licencié ?"))
    assert answers_type(at_noon, asked("À quelle heure Altman a-t-il été licencié ?"))
    assert answers_type("Le vote a eu lieu à 15 h 30.", asked("à quelle heure le vote ?"))
    assert answers_type("Il est licencié le vendredi 17 novembre.", asked("quel jour ?"))


def test_a_number_of_what_the_question_counts() -> None:
    beds = asked("Combien de lits aura l'unité rouverte ?")
    assert beds.counted == "lits"
    assert counts("Elle rouvrira avec dix lits au rez-de-chaussée.", beds)
    assert counts("Elle compte désormais 40 lits.", beds)
    assert not counts("Elle a fermé il y a trois ans faute de soignants.", beds)  # a number
    assert not counts("Le 3 mars, un lit a été ajouté.", beds)  # a date's day counts nothing
    firefighters = asked("Combien de pompiers ont été engagés ?")
    assert counts("Quelque 1 200 sapeurs-pompiers ont été engagés.", firefighters)
    duration = asked("Combien de temps a duré la réunion ?")
    assert counts("Elle a duré sept heures.", duration)
    assert not counts("Elle a réuni quarante personnes.", duration)
    assert asked("Qui a remplacé Mira Murati ?").counted is None
    assert not counts("Il a obtenu dix lits.", asked("Qui a obtenu des lits ?"))
