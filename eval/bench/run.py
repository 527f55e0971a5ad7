"""`depeche bench`: speed and memory at 10^3 passages (real text and vectors), 10^5 (--quick
stops there) and 10^6 (random vectors over real French text, labelled `random`): the encoder's
floors, ingest, re-index, adding and deleting one article, /search in process and over HTTP,
start-up and peak memory. Prints each size's figures as a JSON line as soon as they are
measured, then a table, then one JSON line with the ratios and every raw figure. Medians over
`--repeats`; the 105 gold questions are the queries."""

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from corpus import builtin_articles
from eval.bench.corpora import RandomVectors, french_sentences, real_articles, recombined_articles
from eval.bench.floors import query_encoding_ms
from eval.bench.report import summarise, table
from eval.bench.size import Size, measure
from eval.bench.timing import tail
from eval.gold import load_questions
from index.embedding import Embedder
from service.runtime import load_embedder
from service.settings import Settings

REAL_PASSAGES = 1000
QUICK_SIZES = (REAL_PASSAGES, 100_000)
FULL_SIZES = (REAL_PASSAGES, 100_000, 1_000_000)


def run(args: argparse.Namespace, settings: Settings) -> int:
    started = time.perf_counter()
    if args.work:
        args.work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    embedder = load_embedder(settings)
    indexer = (  # the model as `depeche index` runs it
        embedder
        if settings.indexing_threads == settings.torch_threads
        else load_embedder(settings, threads=settings.indexing_threads)
    )
    questions = [q.question for q in load_questions()]
    step = settings.chunk_size - settings.chunk_overlap
    floors = {
        "query_encoding_ms": tail(query_encoding_ms(embedder, questions, args.repeats)),
        "encoder": f"{type(embedder).__name__}, {settings.torch_threads} thread(s) a "
        f"question, {settings.indexing_threads} to index",
    }
    sentences = french_sentences()
    additions = recombined_articles(sentences, 3 * args.repeats, step, seed=1, prefix="added")
    work = Path(tempfile.mkdtemp(prefix="depeche-bench-", dir=args.work))
    sizes = []
    try:
        for passages in args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES):
            size = _size(passages, settings, embedder, indexer, sentences)
            kind = "real" if size.real_vectors else "random"
            print(f"\n== {size.label} passages ({kind} vectors)")
            folder = work / size.label
            folder.mkdir()
            sizes.append(
                measure(size, embedder, settings, questions, additions, args.repeats, folder)
            )
            print(json.dumps({"size": sizes[-1]}), flush=True)  # kept if a later size fails
            shutil.rmtree(folder / "index", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = summarise(floors, sizes)
    summary["machine"] = {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "minutes": round((time.perf_counter() - started) / 60, 1),
    }
    print("\n" + table(sizes))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _size(
    passages: int, settings: Settings, embedder: Embedder, indexer: Embedder, sentences: list[str]
) -> Size:
    """Real text embedded by `indexer` at 10^3 passages; above, random vectors over real French
    text (and the built-in corpus, so that the gold questions find their articles by words)."""
    digits = len(str(passages)) - 1
    label = f"10^{digits}" if passages == 10**digits else str(passages)
    if passages <= REAL_PASSAGES:
        articles = real_articles(passages, settings.chunk_size, settings.chunk_overlap)
        return Size(label, articles, indexer, True)
    step = settings.chunk_size - settings.chunk_overlap
    synthetic = recombined_articles(sentences, passages, step, seed=passages, prefix="synthetic")
    return Size(label, builtin_articles() + synthetic, RandomVectors(embedder), False)


def _cpu_model() -> str:
    """The processor's name as Linux reports it ("unknown" elsewhere): the encoder's floor
    depends on it (19.7 ms a question on an AVX2-only AMD EPYC, 10.4 to 11.8 ms before)."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return "unknown"
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(names, "unknown")
