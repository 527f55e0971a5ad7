"""The learned reader: scores how well each candidate sentence answers the question.

A late-interaction cross-encoder on top of multilingual-e5-small. The question's token
vectors (from the same forward pass that embeds it for retrieval) meet the token vectors of
the sentence, of its neighbouring sentences and of the article title: every question token
looks for its best match in each (MaxSim over a learned projection, weighted by a learned
per-token weight), a learned bilinear form compares the two texts as wholes (« combien »
against a sentence full of figures), and a small network combines these interactions with
what is known before reading (cosine, shared terms, answer type, passage rank). Its output
is a logit (sigmoid: the probability that the sentence answers), added with the weight
chosen by cross-validation to the answer formula's score (service/ranking.py). Its card also
holds the `no_answer` threshold calibrated on the training corpus (service/calibration.py).

Inference is NumPy only; `service/reader_training.py` trains the same computation in torch
(`depeche train-reader`). The weights ship in `service/models/`.
"""

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.answer_types import AnswerType
from index.snapshot import ReaderTokens
from service.candidates import Candidate, Question

MODELS_DIR = Path(__file__).parent / "models"
WEIGHTS_FILE = "reader.npz"
CARD_FILE = "reader.json"
SCALARS = 10


class ReaderError(RuntimeError):
    """The reader's files are missing or do not fit the embedding model."""


def scalar_features(candidate: Candidate, question: Question) -> np.ndarray:
    """What is known of a candidate before reading, scaled to about [0, 1]."""
    asks = question.asked.types
    return np.array(
        [
            candidate.cosine,
            candidate.shared,
            candidate.heading,
            candidate.typed,
            candidate.has_date and AnswerType.DATE in asks,
            candidate.has_number and AnswerType.NUMBER in asks,
            bool(asks) and not candidate.typed,
            candidate.passage_rank / 3,
            np.log1p(candidate.end - candidate.start) / 6,
            candidate.has_date or candidate.has_number,
        ],
        dtype=np.float32,
    )


class Reader:
    """Scores candidates with trained weights (see the module docstring)."""

    def __init__(self, weights: dict[str, np.ndarray], card: dict) -> None:
        self.weights = {name: np.asarray(w, dtype=np.float32) for name, w in weights.items()}
        self.card = card
        self.id: str = card["id"]
        self.weight: float = float(card["weight"])
        self.passages_read = int(card["passages_read"])
        # the answer confidence below which no_answer is returned, calibrated with this reader
        self.threshold = float(card["no_answer"]["threshold"])
        self.dimension = int(self.weights["projection"].shape[1])

    @classmethod
    def load(cls, folder: Path = MODELS_DIR) -> "Reader":
        try:
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as data:
                weights = {name: data[name] for name in data.files}
            card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
            return cls(weights, card)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ReaderError(
                f"cannot load the reader from {folder}: {error!r}; rebuild it with "
                "`depeche train-reader`"
            ) from error

    def project(self, tokens: np.ndarray) -> np.ndarray:
        """Token vectors of the embedding model -> the reader's normalised token space."""
        projected = tokens.astype(np.float32) @ self.weights["projection"]
        norms = np.linalg.norm(projected, axis=-1, keepdims=True)
        return (projected / np.maximum(norms, 1e-6)).astype(np.float16)

    def score(
        self,
        question: Question,
        question_tokens: np.ndarray,
        candidates: Sequence[Candidate],
        readings: Sequence[ReaderTokens],
    ) -> np.ndarray:
        """One logit per candidate; `readings` hold projected token vectors."""
        if not candidates:
            return np.empty(0, dtype=np.float32)
        w = self.weights
        q = self.project(question_tokens).astype(np.float32)
        token_weight = _softplus(question_tokens @ w["token_weight"] + w["token_bias"])
        token_weight = token_weight / token_weight.sum()
        q_mean = q.mean(0)
        rows = []
        for candidate, reading in zip(candidates, readings, strict=True):
            sentence = reading.sentence.astype(np.float32)
            rows.append(
                np.concatenate(
                    [
                        [
                            _maxsim(q, token_weight, sentence),
                            _maxsim(q, token_weight, reading.neighbours.astype(np.float32)),
                            _maxsim(q, token_weight, reading.title.astype(np.float32)),
                            float(q_mean @ w["bilinear"] @ sentence.mean(0)),
                        ],
                        scalar_features(candidate, question),
                    ]
                )
            )
        features = np.vstack(rows).astype(np.float32)
        hidden = np.tanh(features @ w["hidden"] + w["hidden_bias"])
        return (hidden @ w["out"] + features @ w["linear"] + w["out_bias"]).astype(np.float32)


def _maxsim(q: np.ndarray, weight: np.ndarray, tokens: np.ndarray) -> float:
    """Weighted mean over question tokens of their best cosine among `tokens`."""
    if not len(tokens):
        return 0.0
    return float(weight @ (q @ tokens.T).max(axis=1))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def file_id(path: Path) -> str:
    """A short content hash naming a weights file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
