import json
from datetime import date
from pathlib import Path

import pytest

from corpus import Article, CorpusError, builtin_articles, read_paths
from corpus.article import content_id

HTML = """<!doctype html><html lang="fr"><head><title>Emmett Shear nommé PDG - Le Site</title>
<meta property="og:site_name" content="Le Site"><meta property="article:published_time"
content="2023-11-20T08:00:00Z"></head><body><nav>Accueil Tech Business</nav><article>
<h1>Emmett Shear nommé PDG d’OpenAI</h1>
<p>Le conseil d’administration d’OpenAI a nommé Emmett Shear, fondateur de Twitch, au poste de
PDG par intérim dimanche 19 novembre, après Mira Murati qui n’aura tenu que deux jours.</p>
<p>Sam Altman, évincé vendredi, a rejoint Microsoft pour diriger une nouvelle équipe de recherche
en intelligence artificielle, selon Satya Nadella, le patron de Microsoft.</p>
</article><footer>Partager l'article : Facebook Twitter</footer></body></html>"""


def test_reads_txt_md_jsonl_and_html(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Titre simple\n\nLe 20 novembre 2023, l’article parle.", "utf-8"
    )
    (tmp_path / "b.md").write_text("# Un titre\n\nDu texte en Markdown.", "utf-8")
    record = {"doc_id": "rec-1", "title": "Record", "text": "Texte du record.", "source": "X"}
    (tmp_path / "c.jsonl").write_text(json.dumps(record) + "\n\n", "utf-8")
    (tmp_path / "d.html").write_text(HTML, "utf-8")
    (tmp_path / "ignored.csv").write_text("a,b", "utf-8")

    by_title = {a.title: a for a in read_paths([tmp_path])}

    txt = by_title["Titre simple"]
    assert txt.doc_id == content_id(txt.text)
    assert txt.published == date(2023, 11, 20) and txt.published_inferred
    assert "l'article" in txt.text
    assert by_title["Un titre"].text.startswith("# Un titre")
    assert by_title["Record"].doc_id == "rec-1" and by_title["Record"].source == "X"
    html = next(a for a in by_title.values() if "Emmett Shear" in a.text)
    assert "fondateur de Twitch" in html.text and "Satya Nadella" in html.text
    assert "Accueil" not in html.text and "Partager" not in html.text
    assert html.published == date(2023, 11, 20) and not html.published_inferred
    assert html.source == "Le Site"
    assert len(by_title) == 4


def test_manifest_gives_metadata(articles: list[Article]) -> None:
    chronology = next(a for a in articles if a.doc_id == "b0a15b7c1d0bc7bc")
    assert chronology.source == "Djaboo"
    assert chronology.published == date(2023, 11, 22) and chronology.published_inferred
    assert [a.doc_id for a in articles] == [a.doc_id for a in builtin_articles()]
    assert len(articles) == 5


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.jsonl", "{not json}\n", "invalid JSON"),
        ("list.jsonl", "[1, 2]\n", "expected a JSON object"),
        ("notext.jsonl", '{"title": "x"}\n', "'text' or an 'html'"),
        ("baddate.jsonl", '{"text": "Du texte.", "published": "hier"}\n', "YYYY-MM-DD"),
        ("badid.jsonl", '{"text": "Du texte.", "doc_id": "../etc"}\n', "doc_id"),
        ("empty.txt", "Laisser un commentaire\n", "empty after cleaning"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content, "utf-8")
    with pytest.raises(CorpusError, match=message):
        read_paths([tmp_path / name])


def test_missing_path_and_duplicate_ids(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no such file"):
        read_paths([tmp_path / "nope"])
    line = json.dumps({"doc_id": "same", "text": "Un texte."})
    (tmp_path / "dup.jsonl").write_text(line + "\n" + line + "\n", "utf-8")
    with pytest.raises(CorpusError, match="appears twice"):
        read_paths([tmp_path])


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("Élysée".encode("latin-1"))
    with pytest.raises(CorpusError, match="UTF-8"):
        read_paths([tmp_path])
