"""`depeche index` adds by default, `--replace` replaces and names what it removes, and each
run prints what changed; `depeche ask` says when its filters exclude every article. In process,
with the fake embedder."""

import json
import os
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import pytest

from depeche_cli import main
from index.directory import IndexDirectory
from service.settings import Settings
from tests.fakes import HashingEmbedder

Run = Callable[..., tuple[int, str]]


@pytest.fixture
def run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """`depeche ARGS...` in process: its exit code and what it printed on stdout."""
    settings = Settings(model="fake-hashing", data_dir=tmp_path / "data")

    def depeche(*args: str) -> tuple[int, str]:
        with (
            mock.patch("depeche_cli.get_settings", return_value=settings),
            mock.patch("service.runtime.load_embedder", return_value=HashingEmbedder()),
        ):
            code = main(list(args))
        return code, capsys.readouterr().out

    return depeche


def notes(folder: Path, *records: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    (folder / "notes.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def served_ids(tmp_path: Path) -> set[str]:
    return set(IndexDirectory(tmp_path / "data" / "index").load("fake-hashing").articles)


def test_index_adds_to_the_corpus_and_says_what_changed(run: Run, tmp_path: Path) -> None:
    code, out = run("index")
    assert code == 0 and out.startswith("Added 5 articles: ")
    builtin = served_ids(tmp_path)

    mine = notes(tmp_path / "mine", {"doc_id": "note-1", "text": "Greg Brockman revient."})
    code, out = run("index", str(mine))
    assert code == 0
    assert out.splitlines()[0] == "Added 1 article: note-1"
    assert "Published generation" in out
    assert served_ids(tmp_path) == builtin | {"note-1"}

    code, out = run("index", str(mine))
    assert out.splitlines() == [
        "Unchanged: 1 article",
        "Nothing to publish: the index is as it was.",
    ]

    notes(mine, {"doc_id": "note-1", "text": "Greg Brockman revient chez OpenAI."})
    code, out = run("index", str(mine))
    assert out.splitlines()[0] == "Updated 1 article: note-1"


def test_replace_removes_what_is_not_given_and_names_it(run: Run, tmp_path: Path) -> None:
    run("index")
    builtin = served_ids(tmp_path)
    mine = notes(tmp_path / "mine", {"doc_id": "note-1", "text": "Greg Brockman revient."})
    code, out = run("index", "--replace", str(mine))
    assert code == 0
    assert f"Removed 5 articles: {', '.join(sorted(builtin))}" in out.splitlines()
    assert served_ids(tmp_path) == {"note-1"}


def test_ask_says_when_the_filters_exclude_everything(run: Run) -> None:
    run("index")
    code, out = run("ask", "Altman", "--source", "nulle-part")
    assert code == 0
    assert out.strip() == "no article matches the filters (source nulle-part)."
    code, out = run("ask", "Altman", "--source", "djaboo", "--json")
    passages = json.loads(out)["passages"]
    assert passages and {p["citation"]["source"] for p in passages} == {"Djaboo"}


def test_index_optimize_merges_the_segments_into_one(run: Run, tmp_path: Path) -> None:
    run("index")
    code, out = run("index", "--optimize")
    assert code == 0 and out.startswith("The index is a single segment already")

    mine = notes(tmp_path / "mine", {"doc_id": "note-1", "text": "Greg Brockman revient."})
    run("index", str(mine))
    again = notes(tmp_path / "again", {"doc_id": "note-1", "text": "Greg Brockman est revenu."})
    run("index", str(again))
    code, out = run("index", "--optimize")
    assert code == 0
    assert out.startswith("Merged 3 segments into one, dropping 1 replaced or deleted articles")
    live = IndexDirectory(tmp_path / "data" / "index").load("fake-hashing")
    assert len(live.segments) == 1 and not live.deleted
    assert live.articles["note-1"].text == "Greg Brockman est revenu."

    code, _ = run("index", "--optimize", str(mine))
    assert code == 2


def test_index_runs_the_model_on_every_core_unless_told(tmp_path: Path) -> None:
    for configured, expected in ((0, os.cpu_count()), (3, 3)):
        settings = Settings(model="fake-hashing", data_dir=tmp_path / str(configured))
        settings = settings.model_copy(update={"index_threads": configured})
        with (
            mock.patch("depeche_cli.get_settings", return_value=settings),
            mock.patch("service.runtime.load_embedder", return_value=HashingEmbedder()) as load,
        ):
            assert main(["index"]) == 0
        assert load.call_args.kwargs["threads"] == expected
