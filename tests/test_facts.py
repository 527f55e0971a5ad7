"""Who holds which role: the text must link the person and the role word; roles taken back,
new states and facts read when the answer sentence states none (service.facts, service.news)."""

import pytest

from index.snapshot import Snapshot
from service.answering import QuestionAnswerer
from service.facts import claim_in, focus_of
from service.tuning import RankingTuning
from tests.fakes import HashingEmbedder

CEO = focus_of("qui est le PDG d'OpenAI ?")
ROLE = focus_of("Quel est le poste de Greg Brockman chez OpenAI ?")


@pytest.fixture(scope="module")
def answerer(fake_snapshot: Snapshot, fake_embedder: HashingEmbedder) -> QuestionAnswerer:
    return QuestionAnswerer(fake_snapshot, fake_embedder, tuning=RankingTuning(threshold=-10))


@pytest.mark.parametrize(
    ("sentence", "holder"),
    [
        ("Emmett Shear a été nommé PDG d'OpenAI.", "shear"),
        ("Il annonce l'ancien patron de Twitch, Emmett Shear, en tant que nouveau PDG.", "shear"),
        ("Mira Murati, directrice technique, devient PDG par intérim.", "murati"),
        ("Sam Altman revient à OpenAI en tant que PDG avec un nouveau conseil.", "altman"),
        ("Le PDG de l'entreprise, Jean Dupont, a démissionné.", "dupont"),
        ("Acme's CEO Jane Roe was fired.", "roe"),
        # the role word belongs to another clause: nobody is said to hold it
        ("Le départ du cofondateur Greg Brockman, voulait soutenir le CEO de l'entreprise.", None),
        ("Paul Martin a rencontré le PDG.", None),
        ("Le PDG a félicité Paul Martin.", None),
        # not across another person: « X retrouve son poste de PDG et Y celui de … »
        ("Sam Altman retrouve son poste de PDG et Greg Brockman celui de directeur.", "altman"),
    ],
)  # fmt: skip
def test_a_role_belongs_to_the_person_the_text_links_it_to(
    sentence: str, holder: str | None
) -> None:
    assert CEO is not None
    claim = claim_in(sentence, CEO)
    assert (claim.value if claim else None) == holder


def test_the_role_of_a_person() -> None:
    assert ROLE is not None
    cto = claim_in(
        "Sam Altman retrouve son poste et Greg Brockman celui de directeur technique.", ROLE
    )
    assert cto is not None and cto.value == "cto"
    former = claim_in("L'ancien président d'OpenAI, Greg Brockman, a démissionné.", ROLE)
    assert former is not None and former.value == "president" and former.ended
    english = claim_in("Greg Brockman, OpenAI's president, quit.", ROLE)
    assert english is not None and english.value == "president"


def test_back_in_the_role_is_the_current_state() -> None:
    assert CEO is not None
    back = claim_in(
        "La semaine s'est terminée avec Altman de retour aux commandes, et les membres du "
        "conseil qui l'ont évincé démissionnant.",
        CEO,
    )
    assert back is not None and back.value == "altman" and not back.ended
    ousted = claim_in("Le CEO d'OpenAI, Sam Altman, a été licencié.", CEO)
    assert ousted is not None and ousted.ended


def test_the_fact_is_read_elsewhere_when_the_answer_states_none(
    answerer: QuestionAnswerer,
) -> None:
    answer = answerer.ask("Sur combien d'employés la lettre a-t-elle été signée ?").answer
    assert answer is not None
    for cited in (*answer.supporting, *answer.conflicting):
        assert cited.citation.doc_id != answer.citation.doc_id
