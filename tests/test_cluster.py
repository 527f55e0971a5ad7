"""Past one machine, on this one: a two-node Ray cluster and Redis, each node in a network
namespace of its own (tests/netns.py), and depeche replicas on loopback.

- `depeche index --ray` of the built-in corpus plus 2,000 distractor passages gives the
  passage ids, vectors and evaluation figures of a local build;
- SIGKILL of the worker node's raylet in the middle of a job: the job completes, each passage
  is there once, the published index passes its checksums;
- two replicas behind one Redis share Slack de-duplication, the rate limit and the writer lock,
  follow each other's writes, and refuse writes (503) but keep reading when Redis is gone;
- nothing the tests start listens outside loopback in the host's namespace (`ss -ltn`).
"""

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis

from corpus import Article, builtin_articles, read_paths
from corpus.training import ARTICLES_DIR
from eval.gold import load_questions
from eval.scoring import score, summarise
from index.directory import IndexDirectory
from index.embedding import Embedder
from index.query import Mode
from index.sentences import sentence_spans
from index.snapshot import Snapshot, build_snapshot
from service.redis_state import RedisWriterLock
from service.runtime import load_reader, make_answerer
from service.settings import Settings
from tests.fakes import HashingEmbedder
from tests.harness import AUTH, TOKEN
from tests.netns import Namespace, namespaces
from tests.ray_cluster import ROOT, Cluster, ray_cluster
from tests.redis_server import redis_server
from tests.test_slack import SECRET, FakeSlack, event_body, mention, signed

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="cluster tests need root: they create network namespaces and veth pairs "
        "(ip netns); run them as root, as CI does",
    ),
]

HANG_GUARD = 600.0
DISTRACTORS = 2000
REDIS_PORT = 6390


@pytest.fixture(scope="module")
def spaces() -> Iterator[list[Namespace]]:
    """The namespaces, removed with all they run even if the run is stopped by SIGTERM (a CI
    timeout): it then unwinds like Ctrl-C, through every fixture's teardown."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with namespaces(2) as made:
            yield made
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="module")
def cluster(spaces: list[Namespace]) -> Iterator[Cluster]:
    with ray_cluster(*spaces) as running:
        yield running


@pytest.fixture(autouse=True)
def only_loopback_listeners() -> Iterator[None]:
    """After each test, while the cluster and everything else it started still run."""
    yield
    assert_only_loopback_listeners()


def assert_only_loopback_listeners() -> None:
    """`ss -ltn` in the host's namespace: every socket that this test process or one of its
    descendants listens on is on loopback (what runs in the namespaces is not seen here)."""
    ours = descendants(os.getpid())
    listed = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True)
    exposed = []
    for line in listed.stdout.splitlines():
        local = line.split()[3]
        pids = {int(pid) for pid in re.findall(r"pid=(\d+)", line)}
        if pids & ours and not local.startswith(("127.", "[::1]", "::1")):
            exposed.append(line)
    assert not exposed, f"listening outside loopback: {exposed}"


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.update(children)
        frontier += children
    return found


def distractors(count: int) -> list[dict[str, str]]:
    """`count` short articles, one passage each, made of the training corpus's sentences
    (alone, then two neighbours together), titled as the article they come from: other
    stories than the built-in corpus's."""
    briefs: list[tuple[str, str]] = []
    pairs: list[tuple[str, str]] = []
    for article in read_paths([ARTICLES_DIR]):
        sentences = [article.text[s:e] for s, e in sentence_spans(article.text)]
        briefs += [(article.title, s) for s in sentences]
        pairs += [(article.title, f"{a} {b}") for a, b in itertools.pairwise(sentences)]
    texts = briefs + pairs
    assert len(texts) >= count
    return [
        {"doc_id": f"breve-{n:04d}", "title": title, "text": text}
        for n, (title, text) in enumerate(texts[:count])
    ]


def write_distractors(path: Path) -> Path:
    records = distractors(DISTRACTORS)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return path


def evaluate(snapshot: Snapshot, embedder: Embedder, articles: list[Article]) -> dict[str, float]:
    """The gold set's quality figures (not its latencies, which depend on the machine's load)."""
    answerer = make_answerer(Settings(), snapshot, embedder)
    documents = {a.doc_id: a.text for a in articles}
    figures = summarise(
        [
            score(q, asdict(answerer.ask(q.question, 10, Mode.HYBRID)), documents)
            for q in load_questions()
        ]
    )
    return {name: value for name, value in figures.items() if not name.startswith("latency")}


def index_on_cluster(cluster: Cluster, settings: Settings, *paths: Path) -> float:
    """`depeche index --ray` run in the head's namespace; the seconds it took."""
    started = time.monotonic()
    built = subprocess.run(
        cluster.head.run(
            sys.executable, "-m", "depeche_cli", "index", "--ray", cluster.address, *map(str, paths)
        ),
        env=cluster.environment | {"DEPECHE_DATA_DIR": str(settings.data_dir)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    assert "Published generation" in built.stdout
    print("", *[line for line in built.stderr.splitlines() if "across the cluster" in line])
    return time.monotonic() - started


def cosines(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    return np.sum(ours * theirs, axis=1)


@pytest.mark.integration
def test_cluster_build_equals_a_local_build(
    cluster: Cluster, real_embedder: Embedder, articles: list[Article], tmp_path: Path
) -> None:
    """`depeche index --ray` of the built-in corpus and 2,000 distractor passages with the real
    model: the local build's passages, vectors and evaluation figures."""
    notes = write_distractors(tmp_path / "distractors.jsonl")
    paths = (ROOT / "corpus" / "seeds", notes)
    settings = Settings(data_dir=tmp_path / "cluster")
    seconds = index_on_cluster(cluster, settings, *paths)
    remote = IndexDirectory(settings.index_dir).load(settings.model)  # checksums verified
    started = time.monotonic()
    local = build_snapshot(
        real_embedder,
        settings.chunk_size,
        settings.chunk_overlap,
        keep={},
        add=read_paths(paths),
        reader=load_reader(settings),
    )
    print(
        f" {len(local.passages)} passages: cluster {seconds:.1f} s, local "
        f"{time.monotonic() - started:.1f} s"
    )
    assert len(remote.passages) >= DISTRACTORS + len(articles)
    assert remote.passages == local.passages
    assert remote.manifest.corpus_fingerprint == local.manifest.corpus_fingerprint
    assert remote.manifest.reader == local.manifest.reader
    assert np.array_equal(remote.rows.ids, local.rows.ids)  # the same passage by row
    rows = range(len(local.rows))
    ours = np.vstack([local.vectors.vector(r) for r in rows])
    assert cosines(ours, np.vstack([remote.vectors.vector(r) for r in rows])).min() >= 0.999
    for doc_id, table in local.sentences.items():
        theirs = remote.sentences[doc_id]
        assert np.array_equal(theirs.spans, table.spans)
        assert cosines(table.vectors, theirs.vectors).min() >= 0.999
        assert [t.shape for t in theirs.tokens] == [t.shape for t in table.tokens]
    assert evaluate(remote, real_embedder, articles) == evaluate(local, real_embedder, articles)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replica:
    """`python -m tests.replica` on a free loopback port, its log in a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.replica", str(self.port)],
                env=env,
                cwd=ROOT,
                stdout=sink,
                stderr=sink,
            )

    def wait_healthy(self, http: httpx.Client) -> None:
        wait_for(lambda: self._healthy(http), f"{self.log.name} started")

    def _healthy(self, http: httpx.Client) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return http.get(self.url + "/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(HANG_GUARD)


def post_event(http: httpx.Client, replica: Replica, body: str) -> httpx.Response:
    return http.post(replica.url + "/slack/events", content=body.encode(), headers=signed(body))


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll a signal until it holds; the guard only catches a hang."""
    deadline = time.monotonic() + HANG_GUARD
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.05)


def test_two_replicas_behind_one_redis(
    spaces: list[Namespace], fake_snapshot: Snapshot, tmp_path: Path
) -> None:
    redis_home = spaces[0]
    slack = FakeSlack()
    with redis_server(
        redis_home.address, REDIS_PORT, ["ip", "netns", "exec", redis_home.name]
    ) as server:
        settings = Settings(model="fake-hashing", data_dir=tmp_path / "data")
        IndexDirectory(settings.index_dir).publish(fake_snapshot)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()} | {
            "DEPECHE_MODEL": "fake-hashing",
            "DEPECHE_DATA_DIR": str(settings.data_dir),
            "DEPECHE_REDIS_URL": server.url,
            "DEPECHE_ADMIN_TOKEN": TOKEN,
            "DEPECHE_RATE_LIMIT": "0.001",  # no refill within the test: the burst is all
            "DEPECHE_RATE_BURST": "100",
            "DEPECHE_RELOAD_SECONDS": "0.2",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": slack.url + "/api/",
        }
        replicas = [Replica(env, tmp_path / f"replica-{n}.log") for n in (1, 2)]
        one, two = replicas
        try:
            with httpx.Client(trust_env=False, timeout=30) as http:
                for replica in replicas:
                    replica.wait_healthy(http)
                assert_only_loopback_listeners()

                # The same Slack event delivered to both: one reply. Each replica decides
                # before its acknowledgement; a reply to a later event on each replica then
                # marks that any reply to the first one was posted too.
                where = "CREPLICAS"
                body = event_body(mention("<@UDEPECHE> qui a remplacé Mira Murati ?", where))
                later = [f"CLATER{n}" for n in (1, 2)]
                for replica in replicas:
                    assert post_event(http, replica, body).status_code == 200
                for replica, room in zip(replicas, later, strict=True):
                    question = event_body(mention("<@UDEPECHE> Emmett Shear", room))
                    assert post_event(http, replica, question).status_code == 200
                wait_for(lambda: all(slack.replies(room) for room in later), "later replies")
                assert len(slack.replies(where)) == 1

                # An admin write on one replica is served by the other after its refresh.
                note = {
                    "doc_id": "note-replica",
                    "title": "Note",
                    "text": "Emmett Shear promet une enquête indépendante.",
                    "published": "2023-11-21",
                }
                assert http.post(one.url + "/documents", json=note, headers=AUTH).status_code == 201
                wait_for(
                    lambda: http.get(two.url + "/documents/note-replica").status_code == 200,
                    "the write served by the other replica",
                )

                # One writer at a time: while another holds the lock, a write gets 409.
                with RedisWriterLock(redis.Redis.from_url(server.url)).hold():
                    busy = http.delete(two.url + "/documents/note-replica", headers=AUTH)
                assert busy.status_code == 409 and "another replica" in busy.json()["message"]
                assert (
                    http.delete(two.url + "/documents/note-replica", headers=AUTH).status_code
                    == 200
                )

                # One client's rate limit holds across both replicas (another address of
                # loopback, so a bucket of its own): the burst of 100, not 200.
                other = httpx.Client(
                    trust_env=False,
                    timeout=30,
                    transport=httpx.HTTPTransport(local_address="127.0.0.2"),
                )
                with other:
                    admitted = sum(
                        other.get(replica.url + "/documents/unknown").status_code != 429
                        for _ in range(75)
                        for replica in replicas
                    )
                assert 100 <= admitted <= 101

                # Redis gone: reads go on, admin writes are refused with a message.
                server.process.kill()
                server.process.wait(HANG_GUARD)
                for replica in replicas:
                    assert (
                        http.post(
                            replica.url + "/search", json={"query": "Mira Murati"}
                        ).status_code
                        == 200
                    )
                    refused = http.post(replica.url + "/documents", json=note, headers=AUTH)
                    assert refused.status_code == 503
                    assert "writes are refused" in refused.json()["message"]
        finally:
            for replica in replicas:
                replica.stop()
            slack.close()


def test_job_survives_the_loss_of_the_worker_node(cluster: Cluster, tmp_path: Path) -> None:
    """The built-in corpus and 2,000 distractor passages, with the fake embedder; the worker
    node's raylet is killed while a batch is in flight there. Last of the module: it leaves
    the cluster without its worker node."""
    notes = write_distractors(tmp_path / "distractors.jsonl")
    marker = tmp_path / "worker-started"
    data_dir = tmp_path / "data"
    driver = subprocess.Popen(
        cluster.head.run(
            sys.executable,
            "-m",
            "tests.ray_driver",
            cluster.address,
            str(data_dir),
            str(marker),
            cluster.worker.address,
            str(ROOT / "corpus" / "seeds"),
            str(notes),
        ),
        env=cluster.environment,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: marker.exists() or driver.poll() is not None, "a batch on the worker node")
        assert driver.poll() is None, driver.communicate()
        raylets = cluster.raylet_pids(cluster.worker)
        assert len(raylets) == 1
        os.kill(raylets[0], signal.SIGKILL)
        out, err = driver.communicate(timeout=HANG_GUARD)
    finally:
        driver.kill()
    assert driver.returncode == 0, err[-3000:]
    settings = Settings(model="fake-hashing", data_dir=data_dir)
    published = IndexDirectory(settings.index_dir).load(settings.model)  # checksums verified
    articles = read_paths([ROOT / "corpus" / "seeds", notes])
    local = build_snapshot(HashingEmbedder(), 300, 50, keep={}, add=articles)
    ids = [p.passage_id for p in published.passages.values()]
    assert len(ids) == len(set(ids)) == len(local.passages)
    assert len(ids) >= DISTRACTORS + len(builtin_articles())
    assert set(ids) == {p.passage_id for p in local.passages.values()}
    assert out.split()[-1] == str(len(local.passages))
    assert len(published.articles) == len(articles)
    assert np.array_equal(published.rows.ids, local.rows.ids)  # the same passage by row
    for row in range(len(local.rows)):
        assert np.allclose(published.vectors.vector(row), local.vectors.vector(row))
