from corpus import Article
from index.answer_types import asked
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
UNTYPED = asked("Qui a gagné ?")  # asks for no date or number


def spans(
    text: str = TEXT, openings: tuple[str, ...] = OPENINGS
) -> tuple[Snapshot, dict[str, tuple[int, int]]]:
    article = Article("d", "Conseil", text)
    snapshot = build_snapshot(HashingEmbedder(), 800, 150, keep={}, add=[article])
    table = snapshot.sentences["d"].spans
    found = {}
    for opening in openings:
        start = text.index(opening)
        (end,) = [int(e) for s, e in table if s == start]  # a sentence of the index
        found[opening] = (start, end)
    return snapshot, found


def test_a_sentence_opening_with_an_anaphor_cites_the_one_before() -> None:
    snapshot, found = spans()
    ce_dernier = found["Ce dernier"]
    assert answer_span(snapshot, "d", *ce_dernier, UNTYPED) == (0, ce_dernier[1])
    selon = found["Selon elle"]
    assert answer_span(snapshot, "d", *selon, UNTYPED) == (found["Il pleuvait"][0], selon[1])


def test_a_sentence_ending_with_a_colon_cites_the_next_one_even_past_a_paragraph() -> None:
    snapshot, found = spans()
    announcing = found["Un analyste"]
    quoted = found["« Microsoft"]
    assert answer_span(snapshot, "d", *announcing, UNTYPED) == (announcing[0], quoted[1])


def test_other_sentences_and_paragraph_openings_cite_themselves() -> None:
    snapshot, found = spans()
    for opening in ("Le conseil", "Le vote", "Il pleuvait", "« Microsoft", "La suite"):
        assert answer_span(snapshot, "d", *found[opening], UNTYPED) == found[opening]


DATED = (
    "Jan Leike quitte l'entreprise. L'annonce date du 17 mai 2024. Le départ surprend.\n\n"
    "Le 3 mars, le conseil se réunit. Sam Altman est renvoyé. Le vote compte 4 voix.\n\n"
    "Le directeur démissionne.\n\nLe 5 juin fut calme."
)
DATED_OPENINGS = (
    "Jan Leike",
    "L'annonce",
    "Le départ",
    "Le 3 mars",
    "Sam Altman",
    "Le vote",
    "Le directeur",
)


def test_a_sentence_lacking_the_date_asked_cites_the_next_one_holding_it() -> None:
    snapshot, found = spans(DATED, DATED_OPENINGS)
    leaving = found["Jan Leike"]
    when = asked("Quand Jan Leike est-il parti ?")
    assert answer_span(snapshot, "d", *leaving, when) == (leaving[0], found["L'annonce"][1])


def test_else_the_previous_one_holding_it() -> None:
    snapshot, found = spans(DATED, DATED_OPENINGS)
    fired = found["Sam Altman"]
    when = asked("Quand Sam Altman a-t-il été renvoyé ?")
    assert answer_span(snapshot, "d", *fired, when) == (found["Le 3 mars"][0], fired[1])


def test_the_typed_neighbour_stays_within_the_paragraph_and_the_type_asked() -> None:
    snapshot, found = spans(DATED, DATED_OPENINGS)
    when = asked("Quand le directeur a-t-il démissionné ?")
    alone = found["Le directeur"]  # the date is in the next paragraph
    assert answer_span(snapshot, "d", *alone, when) == alone
    dated = found["L'annonce"]  # already holds the date
    assert answer_span(snapshot, "d", *dated, when) == dated
    how_many = asked("Combien de voix le vote a-t-il compté ?")
    fired = found["Sam Altman"]  # « 3 mars » is a date, « 4 voix » the number asked
    assert answer_span(snapshot, "d", *fired, how_many) == (fired[0], found["Le vote"][1])
    assert answer_span(snapshot, "d", *fired, UNTYPED) == fired
