"""The `no_answer` threshold, calibrated on the training corpus (never on the gold set).

The answer's confidence (service/ranking.py) of every training question, as its reader picks
it out of fold, is split by whether the articles answer the question. The threshold is the
highest one that withholds at most `max_withheld` of the answerable questions; what it then
catches of the unanswerable ones is reported next to it, so its worth is visible."""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

MAX_WITHHELD = 0.03


@dataclass(frozen=True)
class Calibration:
    threshold: float
    answerable_withheld: float  # share of the answerable questions below the threshold
    unanswerable_caught: float  # share of the unanswerable questions below it

    def as_card(self) -> dict[str, float]:
        return asdict(self)


def calibrate(
    answerable: Sequence[float],
    unanswerable: Sequence[float],
    max_withheld: float = MAX_WITHHELD,
) -> Calibration:
    """The highest threshold (to 3 decimals) below which at most `max_withheld` of the
    `answerable` confidences fall; an answer is withheld when its confidence is below it."""
    if not answerable:
        raise ValueError("calibrating needs answerable questions")
    ordered = sorted(answerable)
    allowed = math.floor(max_withheld * len(ordered))
    threshold = math.floor(ordered[allowed] * 1000) / 1000

    def below(values: Sequence[float]) -> float:
        return round(sum(v < threshold for v in values) / len(values), 3) if values else 0.0

    return Calibration(threshold, below(answerable), below(unanswerable))
