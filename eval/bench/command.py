"""`depeche bench`'s options (what it measures: eval/bench/run.py, imported only when it runs,
so that other commands start quickly)."""

import argparse
from pathlib import Path

from service.settings import Settings


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    bench = commands.add_parser("bench", help="measure speed and memory at 10^3 to 10^6 passages")
    bench.add_argument("--quick", action="store_true", help="10^3 and 10^5 passages only")
    bench.add_argument("--repeats", type=int, default=3, help="repeats of each measure (3)")
    bench.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        help="passages per index instead (up to 1000: real vectors, above: random)",
    )
    bench.add_argument(
        "--work", type=Path, help="where the indexes are built (default: a temporary folder)"
    )
    bench.set_defaults(run=_run)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from eval.bench.run import run

    return run(args, settings)
