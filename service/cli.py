"""The service's commands of `depeche`: index, ask, timeline, serve and train-reader (the
entry module, depeche_cli, adds `eval` and runs them)."""

import argparse
import json
import logging
import sys
import textwrap
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from index.query import Filters, Mode
from service.answers import Answer
from service.settings import Settings

if TYPE_CHECKING:
    from service.library import Change

log = logging.getLogger("depeche.cli")

Commands = argparse._SubParsersAction  # type of what `add_subparsers` returns


def add_commands(commands: Commands) -> None:
    """The service's subcommands: index, ask and serve."""
    index = commands.add_parser(
        "index", help="add or update articles in the index (--replace: make them all of it)"
    )
    index.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: built-in corpus)"
    )
    index.add_argument(
        "--replace",
        action="store_true",
        help="remove every indexed article that is not under PATHS (they are listed)",
    )
    index.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="chunk and embed on the Ray cluster at ADDRESS (host:port of its head; needs "
        "pip install -e '.[scale]'), then publish as a local build does",
    )
    index.add_argument(
        "--optimize",
        action="store_true",
        help="merge the index's segments into one (no PATHS): searches a little faster, drops "
        "what replaced or deleted articles left behind; embeds nothing",
    )
    index.set_defaults(run=_index)

    ask = commands.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=3, help="how many passages (1-50, default 3)")
    ask.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.HYBRID.value)
    ask.add_argument("--source", action="append", help="only this site (repeatable)")
    ask.add_argument("--since", type=date.fromisoformat, help="published on or after YYYY-MM-DD")
    ask.add_argument("--until", type=date.fromisoformat, help="published on or before YYYY-MM-DD")
    ask.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="answer as the news stood on YYYY-MM-DD (articles published on or before it)",
    )
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument(
        "--url",
        help="ask the depeche server at URL (default: $DEPECHE_URL) instead of loading the "
        "model and the index here",
    )
    ask.set_defaults(run=_ask)

    timeline = commands.add_parser("timeline", help="the dated events about a subject, in order")
    timeline.add_argument("subject")
    timeline.add_argument("--as-of", type=date.fromisoformat, help="published by YYYY-MM-DD")
    timeline.add_argument("--json", action="store_true", help="print the timeline as JSON")
    timeline.set_defaults(run=_timeline)

    serve = commands.add_parser("serve", help="serve the HTTP API (builds the index if none)")
    serve.add_argument("--host", help="address to listen on (default DEPECHE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default DEPECHE_PORT or 8000)")
    serve.set_defaults(run=_serve, structured_logs=True)

    train = commands.add_parser(
        "train-reader",
        help="retrain the answer reader from corpus/training (seeded; about 4 min on 2 cores)",
    )
    train.add_argument(
        "--out", type=Path, help="where to write the weights (default: service/models)"
    )
    train.set_defaults(run=_train_reader)


def _index(args: argparse.Namespace, settings: Settings) -> int:
    if args.optimize:
        return _optimize(args, settings)
    if args.ray:
        from service.cluster_index import index_on_ray

        change = index_on_ray(settings, args.ray, args.paths, args.replace)
    else:
        from service.runtime import index_paths, load_embedder

        embedder = load_embedder(settings, threads=settings.indexing_threads)
        change = index_paths(settings, embedder, args.paths, args.replace)
    print(describe(change))
    return 0


def _optimize(args: argparse.Namespace, settings: Settings) -> int:
    if args.paths or args.replace or args.ray:
        print("depeche index --optimize takes no PATHS, --replace or --ray", file=sys.stderr)
        return 2
    from service.runtime import optimize_index

    done = optimize_index(settings)
    if done.generation is None:
        print(f"The index is a single segment already ({done.passages} passages).")
    else:
        print(
            f"Merged {done.segments} segments into one, dropping {done.tombstones} replaced or "
            f"deleted articles; published generation {done.generation} ({done.passages} "
            "passages)."
        )
    return 0


def describe(change: "Change") -> str:
    """What `depeche index` changed, for a person."""
    lines = [
        f"{label} {_articles(len(ids))}: {', '.join(ids)}"
        for label, ids in (
            ("Added", change.added),
            ("Updated", change.replaced),
            ("Removed", change.deleted),
        )
        if ids
    ]
    if change.unchanged:
        lines.append(f"Unchanged: {_articles(len(change.unchanged))}")
    if change.generation is None:
        lines.append("Nothing to publish: the index is as it was.")
    else:
        lines.append(
            f"Published generation {change.generation} ({change.passages} passages); "
            "a running server serves it within seconds."
        )
    return "\n".join(lines)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    filters = Filters(
        frozenset(args.source) if args.source else None, args.since, args.until
    ).as_of(args.as_of)
    url = args.url or settings.url
    if url:
        from service.remote import ask_remote

        key = settings.api_key.get_secret_value() if settings.api_key else None
        answer = ask_remote(url, args.question, args.k, Mode(args.mode), filters, key)
    else:
        from service.runtime import open_answerer

        answerer = open_answerer(settings, build_if_missing=True)
        answer = answerer.ask(args.question, args.k, Mode(args.mode), filters)
    print(
        json.dumps(asdict(answer), ensure_ascii=False, indent=2, default=str)
        if args.json
        else render(answer)
    )
    return 0


def _articles(count: int) -> str:
    return f"{count} article{'s' * (count != 1)}"


def render(answer: Answer) -> str:
    """The answer as text for a terminal."""
    lines = []
    if answer.notice:
        return f"{answer.notice}."
    if answer.answer is None:
        lines.append("Pas de réponse sûre dans les articles. Passages les plus proches :")
    else:
        c = answer.answer.citation
        lines += [
            f"Réponse : {answer.answer.text}",
            f"  [{c.doc_id} {c.start}-{c.end}] {c.title}",
        ]
        if answer.answer.event_date:
            lines.append(f"  date de l'événement : {answer.answer.event_date}")
        lines.append("")
    for passage in answer.passages:
        c = passage.citation
        where = ", ".join(str(x) for x in (c.source, c.published) if x)
        lines.append(f"{passage.rank}. {c.title}" + (f" ({where})" if where else ""))
        lines.append(f"   [{c.doc_id} {c.start}-{c.end}] score {passage.score:.3f}")
        lines += textwrap.wrap(passage.text, 96, initial_indent="   ", subsequent_indent="   ")
        lines.append("")
    lines.append(f"({answer.took_ms:.0f} ms)")
    return "\n".join(lines)


def _timeline(args: argparse.Namespace, settings: Settings) -> int:
    from service.runtime import open_answerer
    from service.timeline import build_timeline

    answerer = open_answerer(settings, build_if_missing=True)
    timeline = build_timeline(
        answerer.searcher, args.subject, Filters().as_of(args.as_of), ranking=answerer.tuning
    )
    if args.json:
        print(json.dumps(asdict(timeline), ensure_ascii=False, indent=2, default=str))
        return 0
    for event in timeline.events:
        sources = f" ({event.sources} sources)" if event.sources > 1 else ""
        print(f"{event.date}{sources}  {event.text}")
        for c in event.citations:
            print(f"    [{c.doc_id} {c.start}-{c.end}] {c.title}")
    if not timeline.events:
        print("Aucun événement daté sur ce sujet dans les articles.")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from index.live import verify_ahead

    verified = verify_ahead(settings.index_dir)  # read while the server's modules load

    import uvicorn

    from service.api import create_app
    from service.runtime import Service, open_service

    def factory(s: Settings) -> Service:
        return open_service(s, build_if_missing=True, verified=verified)

    app = create_app(settings, factory)
    uvicorn.run(
        app, host=args.host or settings.host, port=args.port or settings.port, access_log=False
    )
    return 0


def _train_reader(args: argparse.Namespace, settings: Settings) -> int:
    from service.reader import MODELS_DIR
    from service.reader_training import run
    from service.runtime import load_embedder

    embedder = load_embedder(settings)
    if not hasattr(embedder, "embed_query_tokens"):
        print("depeche: the reader needs a sentence-transformers model", file=sys.stderr)
        return 2
    card = run(embedder, args.out or MODELS_DIR, log=log.info)  # type: ignore[arg-type]
    log.info("Reader %s written to %s", card["id"], args.out or MODELS_DIR)
    return 0
