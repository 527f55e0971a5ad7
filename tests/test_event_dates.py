"""Event dates: one test per kind of expression, inheritance, storage, and measured accuracy."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from corpus import Article
from eval.dating import load_dated, score_event_dates
from index.directory import IndexDirectory
from index.event_dates import Dates, event_dates, parse_day
from index.manifest import IndexMismatchError, Manifest
from index.sentences import sentence_spans
from index.snapshot import Snapshot, build_snapshot
from tests.fakes import HashingEmbedder

MONDAY_20 = date(2023, 11, 20)
THURSDAY_23 = date(2023, 11, 23)
NOV = {day: date(2023, 11, day) for day in range(1, 31)}


def dates_of(text: str, published: date | None = MONDAY_20) -> list[Dates]:
    return event_dates(text, sentence_spans(text), published)


def test_absolute_date_with_weekday_and_year() -> None:
    assert dates_of("Le vendredi 17 novembre 2023, Sam Altman est renvoyé.") == [(NOV[17],)]
    assert dates_of("La note du 17/11/2023 le confirme.") == [(NOV[17],)]


def test_day_and_month_without_year_is_the_latest_on_or_before_publication() -> None:
    assert dates_of("Une note du 19 novembre le confirme.") == [(NOV[19],)]
    assert dates_of("ChatGPT est lancé le 30 novembre.") == [(date(2022, 11, 30),)]
    assert dates_of("Le 1er novembre, rien.") == [(NOV[1],)]


def test_weekday_alone_is_the_latest_such_day_on_or_before_publication() -> None:
    text = "Murati est nommée le vendredi, avant d'être remplacée le dimanche."
    assert dates_of(text) == [(NOV[17], NOV[19])]
    assert dates_of("Le lundi, une conférence.") == [(MONDAY_20,)]
    assert dates_of("Jeudi dernier, un message.", THURSDAY_23) == [(NOV[16],)]


def test_weekday_with_a_time_of_day() -> None:
    assert dates_of("C'est mercredi matin qu'un accord a été trouvé.", THURSDAY_23) == [(NOV[22],)]
    assert dates_of("Ils signent une lettre lundi matin.", THURSDAY_23) == [(MONDAY_20,)]


def test_last_weekend() -> None:
    text = "Le week-end dernier, OpenAI a publié un communiqué."
    assert dates_of(text, THURSDAY_23) == [(NOV[18], NOV[19])]
    assert dates_of(text, MONDAY_20) == [(NOV[18], NOV[19])]


def test_days_later_counts_from_the_last_date_told() -> None:
    text = "Murati est nommée le 17 novembre. Deux jours plus tard, Shear est nommé."
    assert dates_of(text) == [(NOV[17],), (NOV[19],)]
    assert dates_of("Le 17 novembre puis 3 jours plus tôt.") == [(NOV[14], NOV[17])]


def test_eve_and_next_day() -> None:
    text = "Le conseil vote le 17 novembre. La veille, un message. Le lendemain, la démission."
    assert dates_of(text) == [(NOV[17],), (NOV[16],), (NOV[17],)]


def test_yesterday_and_relative_without_any_date_use_publication() -> None:
    assert dates_of("Hier, le conseil a cédé.") == [(NOV[19],)]
    assert dates_of("La veille, rien.") == [(NOV[19],)]


def test_heading_dates_the_paragraphs_under_it_until_the_next_heading() -> None:
    text = (
        "Chronologie\n\nJeudi 16 novembre\n\nSutskever invite Altman à une réunion le lendemain."
        "\n\nVendredi 17 novembre\n\nÀ midi, Altman est licencié. Murati, informée jeudi, est "
        "nommée.\n\nSouvenez-vous de l'effet domino ?\n\nLe conseil se tait.\n\n"
        "Qu'est-ce qui a conduit au licenciement ?\n\nIl y a des spéculations.\n\nMercredi 22 "
        "novembre – aujourd'hui\n\nAltman retrouve son trône.\n\nPourquoi\n\nRien."
    )
    assert dates_of(text, date(2023, 11, 22)) == [
        (),
        (NOV[16],),
        (NOV[16], NOV[17]),
        (NOV[17],),
        (NOV[17],),
        (NOV[16], NOV[17]),
        (NOV[17],),  # a rhetorical question stays in the section
        (NOV[17],),
        (),  # an interrogative heading ends it
        (),
        (NOV[22],),
        (NOV[22],),
        (),
        (),
    ]


def test_quotations_keep_the_date_of_the_sentence_that_opens_them() -> None:
    text = (
        "Il a déclaré le lundi 20 novembre : « je regrette. Je n'ai jamais voulu nuire. "
        "J'aime OpenAI ». Un autre fait.\n\nDans une note du 19 novembre, le conseil a écrit :\n"
        "• « Nous maintenons. »\n• « Sam manque de franchise. »\nUne suite sans date."
    )
    assert dates_of(text) == [
        (MONDAY_20,),
        (MONDAY_20,),
        (MONDAY_20,),
        (),
        (NOV[19],),
        (NOV[19],),
        (NOV[19],),
        (),
    ]


def test_vague_periods_and_nowadays_date_nothing() -> None:
    text = (
        "La semaine dernière, une bombe. Grok est sorti début novembre. "
        "Aujourd'hui, elle ressemble à une entreprise. Sur 770 employés, 700 ont signé."
    )
    assert dates_of(text) == [(), (), (), ()]


def test_without_publication_date_only_dates_with_a_year_resolve() -> None:
    text = "Le vendredi 17 novembre 2023, un renvoi. Le dimanche, un autre. Le 19 novembre, rien."
    assert dates_of(text, None) == [(NOV[17],), (), ()]


def test_measured_accuracy_on_the_hand_dated_sentences(articles: list[Article]) -> None:
    gold = load_dated()
    accuracy, _ = score_event_dates(articles, gold)
    assert len(gold) >= 60
    assert sum(bool(row.dates) for row in gold) >= 30
    assert accuracy >= 0.9


def test_event_dates_are_stored_and_follow_the_publication_date(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    directory = IndexDirectory(tmp_path)
    directory.publish(fake_snapshot)
    loaded = directory.load(fake_embedder.model_id)
    for doc_id, table in fake_snapshot.sentences.items():
        assert loaded.sentences[doc_id].event_dates == table.event_dates
        assert len(table.event_dates) == len(table.spans)
    chronology = loaded.sentences["b0a15b7c1d0bc7bc"]
    assert chronology.dated(0) == () and NOV[16] in chronology.dated(6)

    article = fake_snapshot.articles["e21a9bdea7febeae"]  # « le week-end dernier », Thursday
    week_later = replace(article, published=date(2023, 11, 30))
    moved = fake_snapshot.updated(fake_embedder, add=[week_later])
    assert (NOV[18], NOV[19]) in fake_snapshot.sentences[article.doc_id].event_dates
    assert (NOV[25], NOV[26]) in moved.sentences[article.doc_id].event_dates


def test_an_index_of_the_previous_format_is_refused_clearly(
    tmp_path: Path, fake_snapshot: Snapshot, fake_embedder: HashingEmbedder
) -> None:
    folder = IndexDirectory(tmp_path).publish(fake_snapshot)
    old = replace(Manifest.read(folder), format_version=1)
    old.write(folder)
    with pytest.raises(IndexMismatchError, match="rebuild it with `depeche index`"):
        IndexDirectory(tmp_path).load(fake_embedder.model_id)


def test_build_snapshot_dates_sentences(fake_embedder: HashingEmbedder) -> None:
    article = Article("a", "T", "Le dimanche 19 novembre, Shear est nommé.", published=MONDAY_20)
    snapshot = build_snapshot(fake_embedder, 800, 150, keep={}, add=[article])
    assert snapshot.sentences["a"].event_dates == ((NOV[19],),)


def test_a_day_is_read_with_its_year_or_as_the_latest_before_publication() -> None:
    published = date(2023, 11, 20)
    assert parse_day("le 1er décembre", published) == date(2022, 12, 1)
    assert parse_day("Mardi 20 novembre", published) == date(2023, 11, 20)
    assert parse_day("29 février", published) == date(2020, 2, 29)  # the last leap year
    assert parse_day("3 sept. 2021", published) == date(2021, 9, 3)
    assert parse_day("17/11/2023", published) == date(2023, 11, 17)
    assert parse_day("31 avril 2023", published) is None
    assert parse_day("12/31/2023", published) is None  # day first, as in French
