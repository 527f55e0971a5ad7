"""One logging path: the server's JSON lines carry « degraded », Slack's lines and the model
build's; a person running the CLI reads progress as plain text on stderr."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.snapshot import Snapshot
from service.logs import configure_logging
from tests.harness import fake_settings, open_fake_service, publish


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    tree = logging.getLogger("depeche")
    saved = (tree.handlers[:], tree.level, tree.propagate)
    yield
    tree.handlers[:], tree.level, tree.propagate = saved


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_degraded_reaches_the_json_logs(
    tmp_path: Path, fake_snapshot: Snapshot, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fake_settings(tmp_path)
    publish(settings, fake_snapshot)
    newest = publish(settings, fake_snapshot)
    (newest / "vectors.faiss").write_bytes(b"broken")
    capsys.readouterr()
    configure_logging(structured=True)
    assert open_fake_service(settings).served.degraded
    lines = json_lines(capsys.readouterr().err)
    assert any(
        line["level"] == "WARNING" and str(line["message"]).startswith("Degraded: ")
        for line in lines
    ), lines


@pytest.mark.parametrize("name", ["depeche.slack", "depeche.model", "depeche.index"])
def test_every_part_logs_in_the_depeche_tree(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(structured=True)
    logging.getLogger(name).info("hello from %s", name)
    assert json_lines(capsys.readouterr().err)[-1]["message"] == f"hello from {name}"


def test_people_read_plain_progress_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(structured=False)
    logging.getLogger("depeche.index").info("Embedding 3 passages")
    captured = capsys.readouterr()
    assert captured.err == "Embedding 3 passages\n" and captured.out == ""
