"""The `depeche` command. The entry module is the one place that knows every part: the
service's commands (index, ask, serve) and the evaluation's (eval, bench); neither imports the
other's command line. Each command imports what it needs when it runs, so that `depeche ask
--url` answers without loading the index's modules."""

import argparse
import os
import sys

from eval.bench.command import add_command as add_bench_command
from eval.command import add_command as add_eval_command
from service.cli import add_commands
from service.logs import configure_logging
from service.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="depeche", description="Questions over French news, answered with cited passages."
    )
    parser.set_defaults(structured_logs=False, passes_options=False)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    add_commands(commands)
    add_eval_command(commands)
    add_bench_command(commands)
    args, rest = parser.parse_known_args(argv)
    if rest and not args.passes_options:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.options = rest
    configure_logging(structured=args.structured_logs)  # JSON for a server, else for people
    try:
        result: int = args.run(args, get_settings())
        return result
    except BrokenPipeError:  # `depeche ask … | head`: the reader went away, as with any tool
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command stopped by it
    except Exception as error:
        if not isinstance(error, _told_in_one_line()):
            raise
        print(f"depeche: {error}", file=sys.stderr)
        return 2


def _told_in_one_line() -> tuple[type[Exception], ...]:
    """The errors a command reports as one line and exit status 2 rather than a traceback
    (imported once a command has failed, not before every command)."""
    from corpus import CorpusError
    from index.directory import WriterBusyError
    from index.embedding import EmbeddingModelError
    from index.manifest import IndexUnusableError
    from index.ray_ingest import ClusterBuildError
    from service.answering import QueryError
    from service.remote import RemoteError
    from service.shared_state import SharedStateUnavailable

    return (
        CorpusError,
        QueryError,
        IndexUnusableError,
        RemoteError,
        EmbeddingModelError,
        ClusterBuildError,
        WriterBusyError,
        SharedStateUnavailable,
    )
