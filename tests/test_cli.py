"""The `depeche` command, run as a user would, with the real model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.directory import IndexDirectory
from index.snapshot import Snapshot
from tests.test_onnx_embedding import cuda_present

pytestmark = pytest.mark.integration


def depeche(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DEPECHE_DATA_DIR": str(data_dir)} | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "depeche_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
        check=False,
    )


def test_ask_prints_a_cited_answer_and_json(tmp_path: Path, real_snapshot: Snapshot) -> None:
    IndexDirectory(tmp_path / "index").publish(real_snapshot)
    readable = depeche(tmp_path, "ask", "qui a remplacé Mira Murati ?", "-k", "2")
    assert readable.returncode == 0, readable.stderr
    assert readable.stdout.startswith("Réponse :") and "Emmett Shear" in readable.stdout
    assert "[0e71460ec8a4328c 2155-2341]" in readable.stdout

    result = depeche(
        tmp_path, "ask", "qui a remplacé Mira Murati ?", "--json", "--source", "Djaboo"
    )
    answer = json.loads(result.stdout)
    assert {p["citation"]["source"] for p in answer["passages"]} == {"Djaboo"}

    as_of = depeche(tmp_path, "ask", "qui dirige OpenAI ?", "--json", "--as-of", "2023-11-20")
    assert {p["citation"]["published"] for p in json.loads(as_of.stdout)["passages"]} == {
        "2023-11-20"
    }
    before = depeche(tmp_path, "ask", "qui dirige OpenAI ?", "--as-of", "2023-11-01")
    assert before.returncode == 0
    assert before.stdout.startswith("no article matches the filters (published on or before")

    timeline = depeche(tmp_path, "timeline", "Sam Altman")
    assert timeline.returncode == 0, timeline.stderr
    days = [line[:10] for line in timeline.stdout.splitlines() if line[:2] == "20"]
    assert days == sorted(days) and {"2023-11-16", "2023-11-22"} <= set(days)

    refused = depeche(tmp_path, "ask", "   ", "-k", "3")
    assert refused.returncode == 2 and "the query is empty" in refused.stderr


def test_output_cut_short_by_its_reader_ends_quietly(
    tmp_path: Path, real_snapshot: Snapshot
) -> None:
    """`depeche timeline … | head`: no traceback when the reader has gone."""
    IndexDirectory(tmp_path / "index").publish(real_snapshot)
    command = [sys.executable, "-m", "depeche_cli", "timeline", "Sam Altman"]
    env = os.environ | {"DEPECHE_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the only reader: its first line already has nowhere to go
    errors = process.stderr.read()
    assert process.wait(timeout=300) == 141
    assert "Traceback" not in errors and "BrokenPipeError" not in errors


def test_index_reads_user_files_and_reports_errors(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    record = {"doc_id": "note-1", "title": "Note", "text": "Greg Brockman revient chez OpenAI."}
    (articles / "notes.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    built = depeche(tmp_path / "data", "index", str(articles))
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith("Added 1 article: note-1"), built.stdout

    missing = depeche(tmp_path / "data", "index", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    assert IndexDirectory(tmp_path / "data" / "index").load(
        "multilingual-e5-small"
    ).articles.keys() == {"note-1"}


@pytest.mark.skipif(cuda_present(), reason="this machine has CUDA: the refusal cannot be seen")
def test_a_device_the_model_cannot_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    refused = depeche(tmp_path / "data", "index", env={"DEPECHE_DEVICE": "cuda"})
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.startswith("depeche: device 'cuda' asked, but"), refused.stderr
    assert "Traceback" not in refused.stderr
