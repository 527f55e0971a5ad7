"""The benchmark's corpora. Real text: the built-in corpus plus French manual pages
(eval/distractors.py). Larger sizes: articles recombined from the manual pages' sentences, with
random unit vectors instead of embeddings (`RandomVectors`), labelled as such in the report."""

import random
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from corpus import Article, builtin_articles
from eval.distractors import french_man_pages
from index.chunking import chunk_article, make_splitter
from index.embedding import Embedder
from index.sentences import sentence_spans

SENTENCES_PER_PARAGRAPH = 4
PARAGRAPHS_PER_ARTICLE = 6  # about 3 passages of 1,000 characters


def real_articles(passages: int, chunk_size: int, chunk_overlap: int) -> list[Article]:
    """The built-in corpus and manual pages until about `passages` passages."""
    articles = builtin_articles()
    splitter = make_splitter(chunk_size, chunk_overlap)
    count = sum(len(chunk_article(a, splitter)) for a in articles)
    for page in french_man_pages(2 * passages, chunk_size - chunk_overlap):
        if count >= passages:
            break
        articles.append(page)
        count += len(chunk_article(page, splitter))
    return articles


def french_sentences() -> list[str]:
    """The sentences of the French manual pages that read as prose (40 characters or more)."""
    found = []
    for article in french_man_pages(10**9, 1):
        spans = sentence_spans(article.text)
        found += [article.text[s:e] for s, e in spans if e - s >= 40]
    return found


def recombined_articles(
    sentences: Sequence[str], passages: int, chunk_step: int, seed: int, prefix: str
) -> list[Article]:
    """Articles of real French sentences in a seeded random order, about `passages` passages'
    worth, each with its own doc_id, a source among ten and a publication day in 2023."""
    rng = random.Random(seed)
    articles: list[Article] = []
    budget = passages * chunk_step
    while budget > 0:
        paragraphs = [
            " ".join(rng.choice(sentences) for _ in range(SENTENCES_PER_PARAGRAPH))
            for _ in range(PARAGRAPHS_PER_ARTICLE)
        ]
        text = "\n\n".join(paragraphs)
        number = len(articles)
        articles.append(
            Article(
                f"{prefix}-{number:07d}",
                paragraphs[0][:80],
                text,
                source=f"site-{number % 10}",
                published=date(2023, 1, 1) + timedelta(days=number % 365),
            )
        )
        budget -= len(text)
    return articles


class RandomVectors:
    """An embedder with the real model's id and query encoder whose passage and sentence
    vectors are seeded random unit vectors: an index of a size that cannot be embedded in time
    on this machine."""

    def __init__(self, real: Embedder, seed: int = 0) -> None:
        self.model_id = real.model_id
        self.dimension = real.dimension
        self._real = real
        self._rng = np.random.default_rng(seed)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        vectors = self._rng.standard_normal((len(texts), self.dimension), dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)

    def embed_query(self, text: str) -> np.ndarray:
        return self._real.embed_query(text)
