"""`depeche train-reader`: train the reader of service/reader.py from scratch, seeded.

Data: the training corpus of corpus/training (never the built-in corpus or the gold set).
Its articles are indexed with the configured model; each question is searched like a user's
question and the sentences of its best passages become candidates, labelled by the
hand-written answer offsets. Loss: softmax over each answerable question's candidates (pick
the answer) plus a binary term on every candidate (answers or not). Cross-validation by story
(a story's articles never train the fold that tests them) chooses the weight of the reader's
logit next to the answer formula, and reports the figures by question kind: formula alone,
reader alone, and both. The same out-of-fold picks calibrate the `no_answer` threshold
(service/calibration.py), recorded in the card.
"""

import hashlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from corpus.training import TrainingQuestion, TrainingSet, load_training_set
from index.answer_types import asked
from index.embedding import TokenEmbedder
from index.search import Searcher
from index.snapshot import Snapshot, build_snapshot
from service.calibration import Calibration, calibrate
from service.candidates import Candidate, Question, candidates
from service.ranking import confidence, formula_score, rank_passages
from service.reader import CARD_FILE, MODELS_DIR, SCALARS, WEIGHTS_FILE, file_id
from service.tuning import RankingTuning

if TYPE_CHECKING:
    import torch

SEED = 20231117
PASSAGES_READ = 4
MIN_SENTENCE_CHARS = 25
MAX_TOKENS = 64
BASIS = 64  # token vectors are first reduced to their 64 principal directions (speed)
DIMENSION = 16
HIDDEN = 8
EPOCHS = 6
BATCH = 16
FOLDS = 3
WEIGHTS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)

TUNING = RankingTuning()

Log = Callable[[str], None]


@dataclass
class Example:
    """One question with its candidates, their labels and indices into the token table."""

    question: TrainingQuestion
    query: int  # row of the question's tokens
    candidates: list[Candidate]
    labels: list[bool]
    sentence: list[int]
    neighbours: list[tuple[int, int]]
    title: list[int]
    scalars: np.ndarray
    known: float  # share of the question's terms the corpus knows (for the confidence)


class TokenTable:
    """Token vectors of every text the examples refer to; row 0 is the empty text."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = [np.zeros((0, 0), dtype=np.float32)]
        self._index: dict[tuple[str, str], int] = {}
        self.pending: list[tuple[str, str]] = []

    def row(self, kind: str, text: str) -> int:
        key = (kind, text)
        if key not in self._index:
            self._index[key] = len(self._index) + 1
            self.pending.append(key)
        return self._index[key]

    def fill(self, embedder: TokenEmbedder) -> None:
        """Compute the token vectors of every text asked for (queries and passages)."""
        queries = [t for kind, t in self.pending if kind == "query"]
        passages = [t for kind, t in self.pending if kind == "passage"]
        vectors = {("query", t): embedder.embed_query_tokens(t)[1] for t in queries}
        vectors |= dict(
            zip(
                (("passage", t) for t in passages),
                embedder.embed_passages_with_tokens(passages, progress=True)[1],
                strict=True,
            )
        )
        self.rows += [vectors[key][:MAX_TOKENS] for key in self.pending]
        self.pending = []

    def reduce(self) -> np.ndarray:
        """Replace every row by its coordinates on the principal directions of all the token
        vectors; returns the basis (width x BASIS) that maps raw token vectors there."""
        stacked = np.vstack([r for r in self.rows if r.size]).astype(np.float64)
        _, _, directions = np.linalg.svd(stacked, full_matrices=False)
        basis = directions[:BASIS].T.astype(np.float32)
        self.rows = [r @ basis if r.size else np.zeros((0, BASIS), np.float32) for r in self.rows]
        return basis


def build_examples(
    snapshot: Snapshot,
    embedder: TokenEmbedder,
    questions: Sequence[TrainingQuestion],
    table: TokenTable,
) -> list[Example]:
    """Search every question and label the candidate sentences of its best passages."""
    searcher = Searcher(snapshot, embedder)
    examples = []
    for item in questions:
        vector = embedder.embed_query(item.question)
        question = Question(
            item.question, vector, searcher.term_weights(item.question), asked(item.question)
        )
        hits = rank_passages(searcher, item.question, 10, vector=vector, tuning=TUNING)
        best = [h.passage for h in hits[:PASSAGES_READ]]
        found = candidates(searcher, question, best, MIN_SENTENCE_CHARS)
        if not found:
            continue
        known = searcher.known_share(question.weights)
        examples.append(example(snapshot, item, question, found, table, known))
    return examples


def example(
    snapshot: Snapshot,
    item: TrainingQuestion,
    question: Question,
    found: list[Candidate],
    table: TokenTable,
    known: float,
) -> Example:
    from service.reader import scalar_features

    def sentence_row(doc_id: str, row: int) -> int:
        spans = snapshot.sentences[doc_id].spans
        if not 0 <= row < len(spans):
            return 0
        start, end = (int(x) for x in spans[row])
        return table.row("passage", snapshot.articles[doc_id].text[start:end])

    return Example(
        question=item,
        query=table.row("query", item.question),
        candidates=found,
        labels=[answers(c, item) for c in found],
        sentence=[table.row("passage", c.text) for c in found],
        neighbours=[
            (sentence_row(c.doc_id, c.row - 1), sentence_row(c.doc_id, c.row + 1)) for c in found
        ],
        title=[table.row("passage", snapshot.articles[c.doc_id].title) for c in found],
        scalars=np.vstack([scalar_features(c, question) for c in found]),
        known=known,
    )


def answers(candidate: Candidate, item: TrainingQuestion) -> bool:
    """Whether the candidate is (mostly) one of the question's answer sentences."""
    for evidence in item.evidence:
        if evidence.doc_id != candidate.doc_id:
            continue
        shared = min(evidence.end, candidate.end) - max(evidence.start, candidate.start)
        if shared * 2 > min(evidence.end - evidence.start, candidate.end - candidate.start):
            return True
    return False


class ReaderNet:
    """The torch twin of `Reader.score`, for training."""

    def __init__(self, width: int, seed: int) -> None:
        import torch

        generator = torch.Generator().manual_seed(seed)

        def param(*shape: int, scale: float) -> "torch.Tensor":
            return (torch.randn(*shape, generator=generator) * scale).requires_grad_()

        features = 4 + SCALARS
        self.params = {
            "projection": param(width, DIMENSION, scale=width**-0.5),
            "token_weight": param(width, scale=0.01),
            "token_bias": torch.zeros(1, requires_grad=True),
            "bilinear": param(DIMENSION, DIMENSION, scale=0.01),
            "hidden": param(features, HIDDEN, scale=features**-0.5),
            "hidden_bias": torch.zeros(HIDDEN, requires_grad=True),
            "out": param(HIDDEN, scale=HIDDEN**-0.5),
            "linear": param(features, scale=0.01),
            "out_bias": torch.zeros(1, requires_grad=True),
        }

    def forward(self, batch: dict[str, "torch.Tensor"]) -> "torch.Tensor":
        """Logits (B, C) for a padded batch made by `collate`."""
        import torch
        import torch.nn.functional as F

        p = self.params

        def project(tokens: torch.Tensor) -> torch.Tensor:
            return F.normalize(tokens @ p["projection"], dim=-1)

        q = project(batch["query"])  # B, Lq, d
        q_mask = batch["query_mask"]
        weight = F.softplus(batch["query"] @ p["token_weight"] + p["token_bias"]) * q_mask
        weight = weight / weight.sum(-1, keepdim=True)
        q_mean = (q * q_mask.unsqueeze(-1)).sum(1) / q_mask.sum(1, keepdim=True)

        def maxsim(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            t = project(tokens)  # B, C, L, d
            sims = torch.einsum("bqd,bcld->bcql", q, t)
            sims = sims.masked_fill(~mask.bool().unsqueeze(2), -1e4).amax(-1)
            present = mask.any(-1, keepdim=True)
            return torch.where(present, (sims * weight.unsqueeze(1)).sum(-1, keepdim=True), 0.0)

        sentence = project(batch["sentence"])
        s_mask = batch["sentence_mask"]
        s_mean = (sentence * s_mask.unsqueeze(-1)).sum(2) / s_mask.sum(2, keepdim=True).clamp(min=1)
        neighbours = torch.maximum(
            maxsim(batch["previous"], batch["previous_mask"]),
            maxsim(batch["next"], batch["next_mask"]),
        )
        interactions = torch.cat(
            [
                maxsim(batch["sentence"], s_mask),
                neighbours,
                maxsim(batch["title"], batch["title_mask"]),
                torch.einsum("bd,de,bce->bc", q_mean, p["bilinear"], s_mean).unsqueeze(-1),
            ],
            dim=-1,
        )
        features = torch.cat([interactions, batch["scalars"]], dim=-1)
        hidden = torch.tanh(features @ p["hidden"] + p["hidden_bias"])
        return hidden @ p["out"] + features @ p["linear"] + p["out_bias"]

    def numpy_weights(self, basis: np.ndarray) -> dict[str, np.ndarray]:
        """The weights for `Reader`, acting on raw token vectors (`basis` folded in)."""
        weights = {name: t.detach().numpy().astype(np.float32) for name, t in self.params.items()}
        weights["projection"] = basis @ weights["projection"]
        weights["token_weight"] = basis @ weights["token_weight"]
        return weights


def collate(examples: Sequence[Example], table: TokenTable) -> dict:
    """Pad a batch of examples into tensors (masks mark real tokens and candidates)."""
    import torch

    width = BASIS
    most = max(len(e.candidates) for e in examples)

    def tokens(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        longest = max([len(table.rows[r]) for row in rows for r in row] + [1])
        values = torch.zeros(len(rows), most, longest, width)
        mask = torch.zeros(len(rows), most, longest)
        for b, row in enumerate(rows):
            for c, r in enumerate(row):
                n = len(table.rows[r])
                if n:
                    values[b, c, :n] = torch.from_numpy(table.rows[r])
                    mask[b, c, :n] = 1
        return values, mask

    query, query_mask = tokens([[e.query] for e in examples])
    batch = {"query": query[:, 0], "query_mask": query_mask[:, 0]}
    for name, rows in (
        ("sentence", [e.sentence for e in examples]),
        ("previous", [[n[0] for n in e.neighbours] for e in examples]),
        ("next", [[n[1] for n in e.neighbours] for e in examples]),
        ("title", [e.title for e in examples]),
    ):
        batch[name], batch[f"{name}_mask"] = tokens(rows)
    scalars = torch.zeros(len(examples), most, SCALARS)
    labels = torch.zeros(len(examples), most)
    present = torch.zeros(len(examples), most, dtype=torch.bool)
    for b, e in enumerate(examples):
        n = len(e.candidates)
        scalars[b, :n] = torch.from_numpy(e.scalars)
        labels[b, :n] = torch.tensor(e.labels, dtype=torch.float32)
        present[b, :n] = True
    return batch | {"scalars": scalars, "labels": labels, "present": present}


def train(examples: Sequence[Example], table: TokenTable, seed: int, log: Log) -> ReaderNet:
    """Fit a ReaderNet on `examples` (EPOCHS passes, Adam, fixed seed)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    rng = random.Random(seed)
    net = ReaderNet(BASIS, seed)
    optimiser = torch.optim.Adam(net.params.values(), lr=3e-3, weight_decay=1e-5)
    batches = [list(examples[i : i + BATCH]) for i in range(0, len(examples), BATCH)]
    padded = [collate(b, table) for b in batches]
    for epoch in range(EPOCHS):
        rng.shuffle(padded)
        total = 0.0
        for batch in padded:
            logits = net.forward(batch)
            present, labels = batch["present"], batch["labels"]
            masked = logits.masked_fill(~present, -1e4)
            positive = labels.bool() & present
            has = positive.any(-1)
            pick = torch.logsumexp(masked, -1) - torch.logsumexp(
                masked.masked_fill(~positive, -1e4), -1
            )
            pointwise = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
            loss = pick[has].sum() / len(has) + (pointwise * present).sum() / present.sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach())
        if epoch % 10 == 9 or epoch == EPOCHS - 1:
            log(f"  epoch {epoch + 1}/{EPOCHS}: loss {total / len(padded):.3f}")
    return net


def predict(net: ReaderNet, examples: Sequence[Example], table: TokenTable) -> list[np.ndarray]:
    import torch

    scores = []
    with torch.no_grad():
        for i in range(0, len(examples), BATCH):
            chunk = examples[i : i + BATCH]
            logits = net.forward(collate(chunk, table))
            scores += [logits[b, : len(e.candidates)].numpy() for b, e in enumerate(chunk)]
    return scores


def baseline(example: Example) -> np.ndarray:
    """The answer formula of `RankingTuning` (service/ranking.py) on each candidate."""
    tuning = TUNING.for_question(example.question.question)
    return np.array([formula_score(c, tuning) for c in example.candidates])


def figures(examples: Sequence[Example], scores: Sequence[np.ndarray]) -> dict[str, Any]:
    """Share of answerable questions whose best candidate is an answer, overall and by kind;
    and how well the best score separates unanswerable questions (AUC, 0.5 = chance)."""
    by_kind: dict[str, list[bool]] = defaultdict(list)
    best: list[tuple[float, bool]] = []
    for e, s in zip(examples, scores, strict=True):
        top = int(np.argmax(s))
        if e.question.answerable:
            by_kind[e.question.kind].append(e.labels[top])
        best.append((float(s[top]), e.question.answerable))
    report: dict[str, Any] = {kind: _share(rows) for kind, rows in sorted(by_kind.items())}
    report["all"] = _share(r for rows in by_kind.values() for r in rows)
    answered = [b for b, a in best if a]
    unanswered = [b for b, a in best if not a]
    pairs = [(u < a) + 0.5 * (u == a) for u in unanswered for a in answered]
    report["no_answer_auc"] = round(sum(pairs) / len(pairs), 3) if pairs else 0.0
    return report


def choose_weight(examples: Sequence[Example], logits: Sequence[np.ndarray]) -> float:
    """The weight of the reader's logit next to the formula that picks the most answers."""

    def picked(weight: float) -> float:
        scores = [baseline(e) + weight * s for e, s in zip(examples, logits, strict=True)]
        return float(figures(examples, scores)["all"])

    return max(WEIGHTS, key=lambda w: (picked(w), -w))


def calibrate_no_answer(examples: Sequence[Example], scores: Sequence[np.ndarray]) -> Calibration:
    """The `no_answer` threshold, from the confidence of each question's best candidate by
    `scores` (service/calibration.py)."""
    confidences: dict[bool, list[float]] = {True: [], False: []}
    for e, s in zip(examples, scores, strict=True):
        best = e.candidates[int(np.argmax(s))]
        tuning = TUNING.for_question(e.question.question)
        confidences[e.question.answerable].append(confidence(best, e.known, tuning))
    return calibrate(confidences[True], confidences[False])


def _share(values: object) -> float:
    items = list(values)  # type: ignore[call-overload]
    return round(sum(items) / len(items), 3) if items else 0.0


def data_hash(training: TrainingSet) -> str:
    digest = hashlib.sha256()
    for doc_id in sorted(training.articles):
        digest.update(training.articles[doc_id].text.encode())
    for q in training.questions:
        digest.update(json.dumps([q.id, q.question, [e.__dict__ for e in q.evidence]]).encode())
    return digest.hexdigest()[:16]


def prepare(embedder: TokenEmbedder, log: Log) -> tuple[TrainingSet, list[Example], TokenTable]:
    """Index the training corpus, search every question, and embed every text's tokens."""
    training = load_training_set()
    log(f"Training set: {len(training.articles)} articles, {len(training.questions)} questions")
    articles = list(training.articles.values())
    snapshot = build_snapshot(embedder, 1000, 200, {}, articles, progress=log)
    table = TokenTable()
    examples = build_examples(snapshot, embedder, training.questions, table)
    log(f"Token vectors of {len(table.pending)} texts")
    table.fill(embedder)
    return training, examples, table


def run(embedder: TokenEmbedder, out: Path = MODELS_DIR, log: Log = print) -> dict[str, Any]:
    """Train, cross-validate by story, calibrate, and write the weights and their card."""
    started = time.monotonic()
    training, examples, table = prepare(embedder, log)
    card = fit(training, examples, table, out, log)
    card["minutes"] = round((time.monotonic() - started) / 60, 1)
    (out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def fit(
    training: TrainingSet, examples: list[Example], table: TokenTable, out: Path, log: Log
) -> dict[str, Any]:
    """Cross-validate by story, calibrate, train on everything, write the weights."""
    basis = table.reduce()
    reachable = _share(any(e.labels) for e in examples if e.question.answerable)
    log(f"{len(examples)} questions with candidates; an answer is among them for {reachable:.0%}")

    stories = sorted(set(training.stories.values()))
    random.Random(SEED).shuffle(stories)
    fold_of = {story: i % FOLDS for i, story in enumerate(stories)}

    def fold(e: Example) -> int:
        docs = [ev.doc_id for ev in e.question.evidence] or [e.candidates[0].doc_id]
        return fold_of[training.stories[docs[0]]]

    out_of_fold: dict[int, np.ndarray] = {}
    for k in range(FOLDS):
        log(f"Cross-validation fold {k + 1}/{FOLDS}")
        train_set = [e for e in examples if fold(e) != k]
        test_idx = [i for i, e in enumerate(examples) if fold(e) == k]
        net = train(train_set, table, SEED + k, log)
        tested = predict(net, [examples[i] for i in test_idx], table)
        out_of_fold |= dict(zip(test_idx, tested, strict=True))
    oof = [out_of_fold[i] for i in range(len(examples))]
    weight = choose_weight(examples, oof)
    formula = [baseline(e) for e in examples]
    combined = [f + weight * s for f, s in zip(formula, oof, strict=True)]
    calibration = calibrate_no_answer(examples, combined)
    log("Final model on every training question")
    net = train(examples, table, SEED, log)
    out.mkdir(parents=True, exist_ok=True)
    weights: dict[str, Any] = net.numpy_weights(basis)
    np.savez(out / WEIGHTS_FILE, **weights)
    card: dict[str, Any] = {
        "id": file_id(out / WEIGHTS_FILE),
        "base_model": "multilingual-e5-small",
        "weight": weight,
        "seed": SEED,
        "training_data": data_hash(training),
        "articles": len(training.articles),
        "questions": len(training.questions),
        "passages_read": PASSAGES_READ,
        "candidates_reachable": reachable,
        "cross_validation_by_story": {
            "formula": figures(examples, formula),
            "reader": figures(examples, oof),
            "formula_plus_reader": figures(examples, combined),
        },
        "no_answer": calibration.as_card(),
    }
    (out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    for name, report in card["cross_validation_by_story"].items():
        log(f"Cross-validation by story, {name}: {report['all']} of answers picked")
    log(
        f"no_answer threshold {calibration.threshold}: withholds "
        f"{calibration.answerable_withheld:.1%} of the answerable questions, catches "
        f"{calibration.unanswerable_caught:.1%} of the unanswerable ones"
    )
    return card
