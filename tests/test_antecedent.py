from corpus import Article
from index.snapshot import Snapshot, build_snapshot
from service.antecedent import antecedent_start
from tests.fakes import HashingEmbedder

TEXT = (
    "Le conseil ne garde qu'Adam D'Angelo. Ce dernier, patron de Quora, reste seul. "
    "Le vote a eu lieu vendredi.\n\nIl pleuvait sur San Francisco. Selon elle, rien n'a changé."
)


def spans() -> tuple[Snapshot, dict[str, tuple[int, int]]]:
    article = Article("d", "Conseil", TEXT)
    snapshot = build_snapshot(HashingEmbedder(), 800, 150, keep={}, add=[article])
    found = {}
    for opening in ("Le conseil", "Ce dernier", "Le vote", "Il pleuvait", "Selon elle"):
        start = TEXT.index(opening)
        found[opening] = (start, TEXT.index(".", start) + 1)
    return snapshot, found


def test_a_sentence_opening_with_an_anaphor_cites_the_one_before() -> None:
    snapshot, found = spans()
    assert antecedent_start(snapshot, "d", *found["Ce dernier"]) == 0
    selon = antecedent_start(snapshot, "d", *found["Selon elle"])
    assert selon == found["Il pleuvait"][0]


def test_other_sentences_and_paragraph_openings_cite_themselves() -> None:
    snapshot, found = spans()
    for opening in ("Le conseil", "Le vote", "Il pleuvait"):  # the last opens a paragraph
        start, end = found[opening]
        assert antecedent_start(snapshot, "d", start, end) == start
