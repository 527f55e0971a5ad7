"""The shipped reader with the real model: loads offline, fits the index, answers."""

import dataclasses
import json
import logging

import numpy as np
import pytest

from index.embedding import Embedder, TokenEmbedder
from index.snapshot import Snapshot
from service.calibration import MAX_WITHHELD
from service.reader import CARD_FILE, MODELS_DIR, WEIGHTS_FILE, Reader, file_id
from service.runtime import make_answerer
from service.settings import Settings
from service.tuning import RankingTuning

pytestmark = pytest.mark.integration


def test_the_shipped_reader_is_small_and_described_by_its_card() -> None:
    card = json.loads((MODELS_DIR / CARD_FILE).read_text(encoding="utf-8"))
    assert (MODELS_DIR / WEIGHTS_FILE).stat().st_size < 30 * 2**20
    assert card["id"] == file_id(MODELS_DIR / WEIGHTS_FILE)
    assert {"seed", "training_data", "cross_validation_by_story", "weight"} <= card.keys()
    assert card["no_answer"]["answerable_withheld"] <= MAX_WITHHELD


def test_the_index_records_the_reader_and_the_answerer_reads_with_it(
    real_snapshot: Snapshot, real_embedder: Embedder
) -> None:
    reader = Reader.load()
    assert real_snapshot.manifest.reader == reader.id
    table = next(iter(real_snapshot.sentences.values()))
    assert table.tokens[0].shape[1] == reader.dimension
    answerer = make_answerer(Settings(), real_snapshot, real_embedder)
    assert answerer.reader is not None
    answer = answerer.ask("qui a remplacé Mira Murati ?", k=5)
    assert answer.answer is not None
    assert "Emmett Shear" in answer.answer.text


def test_without_the_reader_the_formula_answers(
    real_snapshot: Snapshot, real_embedder: Embedder
) -> None:
    answerer = make_answerer(Settings(reader=False), real_snapshot, real_embedder)
    assert answerer.reader is None
    assert answerer.tuning.threshold == RankingTuning.threshold
    assert answerer.ask("qui a remplacé Mira Murati ?", k=5).passages


def test_the_no_answer_threshold_is_the_readers_unless_set(
    real_snapshot: Snapshot, real_embedder: Embedder
) -> None:
    calibrated = make_answerer(Settings(), real_snapshot, real_embedder).tuning.threshold
    assert calibrated == Reader.load().threshold != RankingTuning.threshold
    chosen = Settings(no_answer_threshold=2.0)
    strict = make_answerer(chosen, real_snapshot, real_embedder)
    assert strict.tuning.threshold == 2.0
    assert strict.ask("qui a remplacé Mira Murati ?", k=5).no_answer


class Recorder(logging.Handler):
    """Keeps the messages logged to the logger it is added to."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_an_index_built_for_another_reader_is_read_by_the_formula_with_a_warning(
    real_snapshot: Snapshot, real_embedder: Embedder
) -> None:
    manifest = dataclasses.replace(real_snapshot.manifest, reader="an-older-reader")
    older = dataclasses.replace(real_snapshot, manifest=manifest)
    handler = Recorder(logging.WARNING)
    logger = logging.getLogger("depeche.index")  # its parents may not propagate (service.logs)
    logger.addHandler(handler)
    try:
        answerer = make_answerer(Settings(), older, real_embedder)
    finally:
        logger.removeHandler(handler)
    assert answerer.reader is None
    assert answerer.tuning.threshold == RankingTuning.threshold
    warnings = handler.messages
    assert any("an-older-reader" in w and "depeche index" in w for w in warnings), warnings


def test_token_vectors_come_from_the_pass_that_embeds(real_embedder: Embedder) -> None:
    """Batched and sorted by length, each text's token vectors stop at its own last token
    (so they do not depend on the batch) and equal sentence-transformers' token embeddings;
    the vectors are `embed_passages`'."""
    texts = ["Emmett Shear dirige OpenAI.", "Un.", "Sam Altman revient chez OpenAI le 22 novembre."]
    embedder: TokenEmbedder = real_embedder  # type: ignore[assignment]
    vectors, tokens = embedder.embed_passages_with_tokens(texts)
    assert np.allclose(vectors, real_embedder.embed_passages(texts), atol=1e-5)
    alone = [embedder.embed_passages_with_tokens([text])[1][0] for text in texts]
    for together, single in zip(tokens, alone, strict=True):
        assert together.shape == single.shape
        assert np.allclose(together, single, atol=1e-4)
    assert tokens[1].shape[0] < tokens[2].shape[0]
    vector, query_tokens = embedder.embed_query_tokens("qui dirige OpenAI ?")
    assert np.allclose(vector, real_embedder.embed_query("qui dirige OpenAI ?"), atol=1e-5)
    assert query_tokens.shape[1] == real_embedder.dimension
