"""How well the timeline tells one event from another: `python -m eval.merging`.

`eval/same_event.jsonl` holds every pair of sentences of different seed articles that the
extractor dates to the same day (177), each labelled by hand `same` when both tell the same
event (17). For each threshold on the timeline's likeness (cosine of the sentence vectors +
Jaccard of the analysed terms) it prints the pairwise precision, recall and F1 of "merge".
"""

import json
import sys
from pathlib import Path

import numpy as np

from index.analysis import analyse
from service.runtime import load_embedder
from service.settings import get_settings
from service.timeline import TimelineTuning

PAIRS_FILE = Path(__file__).parent / "same_event.jsonl"


def sweep(likeness: np.ndarray, same: np.ndarray) -> list[tuple[float, float, float, float]]:
    """(threshold, precision, recall, F1) for every distinct likeness, best F1 first."""
    rows = []
    for threshold in sorted(set(likeness.round(3))):
        merged = likeness >= threshold
        hits = int((merged & same).sum())
        precision = hits / merged.sum() if merged.sum() else 0.0
        recall = hits / same.sum() if same.sum() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        rows.append((float(threshold), precision, recall, f1))
    return sorted(rows, key=lambda row: -row[3])


def main() -> int:
    pairs = [json.loads(line) for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines()]
    texts = sorted({pair[side]["sentence"] for pair in pairs for side in "ab"})
    vectors = dict(zip(texts, load_embedder(get_settings()).embed_passages(texts), strict=True))
    likeness = []
    for pair in pairs:
        a, b = pair["a"]["sentence"], pair["b"]["sentence"]
        ta, tb = set(analyse(a)), set(analyse(b))
        likeness.append(float(vectors[a] @ vectors[b]) + len(ta & tb) / len(ta | tb))
    same = np.array([pair["same"] for pair in pairs])
    rows = sweep(np.array(likeness), same)
    print(f"{len(pairs)} pairs, {same.sum()} of the same event")
    print("threshold  precision  recall  F1")
    for threshold, precision, recall, f1 in rows[:8]:
        print(f"{threshold:9.3f}  {precision:9.2f}  {recall:6.2f}  {f1:.3f}")
    chosen = TimelineTuning().same_event
    at = next(r for r in sorted(rows) if r[0] >= chosen)
    print(f"configured {chosen}: precision {at[1]:.2f}, recall {at[2]:.2f}, F1 {at[3]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
