"""The state replicas share, in a real Redis on loopback: Slack events seen once, one token
bucket per client across replicas, one writer at a time; and what happens when Redis is gone."""

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import redis

from depeche_cli import main
from index.directory import IndexDirectory, WriterBusyError
from service.redis_state import RedisSeenEvents, RedisTokenBuckets, RedisWriterLock, redis_state
from service.settings import Settings
from service.shared_state import LocalWriterLock, SharedStateUnavailable, shared_state
from service.slack_dedupe import RecentIds
from tests.fakes import HashingEmbedder
from tests.redis_server import redis_server

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server("127.0.0.1", free_port()) as server:
        yield server.url


def client(url: str) -> redis.Redis:
    """A connection of its own, as each replica has."""
    return redis.Redis.from_url(url)


def test_default_state_is_in_process(tmp_path: Path) -> None:
    state = shared_state(Settings(data_dir=tmp_path))
    assert isinstance(state.seen, RecentIds) and isinstance(state.writers, LocalWriterLock)


def test_redis_url_selects_redis(redis_url: str, tmp_path: Path) -> None:
    state = redis_state(Settings(data_dir=tmp_path, redis_url=redis_url))
    assert state.seen.first_time("Ev-select") and not state.seen.first_time("Ev-select")


def test_an_event_is_new_to_exactly_one_of_many_replicas(redis_url: str) -> None:
    replicas = [RedisSeenEvents(client(redis_url)) for _ in range(8)]
    start = threading.Barrier(len(replicas))
    answers: list[bool] = []

    def receive(seen: RedisSeenEvents) -> None:
        start.wait()
        answers.append(seen.first_time("Ev-race"))

    threads = [threading.Thread(target=receive, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [False] * 7 + [True]


def test_a_token_bucket_holds_across_replicas(redis_url: str) -> None:
    one, two = (RedisTokenBuckets(client(redis_url), rate=0.01, burst=5) for _ in range(2))
    admitted = [bucket.take("10.0.0.7") == 0.0 for _ in range(6) for bucket in (one, two)]
    assert sum(admitted) == 5, "the burst is shared, not granted per replica"
    assert 0 < two.take("10.0.0.7") <= 100, "the wait is until the next token"
    assert one.take("10.0.0.8") == 0.0, "clients have their own buckets"


def test_one_writer_at_a_time_across_replicas(redis_url: str) -> None:
    one, two = RedisWriterLock(client(redis_url)), RedisWriterLock(client(redis_url))
    with one.hold(), pytest.raises(WriterBusyError), two.hold():
        pass
    with two.hold():
        pass


def test_depeche_index_is_refused_while_a_replica_writes(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(model="fake-hashing", data_dir=tmp_path, redis_url=redis_url)
    directory = IndexDirectory(settings.index_dir)
    with (
        mock.patch("depeche_cli.get_settings", return_value=settings),
        mock.patch("service.runtime.load_embedder", return_value=HashingEmbedder()),
    ):
        with RedisWriterLock(client(redis_url)).hold():
            assert main(["index"]) == 2
            assert "another replica is updating the index" in capsys.readouterr().err
            assert directory.current() is None
        assert main(["index"]) == 0
    assert directory.current() is not None


def test_without_redis_writes_are_refused_and_reads_go_on() -> None:
    gone = client(f"redis://127.0.0.1:{free_port()}/0")
    with (
        pytest.raises(SharedStateUnavailable, match="writes are refused"),
        RedisWriterLock(gone).hold(),
    ):
        pass
    assert RedisSeenEvents(gone).first_time("Ev-lost")
    assert RedisTokenBuckets(gone, rate=1, burst=1).take("10.0.0.9") == 0.0


def test_single_machine_path_imports_neither_ray_nor_redis(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "import depeche_cli, service.cluster_index\n"
        "from service.api import create_app\n"
        "from service.settings import Settings\n"
        f"create_app(Settings(data_dir={str(tmp_path)!r}), lambda s: None)\n"
        "print(sorted({'ray', 'redis'} & set(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DEPECHE_REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "[]"
