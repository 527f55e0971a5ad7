"""Every figure of ranking and reading in one object (`RankingTuning`), light enough for the
settings to import."""

from dataclasses import dataclass, replace

from service.query_language import is_english


@dataclass(frozen=True)
class RankingTuning:
    """Every figure of ranking and reading, calibrated on eval/questions.jsonl (eval/README.md).

    Passages: up to max(`candidates`, 4k) candidates per signal are fused by reciprocal rank,
    score = sum of weight / (`rrf_k` + rank) over the rankings by passage vector
    (`dense_weight`), by best sentence vector (`sentence_weight`) and by BM25
    (`lexical_weight`).

    Answer sentence: each sentence of the `passages_read` best passages (at least
    `min_sentence_chars` long) scores
    `cosine(query, sentence) + term_weight * (IDF-weighted share of query terms it contains)
    + type_boost * (it holds a new date/number when the question asks for one, twice when the
    number is of what « combien de … » counts: « dix lits »)`,
    minus `heading_penalty` for a heading or a question. With the reader (service/reader.py),
    its logit times the weight chosen by cross-validation on the training corpus is added to
    each sentence's score. The answer's confidence is the chosen sentence's formula score plus
    `known_weight * (IDF-weighted share of query terms found anywhere in the corpus)`; below
    `threshold` the answer is withheld (served with the reader, the threshold is the one
    calibrated on the training corpus: service/calibration.py).

    A question asked in English shares few words with French articles (names aside), so for
    it the BM25 ranking weighs `english_lexical_weight` and shared terms `english_term_weight`
    (chosen on the training corpus's English questions, see eval/README.md).
    """

    dense_weight: float = 1.0
    sentence_weight: float = 1.0
    lexical_weight: float = 2.0
    rrf_k: int = 10
    candidates: int = 50
    passages_read: int = 3
    term_weight: float = 0.30
    type_boost: float = 0.08
    heading_penalty: float = 0.05
    known_weight: float = 0.10
    min_sentence_chars: int = 25
    threshold: float = 0.81
    english_lexical_weight: float = 0.5
    english_term_weight: float = 0.1

    def for_question(self, question: str) -> "RankingTuning":
        """These figures, or their English variant when `question` is asked in English."""
        if not is_english(question):
            return self
        return replace(
            self, lexical_weight=self.english_lexical_weight, term_weight=self.english_term_weight
        )
