"""Latency benchmark: `python -m eval.latency` prints took_ms figures for warm queries.

It loads the configured model and live index once (building it if missing), warms up, then
asks every gold question `--rounds` times in hybrid mode, in process, and prints the median,
95th percentile and the share spent embedding the question.
"""

import argparse
import statistics
import time

from eval.gold import load_questions
from eval.metrics import percentile
from service.runtime import open_answerer
from service.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.latency", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    answerer = open_answerer(get_settings(), build_if_missing=True)
    questions = [q.question for q in load_questions()]
    for question in questions[:5]:
        answerer.ask(question)
    took, embedding = [], []
    for _ in range(args.rounds):
        for question in questions:
            took.append(answerer.ask(question).took_ms)
            started = time.perf_counter()
            answerer.embedder.embed_query(question)
            embedding.append((time.perf_counter() - started) * 1000)
    print(f"{len(took)} warm queries over {len(answerer.snapshot.passages)} passages")
    print(f"took_ms   p50 {percentile(took, 50):6.1f}   p95 {percentile(took, 95):6.1f}")
    print(f"embedding p50 {percentile(embedding, 50):6.1f}   p95 {percentile(embedding, 95):6.1f}")
    rest = statistics.median(took) - statistics.median(embedding)
    print(f"search and answer without embedding, p50 ~ {rest:.1f} ms")


if __name__ == "__main__":
    main()
