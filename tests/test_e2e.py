"""End to end: `depeche serve` under uvicorn on 127.0.0.1 with the real model, over real HTTP."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.directory import IndexDirectory
from index.snapshot import Snapshot

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, real_snapshot: Snapshot) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("data")
    IndexDirectory(data_dir / "index").publish(real_snapshot)
    port = free_port()
    env = os.environ | {"DEPECHE_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "depeche_cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=Path(__file__).parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(
                    f"server exited: {process.stderr.read().decode() if process.stderr else ''}"
                )
            try:
                if call(f"{url}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("server did not start within 120 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_murati_question_is_answered_with_exact_citations(server: str) -> None:
    status, body = call(f"{server}/search", {"query": "qui a remplacé Mira Murati ?"})
    assert status == 200
    assert body["no_answer"] is False
    assert "Emmett Shear" in body["answer"]["text"]
    assert "Emmett Shear" in body["passages"][0]["text"]
    cited = [(body["answer"]["citation"], body["answer"]["text"])]
    cited += [(p["citation"], p["text"]) for p in body["passages"]]
    for citation, text in cited:
        status, document = call(f"{server}/documents/{citation['doc_id']}")
        assert status == 200
        assert document["text"][citation["start"] : citation["end"]] == text
        assert citation["title"] == document["title"]
        assert citation["published"] == document["published"]


def test_off_topic_question_gets_no_answer_but_passages(server: str) -> None:
    status, body = call(
        f"{server}/search", {"query": "Quelle est la recette de la tarte tatin ?", "k": 3}
    )
    assert status == 200
    assert body["no_answer"] is True and body["answer"] is None
    assert len(body["passages"]) == 3


def test_health_and_bad_input_over_http(server: str) -> None:
    status, health = call(f"{server}/healthz")
    assert status == 200
    assert health["model"] == "multilingual-e5-small" and health["dimension"] == 384
    assert health["articles"] == 5
    assert call(f"{server}/search", {"query": "x", "k": 0})[0] == 422
    assert call(f"{server}/search", {"query": "x", "extra": True})[0] == 422
    assert call(f"{server}/documents/unknown")[0] == 404


def test_documents_page_by_page_over_http(server: str) -> None:
    listed, url = [], f"{server}/documents?limit=2"
    with httpx.Client(trust_env=False, timeout=30) as client:
        while url:
            response = client.get(url)
            assert response.status_code == 200
            listed += [d["doc_id"] for d in response.json()]
            url = response.links.get("next", {}).get("url", "")
        assert client.get(f"{server}/documents?limit=0").status_code == 422
    assert len(listed) == 5 and listed == sorted(set(listed))


def test_sam_altman_timeline_over_http(server: str) -> None:
    status, body = call(f"{server}/timeline?q=Sam%20Altman")
    assert status == 200
    days = [event["date"] for event in body["events"]]
    assert days == sorted(days)
    week = [f"2023-11-{day}" for day in range(16, 23)]
    assert [day for day in dict.fromkeys(days) if day in week] == week
    assert any(event["sources"] >= 2 for event in body["events"])
    documents: dict[str, str] = {}
    for event in body["events"]:
        assert event["sources"] == len({c["doc_id"] for c in event["citations"]})
        for citation in event["citations"]:
            if citation["doc_id"] not in documents:
                documents[citation["doc_id"]] = call(f"{server}/documents/{citation['doc_id']}")[1][
                    "text"
                ]
            cited = documents[citation["doc_id"]][citation["start"] : citation["end"]]
            assert cited and cited.strip() == cited
        first = event["citations"][0]
        assert documents[first["doc_id"]][first["start"] : first["end"]] == event["text"]
    assert call(f"{server}/timeline?q=Sam%20Altman&as_of=2023-11-01")[1]["events"] == []
    assert call(f"{server}/timeline?q=Altman&as_of=novembre")[0] == 422


def test_as_of_over_http(server: str) -> None:
    status, body = call(
        f"{server}/search", {"query": "qui a remplacé Mira Murati ?", "as_of": "2023-11-20"}
    )
    assert status == 200 and body["answer"]["event_date"] == "2023-11-19"
    assert {p["citation"]["published"] for p in body["passages"]} == {"2023-11-20"}
    status, body = call(f"{server}/search", {"query": "qui dirige OpenAI ?", "as_of": "2023-11-01"})
    assert status == 200 and body["no_answer"] is True and body["passages"] == []
    assert call(f"{server}/search", {"query": "x", "as_of": "2023-11-31"})[0] == 422


def test_latest_state_and_sources_over_http(server: str) -> None:
    documents: dict[str, str] = {}

    def sliced(item: dict[str, Any]) -> str:
        c = item["citation"]
        if c["doc_id"] not in documents:
            documents[c["doc_id"]] = call(f"{server}/documents/{c['doc_id']}")[1]["text"]
        return documents[c["doc_id"]][c["start"] : c["end"]]

    status, body = call(f"{server}/search", {"query": "qui est le PDG d'OpenAI ?"})
    assert status == 200 and not body["no_answer"]
    answer = body["answer"]
    assert "Altman" in answer["text"] and answer["as_of"] >= "2023-11-21"
    earlier = " ".join(s["text"] for s in answer["superseded"])
    assert "Shear" in earlier and "Murati" in earlier
    dates = [s["event_date"] for s in answer["superseded"] if s["event_date"]]
    assert dates == sorted(dates, reverse=True) and all(d < answer["as_of"] for d in dates)
    _, employees = call(f"{server}/search", {"query": "Combien d'employés compte OpenAI ?"})
    assert employees["answer"]["conflicting"], employees["answer"]
    for item in [
        answer,
        *answer["superseded"],
        *answer["supporting"],
        *employees["answer"]["conflicting"],
    ]:
        assert sliced(item) == item["text"]


def run_ask(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`depeche ask` with an empty data directory and a model that does not exist: it can only
    answer by asking a server."""
    env = os.environ | {"DEPECHE_DATA_DIR": str(tmp_path), "DEPECHE_MODEL": str(tmp_path / "none")}
    return subprocess.run(
        [sys.executable, "-m", "depeche_cli", "ask", *args],
        env=env,
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ask_asks_a_running_server(server: str, tmp_path: Path) -> None:
    question = "qui a remplacé Mira Murati ?"
    done = run_ask("--url", server, "--json", "-k", "2", question, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    _, expected = call(f"{server}/search", {"query": question, "k": 2})
    assert answer["answer"]["text"] == expected["answer"]["text"]
    assert answer["answer"]["citation"] == expected["answer"]["citation"]
    assert [p["citation"] for p in answer["passages"]] == [
        p["citation"] for p in expected["passages"]
    ]
    text = run_ask("--url", server, question, tmp_path=tmp_path)
    assert text.returncode == 0 and "Emmett Shear" in text.stdout


def test_asking_a_server_loads_no_model_nor_index_code(server: str, tmp_path: Path) -> None:
    """`depeche ask --url` is a thin client: it imports neither the index nor numpy."""
    script = (
        "import sys, depeche_cli\n"
        "code = depeche_cli.main(['ask', '--url', sys.argv[1], 'qui a remplacé Mira Murati ?'])\n"
        "heavy = ('numpy', 'faiss', 'torch', 'onnxruntime', 'bm25s', 'index', 'eval')\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in heavy]\n"
        "print(code, sorted(set(loaded) - {'index', 'index.query', 'eval', 'eval.command',"
        " 'eval.bench', 'eval.bench.command'}), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, server],
        env=os.environ | {"DEPECHE_DATA_DIR": str(tmp_path)},
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Emmett Shear" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "0 []"


def test_ask_says_why_a_server_cannot_answer(server: str, tmp_path: Path) -> None:
    refused = run_ask("--url", server, "-k", "0", "qui ?", tmp_path=tmp_path)
    assert refused.returncode == 2 and "answered 422" in refused.stderr
    assert "Traceback" not in refused.stderr
    nobody = f"http://127.0.0.1:{free_port()}"
    unreachable = run_ask("--url", nobody, "qui ?", tmp_path=tmp_path)
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
