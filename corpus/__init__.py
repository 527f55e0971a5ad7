"""Articles as data: reading, cleaning and normalising news articles into `Article` records."""

from corpus.article import Article
from corpus.readers import CorpusError, builtin_articles, read_paths

__all__ = ["Article", "CorpusError", "builtin_articles", "read_paths"]
