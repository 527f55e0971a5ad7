"""`depeche eval`: the evaluation's subcommand, handed its options untouched (see
`depeche eval --help`)."""

import argparse

from service.settings import Settings


def add_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    evaluate = commands.add_parser(
        "eval", help="score the gold questions (options: `depeche eval --help`)", add_help=False
    )
    evaluate.set_defaults(run=_run, passes_options=True)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from eval.runner import main  # imported when it runs: other commands start quickly

    return main(args.options)
