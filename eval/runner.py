"""`python -m eval` / `depeche eval`: score configurations on the gold set and report."""

import argparse
import itertools
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from corpus import builtin_articles
from eval.backends import Backend, InProcess, Remote
from eval.distractors import french_man_pages
from eval.gold import QUESTIONS_FILE, GoldSetError, Question, check_questions, load_questions
from eval.news import load_news_questions, news_metrics
from eval.scoring import Outcome, score, summarise
from index.query import Mode
from index.snapshot import build_snapshot
from service.runtime import load_embedder, load_reader, make_answerer
from service.settings import get_settings

log = logging.getLogger("depeche.eval")
THRESHOLDS_FILE = Path(__file__).parent / "thresholds.json"
TABLE_COLUMNS = (
    "hit@1",
    "hit@5",
    "mrr",
    "ndcg@10",
    "answer_accuracy",
    "citation_accuracy",
    "no_answer_precision",
    "no_answer_recall",
    "latency_p50_ms",
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        questions = load_questions(args.questions)
    except GoldSetError as error:
        print(error, file=sys.stderr)
        return 2
    problems = check_questions(questions, builtin_articles())
    errors = [p for p in problems if not p.startswith("warning:")]
    for problem in problems:
        print(problem, file=sys.stderr)
    if errors:
        return 2
    if args.check:
        print(f"{len(questions)} questions, no problem found")
        return 0
    modes = [Mode(m) for m in args.modes]
    runs: dict[str, list[Outcome]] = {}
    backends = _backends(args)
    for backend in backends:
        for mode in modes:
            runs[f"{backend.label} {mode.value}"] = evaluate(backend, questions, mode, args.k)
    report = _report(runs)
    _add_news(report, backends)
    print(format_table(report))
    _print_failures(runs, args.show_failures)
    _write(report, runs, args.out)
    return gate(report, args.gate) if args.gate else 0


def evaluate(backend: Backend, questions: Sequence[Question], mode: Mode, k: int) -> list[Outcome]:
    """Ask every question in `mode` and score the responses."""
    outcomes = []
    for question in tqdm(
        questions, desc=f"{backend.label} {mode.value}", file=sys.stderr, leave=False
    ):
        response = backend.search(question.question, k, mode)
        docs = {p["citation"]["doc_id"] for p in response["passages"]}
        if response.get("answer"):
            docs.add(response["answer"]["citation"]["doc_id"])
        outcomes.append(score(question, response, {d: backend.document(d) for d in docs}))
    return outcomes


def _backends(args: argparse.Namespace) -> list[Backend]:
    if args.url:
        return [Remote(args.url)]
    base = get_settings()
    backends: list[Backend] = []
    for model in args.model or [base.model]:
        settings = base.model_copy(update={"model": model})
        embedder = load_embedder(settings)
        for size, overlap, dense, lexical in itertools.product(
            args.chunk_size or [base.chunk_size],
            args.chunk_overlap or [base.chunk_overlap],
            args.dense_weight or [base.dense_weight],
            args.lexical_weight or [base.lexical_weight],
        ):
            variant = settings.model_copy(
                update={
                    "chunk_size": size,
                    "chunk_overlap": overlap,
                    "dense_weight": dense,
                    "lexical_weight": lexical,
                }
            )
            articles = builtin_articles()
            if args.distractors:
                articles += french_man_pages(args.distractors, size - overlap)
            progress = log.info if args.distractors else None
            reader = load_reader(variant) if args.reader != "off" else None
            snapshot = build_snapshot(
                embedder, size, overlap, {}, articles, progress=progress, reader=reader
            )
            label = f"{model} chunk={size}/{overlap} w={dense:g}/{lexical:g}"
            if args.distractors:
                label += f" ({len(snapshot.passages)} passages with distractors)"
            pickers = {"on": [True], "off": [False], "both": [True, False]}[args.reader]
            for use_reader in pickers:
                answerer = make_answerer(
                    variant.model_copy(update={"reader": use_reader}), snapshot, embedder
                )
                picker = "reader" if answerer.reader else "formula"
                backends.append(InProcess(answerer, f"{label} {picker}"))
    return backends


def _add_news(report: dict[str, Any], backends: list[Backend]) -> None:
    """News metrics (eval/news.py) for each in-process hybrid run."""
    for backend in backends:
        run = report["runs"].get(f"{backend.label} {Mode.HYBRID.value}")
        if isinstance(backend, InProcess) and run is not None:
            run["news"] = news_metrics(backend.answerer, load_news_questions())
            shown = {k: round(v, 3) for k, v in run["news"].items() if k != "failures"}
            print(f"{backend.label} hybrid news: {shown}")


def _report(runs: dict[str, list[Outcome]]) -> dict[str, Any]:
    report: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": {},
    }
    for name, outcomes in runs.items():
        kinds = sorted({o.question.kind for o in outcomes})
        report["runs"][name] = {
            "overall": summarise(outcomes),
            "by_kind": {
                kind: summarise([o for o in outcomes if o.question.kind == kind]) for kind in kinds
            },
            "failures": [
                {
                    "id": o.question.id,
                    "question": o.question.question,
                    "kind": o.question.kind,
                    "expected": list(o.question.answers),
                    "answer": o.answer,
                    "no_answer": o.flagged_no_answer,
                    "relevant": list(o.relevant),
                    "top": list(o.top),
                }
                for o in outcomes
                if o.failed
            ],
        }
    return report


def format_table(report: dict[str, Any]) -> str:
    names = list(report["runs"])
    width = max(len(n) for n in names)
    head = f"{'run':<{width}} " + " ".join(f"{c[:10]:>10}" for c in TABLE_COLUMNS)
    rows = [
        f"{name:<{width}} "
        + " ".join(f"{report['runs'][name]['overall'][c]:>10.3f}" for c in TABLE_COLUMNS)
        for name in names
    ]
    return "\n".join([head, *rows])


def _print_failures(runs: dict[str, list[Outcome]], show: bool) -> None:
    for name, outcomes in runs.items():
        failed = [o for o in outcomes if o.failed]
        print(f"\n{name}: {len(failed)} of {len(outcomes)} questions failed")
        for o in failed if show else []:
            got = "no_answer" if o.flagged_no_answer else repr((o.answer or "")[:100])
            print(
                f"  {o.question.id} [{o.question.kind}] {o.question.question}\n"
                f"      expected {list(o.question.answers)}; got {got}; "
                f"relevant@5 {list(o.relevant[:5])}"
            )


def _write(report: dict[str, Any], runs: dict[str, list[Outcome]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    try:
        import matplotlib
    except ImportError:
        print(f"\nWrote {out / 'report.json'} (no chart: pip install 'depeche[eval]')")
        return
    from eval.chart import draw

    matplotlib.use("Agg")  # files only, no display
    draw(report, out / "report.png")
    print(f"\nWrote {out / 'report.json'} and {out / 'report.png'}")


def gate(report: dict[str, Any], thresholds_path: Path) -> int:
    """Fail (1) if the hybrid run falls below any committed threshold."""
    thresholds = load_thresholds(thresholds_path)
    hybrid = [run for name, run in report["runs"].items() if name.endswith(" hybrid")]
    news = load_news_thresholds(thresholds_path)
    failures = [
        f"{name} = {run['overall'][name]:.3f} < {minimum}"
        for run in hybrid
        for name, minimum in thresholds.items()
        if run["overall"][name] < minimum
    ] + [
        f"news {name} = {run['news'][name]:.3f} < {minimum}"
        for run in hybrid
        if "news" in run
        for name, minimum in news.items()
        if run["news"][name] < minimum
    ]
    for failure in failures:
        print(f"quality gate: {failure}", file=sys.stderr)
    print("quality gate:", "FAILED" if failures else "passed", file=sys.stderr)
    return 1 if failures or not hybrid else 0


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """The committed minimum of each hybrid metric."""
    thresholds: dict[str, float] = json.loads(path.read_text(encoding="utf-8"))["hybrid"]
    return thresholds


def load_news_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, float]:
    """The committed minimum of each news metric (eval/news.py), if any."""
    news: dict[str, float] = json.loads(path.read_text(encoding="utf-8")).get("news", {})
    return news


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="depeche eval", description=__doc__)
    parser.add_argument("--questions", type=Path, default=QUESTIONS_FILE)
    parser.add_argument("--check", action="store_true", help="only validate the gold set")
    parser.add_argument("--url", help="score a running service instead of the in-process pipeline")
    parser.add_argument(
        "--modes", nargs="+", default=[m.value for m in Mode], choices=[m.value for m in Mode]
    )
    parser.add_argument("-k", type=int, default=10, help="passages per question (default 10)")
    parser.add_argument("--model", nargs="+", help="embedding models to compare")
    parser.add_argument("--chunk-size", nargs="+", type=int)
    parser.add_argument("--chunk-overlap", nargs="+", type=int)
    parser.add_argument("--dense-weight", nargs="+", type=float)
    parser.add_argument("--lexical-weight", nargs="+", type=float)
    parser.add_argument(
        "--reader",
        choices=["on", "off", "both"],
        default="on",
        help="choose answer sentences with the trained reader, the formula, or compare both",
    )
    parser.add_argument(
        "--distractors",
        type=int,
        default=0,
        metavar="N",
        help="add about N passages of unrelated French text (Debian's manpages-fr)",
    )
    parser.add_argument("--out", type=Path, default=Path("eval/reports"), help="report folder")
    parser.add_argument("--show-failures", action="store_true", help="list failed questions")
    parser.add_argument(
        "--gate",
        type=Path,
        nargs="?",
        const=THRESHOLDS_FILE,
        help="exit 1 if hybrid falls below these thresholds",
    )
    return parser
