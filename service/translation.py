"""English questions read in French too: Apertium (Debian's rule-based translator, offline)
translates English to Spanish, then Spanish to French, in one pipeline of processes kept
running and flushed after each question (a few milliseconds a question; about 0.4 s to start
it for each one). The translation is rough, but it gives BM25, the shared terms and the answer
types the articles' own words (« conseil d'administration », « combien », « démissionner »)."""

import contextlib
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import threading
import time
import weakref
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

PAIRS = ("eng-spa", "es-fr")  # Debian packages apertium-eng-spa and apertium-fr-es
# only words and plain punctuation reach the pipeline: no character of Apertium's stream
# format (^ $ / @ < > { } [ ] * \), nor a control character, which some stages wait on
_UNREAD = re.compile(r"[^\w'’?!.,;:%-]+")
_FLUSH = b"\0"


class Translator:
    """A running pipeline (`command`, run by bash) that answers each text it reads, ended by a
    NUL, with its translation ended by a NUL; `translate` is thread-safe and gives up (None)
    after `timeout` seconds (`startup_timeout` for the first text, while the pipeline loads its
    dictionaries on a busy machine), restarting the pipeline at the next question."""

    def __init__(self, command: str, timeout: float = 2.0, startup_timeout: float = 30.0) -> None:
        self.command = command
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._loading = True  # until the pipeline first answers
        self._start()  # the pipeline loads its dictionaries while the server starts

    def translate(self, text: str) -> str | None:
        line = " ".join(_UNREAD.sub(" ", text).split())
        if not line:
            return None
        with self._lock:
            try:
                process = self._process or self._start()
                assert process.stdin is not None and process.stdout is not None
                # a trailing blank: the bilingual lookup waits for one before it flushes
                process.stdin.write(line.encode() + b" \n" + _FLUSH)
                process.stdin.flush()
                timeout = self.startup_timeout if self._loading else self.timeout
                output = _read_until_flush(process.stdout.fileno(), timeout)
                self._loading = output is None
            except OSError as error:
                log.warning("the English translator failed (%s); reading as asked", error)
                output = None
            if output is None:
                self._end(patience=0)  # stuck or ended: killed at once
                return None
        return output.decode("utf-8", "replace").strip() or None

    def close(self) -> None:
        """Stop the pipeline (it starts again at the next question)."""
        with self._lock:
            self._end(patience=2.0)

    def _end(self, patience: float) -> None:
        if self._process is not None:
            self._at_exit.detach()
            _stop(self._process, patience)
            self._process = None

    def _start(self) -> "subprocess.Popen[bytes]":
        process = subprocess.Popen(
            ["bash", "-c", self.command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as one
        )
        self._at_exit = weakref.finalize(self, _stop, process)  # at the latest
        self._process = process
        self._loading = True
        return process


def _read_until_flush(fd: int, timeout: float) -> bytes | None:
    deadline = time.monotonic() + timeout
    output = b""
    while not output.endswith(_FLUSH):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            log.warning("the English translator did not answer in %.1f s", timeout)
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            log.warning("the English translator stopped")
            return None
        output += chunk
    return output[: -len(_FLUSH)]


def _stop(process: "subprocess.Popen[bytes]", patience: float = 2.0) -> None:
    """End the pipeline: its input closed, each stage ends and bash collects them; one that
    has not ended within `patience` seconds is killed with its whole process group."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def pipeline_command(modes: Path, pairs: tuple[str, ...] = PAIRS) -> str | None:
    """The shell pipeline of `pairs` in null-flush mode, from Apertium's mode files under
    `modes`; None if Apertium or a pair is not installed."""
    describe = shutil.which("apertium-wblank-mode")
    if describe is None or not all((modes / f"{pair}.mode").is_file() for pair in pairs):
        return None
    stages = []
    for pair in pairs:
        described = subprocess.run(
            [describe, "-z", str(modes / f"{pair}.mode")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # $1: the generator's option (-n: no mark on unknown words); $2: the tagger's (none)
        stages.append(described.replace("$1", "-n").replace("$2", ""))
    return " | ".join(stages)


def apertium_modes() -> Path:
    """Where Apertium's language pairs describe their pipelines (next to its executable)."""
    executable = shutil.which("apertium")
    prefix = Path(executable).resolve().parent.parent if executable else Path("/usr")
    return prefix / "share" / "apertium" / "modes"


@lru_cache(maxsize=1)
def english_to_french() -> Translator | None:
    """The server's one translator, or None (logged once) if Apertium is not installed."""
    command = pipeline_command(apertium_modes())
    if command is None:
        log.warning(
            "Apertium is not installed (Debian: apertium apertium-eng-spa apertium-fr-es): "
            "questions in English are read as asked, with fewer shared words"
        )
        return None
    return Translator(command)
