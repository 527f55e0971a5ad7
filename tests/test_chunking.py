from corpus import Article
from index.chunking import chunk_article, make_splitter
from index.sentences import sentence_spans


def test_every_passage_slices_back_exactly(articles: list[Article]) -> None:
    splitter = make_splitter(500, 100)
    for article in articles:
        passages = chunk_article(article, splitter)
        assert passages
        for passage in passages:
            assert article.text[passage.start : passage.end] == passage.text
            assert 0 < len(passage.text) <= 500
        covered = {i for p in passages for i in range(p.start, p.end)}
        letters = {i for i, ch in enumerate(article.text) if not ch.isspace()}
        assert letters <= covered, "some article text is in no passage"


def test_chunking_is_stable_and_ids_unique(articles: list[Article]) -> None:
    splitter = make_splitter(800, 150)
    first = [p.passage_id for a in articles for p in chunk_article(a, splitter)]
    again = [p.passage_id for a in articles for p in chunk_article(a, make_splitter(800, 150))]
    assert first == again
    assert len(set(first)) == len(first)


def test_passages_end_on_sentence_or_paragraph_boundaries(articles: list[Article]) -> None:
    splitter = make_splitter(800, 150)
    passages = [p for a in articles for p in chunk_article(a, splitter)]
    clean_ends = [p for p in passages if p.text[-1] in '.!?…»"”:)' or p.text[-1].isalnum()]
    assert len(clean_ends) == len(passages)
    mid_word = [p for p in passages if p.end < len(p.text) and p.text[-1].isalnum()]
    assert not mid_word


def test_sentence_spans() -> None:
    text = "Sam Altman est licencié. M. Nadella l'embauche ! Puis ?\nTitre\n\nFin… « Oui. » Non"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "Sam Altman est licencié.",
        "M. Nadella l'embauche !",
        "Puis ?",
        "Titre",
        "Fin…",
        "« Oui. »",
        "Non",
    ]
