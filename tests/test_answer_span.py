from corpus import Article
from index.snapshot import Snapshot, build_snapshot
from service.answer_span import answer_span
from tests.fakes import HashingEmbedder

TEXT = (
    "Le conseil ne garde qu'Adam D'Angelo. Ce dernier, patron de Quora, reste seul. "
    "Le vote a eu lieu vendredi.\n\nIl pleuvait sur San Francisco. Selon elle, rien n'a changé. "
    "Un analyste a écrit :\n\n« Microsoft a gagné. » La suite est connue."
)
OPENINGS = (
    "Le conseil",
    "Ce dernier",
    "Le vote",
    "Il pleuvait",
    "Selon elle",
    "Un analyste",
    "« Microsoft",
    "La suite",
)


def spans() -> tuple[Snapshot, dict[str, tuple[int, int]]]:
    article = Article("d", "Conseil", TEXT)
    snapshot = build_snapshot(HashingEmbedder(), 800, 150, keep={}, add=[article])
    table = snapshot.sentences["d"].spans
    found = {}
    for opening in OPENINGS:
        start = TEXT.index(opening)
        (end,) = [int(e) for s, e in table if s == start]  # a sentence of the index
        found[opening] = (start, end)
    return snapshot, found


def test_a_sentence_opening_with_an_anaphor_cites_the_one_before() -> None:
    snapshot, found = spans()
    ce_dernier = found["Ce dernier"]
    assert answer_span(snapshot, "d", *ce_dernier) == (0, ce_dernier[1])
    selon = found["Selon elle"]
    assert answer_span(snapshot, "d", *selon) == (found["Il pleuvait"][0], selon[1])


def test_a_sentence_ending_with_a_colon_cites_the_next_one_even_past_a_paragraph() -> None:
    snapshot, found = spans()
    announcing = found["Un analyste"]
    quoted = found["« Microsoft"]
    assert answer_span(snapshot, "d", *announcing) == (announcing[0], quoted[1])


def test_other_sentences_and_paragraph_openings_cite_themselves() -> None:
    snapshot, found = spans()
    for opening in ("Le conseil", "Le vote", "Il pleuvait", "« Microsoft", "La suite"):
        assert answer_span(snapshot, "d", *found[opening]) == found[opening]
