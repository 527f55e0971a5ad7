"""The PNG chart of an evaluation report: metrics per run, answer accuracy per question kind,
and the news metrics (as of a day, latest state, conflicting and supporting sources).
Needs matplotlib, the `eval` extra (`pip install 'depeche[eval]'`)."""

from pathlib import Path
from typing import Any

import numpy as np

METRICS = ("hit@1", "hit@5", "mrr", "answer_accuracy", "no_answer_recall")
NEWS = (
    "as_of_accuracy",
    "latest_state_accuracy",
    "conflict_recall",
    "conflict_precision",
    "supporting_recall",
)


def draw(report: dict[str, Any], path: Path) -> None:
    """Write the chart; the caller sets matplotlib's backend (see `eval.runner.main`)."""
    import matplotlib.pyplot as plt

    runs = report["runs"]
    names = list(runs)
    kinds = sorted(
        {kind for run in runs.values() for kind in run["by_kind"] if kind != "no-answer"}
    )
    figure, axes = plt.subplots(1, 3, figsize=(19, 5))
    width = 0.8 / max(1, len(names))
    panels = (
        ("Overall", METRICS, lambda run, m: run["overall"][m]),
        (
            "Answer accuracy by question kind",
            kinds,
            lambda run, k: run["by_kind"].get(k, {}).get("answer_accuracy", 0),
        ),
        ("News (eval/news_questions.jsonl)", NEWS, lambda run, m: run.get("news", {}).get(m, 0)),
    )
    for axis, (title, labels, value) in zip(axes, panels, strict=True):
        for i, name in enumerate(names):
            offsets = np.arange(len(labels)) + i * width
            bars = axis.bar(offsets, [value(runs[name], x) for x in labels], width)
            if axis is axes[0]:
                bars.set_label(name)
        axis.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels, rotation=20)
        axis.set_title(title)
        axis.set_ylim(0, 1.05)
        axis.grid(axis="y", alpha=0.3)
    figure.legend(loc="lower center", ncol=min(3, len(names)), fontsize=8)
    figure.tight_layout(rect=(0, 0.12, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
