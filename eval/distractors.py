"""Distractors: a large body of real, unrelated French text (Debian's French manual pages).

Install it with `apt-get install manpages-fr man-db groff-base`. Each page becomes one
Article, so the index holds thousands of passages that must not outrank the news.
"""

import gzip
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from corpus import Article
from corpus.clean import clean_text

MAN_DIR = Path("/usr/share/man/fr")


class DistractorsUnavailable(RuntimeError):
    """The French manual pages (or the tools to render them) are not installed."""


def french_man_pages(max_passages: int, chunk_step: int) -> list[Article]:
    """Render French man pages as articles until about `max_passages` passages' worth.

    `chunk_step` is the chunk size minus the overlap: the characters each passage adds.
    """
    if not MAN_DIR.is_dir() or shutil.which("man") is None:
        raise DistractorsUnavailable(
            "French manual pages not found: apt-get install manpages-fr man-db groff-base"
        )
    articles: list[Article] = []
    budget = max_passages * chunk_step
    pages = sorted(MAN_DIR.rglob("*.gz"))
    for page, text in tqdm(_render(pages), total=len(pages), desc="Distractors", unit="page"):
        if budget <= 0:
            break
        name = page.name.removesuffix(".gz")
        articles.append(Article(f"man-{name}", f"man {name}", text, source="manpages-fr"))
        budget -= len(text)
    return articles


def _render(pages: list[Path]) -> Iterator[tuple[Path, str]]:
    for page in pages:
        try:
            with gzip.open(page) as stream:
                stream.read(1)
        except OSError:
            continue
        result = subprocess.run(
            ["man", "-E", "UTF-8", "-l", "-P", "cat", str(page)],
            capture_output=True,
            text=True,
            env={"MANWIDTH": "2000", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"},
            check=False,
        )
        text = clean_text(result.stdout.replace("\t", " "))
        if result.returncode == 0 and len(text) > 200:
            yield page, text
