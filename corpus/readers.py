"""Reading articles from files: .txt, .md, .jsonl and .html, with an optional manifest.json.

A directory that holds a `manifest.json` (see `corpus/seeds/manifest.json`) gets its
metadata from it; otherwise the title is the first short line and the doc_id a content hash.
"""

import json
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from corpus.article import DOC_ID, Article, content_id
from corpus.clean import clean_text, normalise_typography
from corpus.dates import infer_published

SEEDS_DIR = Path(__file__).parent / "seeds"
SUFFIXES = (".txt", ".md", ".jsonl", ".html", ".htm")
_TITLE_MAX = 200


class CorpusError(ValueError):
    """A file or record that cannot be read as an article; the message says why."""


def builtin_articles() -> list[Article]:
    """The five seed articles shipped with depeche."""
    return read_paths([SEEDS_DIR])


def read_paths(paths: Iterable[Path]) -> list[Article]:
    """Read every supported file under `paths` (files or directories), in a stable order."""
    articles: list[Article] = []
    for path in paths:
        if not path.exists():
            raise CorpusError(f"{path}: no such file or directory")
        if path.is_dir():
            articles.extend(_read_dir(path))
        else:
            articles.extend(_read_file(path, {}))
    _check_unique(articles)
    return articles


def _read_dir(folder: Path) -> Iterator[Article]:
    manifest = _load_manifest(folder / "manifest.json")
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix.lower() in SUFFIXES:
            yield from _read_file(path, manifest.get(path.name, {}))


def _load_manifest(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["articles"]
        return {entry["file"]: entry for entry in entries}
    except (ValueError, KeyError, TypeError) as error:
        raise CorpusError(f"{path}: not a valid manifest ({error})") from error


def _read_file(path: Path, meta: dict[str, Any]) -> Iterator[Article]:
    suffix = path.suffix.lower()
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path}: not UTF-8 text ({error})") from error
    if suffix == ".jsonl":
        yield from _read_jsonl(path, raw)
    elif suffix in (".html", ".htm"):
        yield article_from_html(raw, {**meta, "fallback_title": path.stem})
    else:
        yield article_from_text(raw, {**meta, "fallback_title": path.stem})


def _read_jsonl(path: Path, raw: str) -> Iterator[Article]:
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise CorpusError(f"{path}:{number}: invalid JSON ({error})") from error
        if not isinstance(record, dict):
            raise CorpusError(f"{path}:{number}: expected a JSON object")
        try:
            yield article_from_record(record)
        except CorpusError as error:
            raise CorpusError(f"{path}:{number}: {error}") from error


def article_from_record(record: dict[str, Any]) -> Article:
    """An article from a JSON object with `text` or `html` plus optional metadata."""
    if isinstance(record.get("html"), str):
        return article_from_html(record["html"], record)
    if not isinstance(record.get("text"), str):
        raise CorpusError("a record needs a 'text' or an 'html' string")
    return article_from_text(record["text"], record)


def article_from_html(html: str, meta: dict[str, Any]) -> Article:
    """Extract the main text and metadata of an HTML page with trafilatura; a page where it
    finds no main text (a fragment, a short note) keeps its visible text."""
    import trafilatura

    result = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
    extracted = result if isinstance(result, dict) or result is None else result.as_dict()
    if not extracted or not extracted.get("text"):
        extracted = {"text": _visible_text(html)}
    found = {
        "title": extracted.get("title"),
        "source": extracted.get("sitename"),
        "url": extracted.get("url"),
        "published": extracted.get("date"),
        "language": extracted.get("language"),
    }
    merged = {key: value for key, value in found.items() if value} | {
        key: value for key, value in meta.items() if value is not None
    }
    return article_from_text(str(extracted["text"]), merged)


def _visible_text(html: str) -> str:
    """The text of a page without its markup, scripts and styles."""
    from lxml import etree
    from lxml.html import document_fromstring

    try:
        tree = document_fromstring(html)
    except (etree.ParserError, ValueError):
        return ""
    etree.strip_elements(tree, "script", "style", with_tail=False)
    return str(tree.text_content())


def article_from_text(raw: str, meta: dict[str, Any]) -> Article:
    """Clean `raw` and attach metadata; infer title, id and date where not given."""
    text = clean_text(raw)
    if not text:
        raise CorpusError("the article is empty after cleaning")
    published, inferred = _published(meta.get("published"), text)
    return Article(
        doc_id=_doc_id(meta.get("doc_id"), text),
        title=normalise_typography(str(meta.get("title") or _first_line_title(text, meta))),
        text=text,
        source=meta.get("source") or None,
        url=meta.get("url") or None,
        published=published,
        published_inferred=bool(meta.get("published_inferred", inferred)),
        language=str(meta.get("language") or "fr"),
    )


def _doc_id(given: object, text: str) -> str:
    if given is None:
        return content_id(text)
    doc_id = str(given)
    if not re.fullmatch(DOC_ID, doc_id):
        raise CorpusError(f"doc_id {doc_id!r} must be 1-128 letters, digits, '.', '_' or '-'")
    return doc_id


def _published(given: object, text: str) -> tuple[date | None, bool]:
    if given in (None, ""):
        found = infer_published(text)
        return found, found is not None
    try:
        return date.fromisoformat(str(given)[:10]), False
    except ValueError as error:
        raise CorpusError(f"published date {given!r} is not YYYY-MM-DD") from error


def _first_line_title(text: str, meta: dict[str, Any]) -> str:
    first = text.split("\n", 1)[0].lstrip("# ").strip()
    if 0 < len(first) <= _TITLE_MAX and not first.endswith("."):
        return first
    return str(meta.get("fallback_title") or first[:80])


def _check_unique(articles: list[Article]) -> None:
    seen: set[str] = set()
    for article in articles:
        if article.doc_id in seen:
            raise CorpusError(f"doc_id {article.doc_id!r} appears twice")
        seen.add(article.doc_id)
