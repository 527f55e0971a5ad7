"""Splitting articles into passages that keep exact character offsets into the article."""

import hashlib
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from corpus import Article

# Paragraphs first, then lines, then French sentence ends, then clauses, then words.
SEPARATORS = [r"\n\n+", r"\n", r"(?<=[.!?…»])\s+", r"(?<=[;:])\s+", r"(?<=,)\s+", r"\s+", ""]


@dataclass(frozen=True)
class Passage:
    """A chunk of one article: `text == article.text[start:end]`, sliced when asked (the
    article's text is shared, not copied: at 10^5 passages that is 100 MB less)."""

    passage_id: str
    doc_id: str
    start: int
    end: int
    article_text: str = field(repr=False, compare=False)

    @property
    def text(self) -> str:
        return self.article_text[self.start : self.end]

    @property
    def vector_id(self) -> int:
        """A positive 60-bit integer id for FAISS, derived from `passage_id`."""
        return int(self.passage_id[:15], 16)


def passage_id(doc_id: str, start: int, text: str) -> str:
    """Stable id from content: the same article chunked the same way gives the same ids."""
    digest = hashlib.sha256(f"{doc_id}\x00{start}\x00{text}".encode()).hexdigest()
    return digest[:16]


def make_splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    """The French-aware recursive splitter (sizes in characters)."""
    if not 0 <= chunk_overlap < chunk_size:
        raise ValueError("chunk_overlap must be >= 0 and smaller than chunk_size")
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        strip_whitespace=True,
    )


def chunk_article(article: Article, splitter: RecursiveCharacterTextSplitter) -> list[Passage]:
    """Passages of `article`, located in its text so that offsets slice back exactly."""
    passages: list[Passage] = []
    cursor = 0
    for chunk in splitter.split_text(article.text):
        start = article.text.find(chunk, cursor)
        if start < 0:
            raise RuntimeError(f"chunk not found in {article.doc_id} after offset {cursor}")
        end = start + len(chunk)
        passages.append(
            Passage(
                passage_id(article.doc_id, start, chunk), article.doc_id, start, end, article.text
            )
        )
        cursor = start + 1
    return passages
