"""The PNG chart of an evaluation report: metrics per run, and hit@1 per question kind.
Needs matplotlib, the `eval` extra (`pip install 'depeche[eval]'`)."""

from pathlib import Path
from typing import Any

import numpy as np

METRICS = ("hit@1", "hit@5", "mrr", "answer_accuracy", "no_answer_recall")


def draw(report: dict[str, Any], path: Path) -> None:
    """Write the chart; the caller sets matplotlib's backend (see `eval.runner.main`)."""
    import matplotlib.pyplot as plt

    runs = report["runs"]
    names = list(runs)
    kinds = sorted(
        {kind for run in runs.values() for kind in run["by_kind"] if kind != "no-answer"}
    )
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        offsets = np.arange(len(METRICS)) + i * width
        left.bar(offsets, [runs[name]["overall"][m] for m in METRICS], width, label=name)
        offsets = np.arange(len(kinds)) + i * width
        right.bar(offsets, [runs[name]["by_kind"].get(k, {}).get("hit@1", 0) for k in kinds], width)
    left.set_xticks(np.arange(len(METRICS)) + 0.4 - width / 2, METRICS, rotation=20)
    right.set_xticks(np.arange(len(kinds)) + 0.4 - width / 2, kinds, rotation=20)
    left.set_title("Overall")
    right.set_title("hit@1 by question kind")
    for axis in (left, right):
        axis.set_ylim(0, 1.05)
        axis.grid(axis="y", alpha=0.3)
    figure.legend(loc="lower center", ncol=min(3, len(names)), fontsize=8)
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
