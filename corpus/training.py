"""The reader's training set: 42 fictional French news articles (other stories than the
built-in corpus) and the questions written over them, with the offsets of their answers.

Layout: `training/articles/<batch>/` (texts + manifest.json, each entry naming its `story`,
shared by articles that tell the same event) and `training/questions/<batch>.jsonl`. It is
never used for evaluation; the built-in corpus and eval/questions.jsonl never train.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from corpus.article import Article
from corpus.readers import CorpusError, read_paths

TRAINING_DIR = Path(__file__).parent / "training"
ARTICLES_DIR = TRAINING_DIR / "articles"
QUESTIONS_DIR = TRAINING_DIR / "questions"


@dataclass(frozen=True)
class Evidence:
    """A sentence that answers a question: `text[start:end]` of article `doc_id`."""

    doc_id: str
    start: int
    end: int
    short: str


@dataclass(frozen=True)
class TrainingQuestion:
    id: str
    question: str
    lang: str
    kind: str
    evidence: tuple[Evidence, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


@dataclass(frozen=True)
class TrainingSet:
    articles: dict[str, Article]
    stories: dict[str, str]  # doc_id -> story id
    questions: list[TrainingQuestion]


def load_training_set(root: Path = TRAINING_DIR) -> TrainingSet:
    """Read the articles and questions; every answer sentence must be found in its article."""
    articles: dict[str, Article] = {}
    stories: dict[str, str] = {}
    for batch in sorted(p for p in (root / "articles").iterdir() if p.is_dir()):
        articles |= {a.doc_id: a for a in read_paths([batch])}
        manifest = json.loads((batch / "manifest.json").read_text(encoding="utf-8"))
        stories |= {entry["doc_id"]: entry["story"] for entry in manifest["articles"]}
    questions = [
        _question(json.loads(line), articles, f"{path.name}:{number}")
        for path in sorted((root / "questions").glob("*.jsonl"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip()
    ]
    return TrainingSet(articles, stories, questions)


def _question(record: dict, articles: dict[str, Article], where: str) -> TrainingQuestion:
    evidence = []
    for answer in record["answers"]:
        article = articles.get(answer["doc_id"])
        start = article.text.find(answer["sentence"]) if article else -1
        if start < 0 or answer["short"] not in answer["sentence"]:
            raise CorpusError(f"{where}: answer sentence not found in {answer['doc_id']}")
        evidence.append(
            Evidence(answer["doc_id"], start, start + len(answer["sentence"]), answer["short"])
        )
    return TrainingQuestion(
        record["id"], record["question"], record["lang"], record["kind"], tuple(evidence)
    )
