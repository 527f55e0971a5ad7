"""English questions read in French too: the translator's pipeline protocol, its failures, Apertium
itself, and how the answerer uses the translation."""

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from index.embedding import Embedder
from index.query import Mode
from index.snapshot import Snapshot
from service.answering import QuestionAnswerer
from service.query_language import is_english
from service.runtime import make_answerer
from service.settings import Settings
from service.translation import Translator, apertium_modes, english_to_french, pipeline_command

ANSWERS_WENG = (
    "while IFS= read -r -d '' q; do printf 'Lilian Weng directrice de la sécurité\\0'; done"
)


def test_words_and_punctuation_reach_the_pipeline_other_characters_do_not() -> None:
    echo = Translator("cat")
    texts = [
        f"{i}: l'OpenAI’s board, 95 % élu-e ? a/b [c] ^d$ @e <f> {{g}} *h \\i 😀" for i in range(40)
    ]
    expected = [f"{i}: l'OpenAI’s board, 95 % élu-e ? a b c d e f g h i" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(echo.translate, texts)) == expected
    assert echo.translate("two\nlines\0and\x0ccontrols") == "two lines and controls"
    assert echo.translate("^$ <> 😀") is None  # nothing left to translate
    echo.close()


def test_a_pipeline_that_does_not_answer_is_stopped_and_started_again() -> None:
    silent = Translator("sleep 600", timeout=0.2, startup_timeout=0.2)
    first = silent._process
    assert first is not None
    assert silent.translate("Who replaced Mira Murati?") is None
    assert first.poll() is not None  # the whole process group was killed, not left behind
    assert silent._process is None
    assert silent.translate("Who?") is None
    assert silent._process is None
    ended = Translator("exit 0")
    assert ended.translate("Who?") is None  # a pipeline that ended says nothing, raises nothing


def test_a_pipeline_slow_to_load_is_waited_for_once() -> None:
    slow = Translator("sleep 1; cat", timeout=0.05, startup_timeout=60)
    assert slow.translate("first") == "first"  # longer than `timeout`: it was loading
    assert slow.translate("second") == "second"
    slow.close()


def _apertium_required() -> None:
    if pipeline_command(apertium_modes()) is None:
        if os.geteuid() != 0:
            pytest.skip("Apertium is not installed (.ci/system-packages installs it as root)")
        pytest.fail("Apertium is missing although .ci/system-packages ran as root")


def test_apertium_reads_an_english_question_in_french() -> None:
    _apertium_required()
    translator = english_to_french()
    assert translator is not None
    french = translator.translate("How many employees signed the letter?")
    assert french is not None and not is_english(french)
    assert {"combien", "employés", "lettre"} <= set(french.lower().replace("?", " ").split())


def test_without_apertium_or_when_disabled_there_is_no_translator(
    fake_snapshot: Snapshot, fake_embedder: Embedder
) -> None:
    assert pipeline_command(apertium_modes() / "missing") is None
    disabled = Settings(translate_english=False, reader=False)
    assert make_answerer(disabled, fake_snapshot, fake_embedder).translator is None


def test_an_english_question_is_searched_with_its_translation_a_french_one_as_asked(
    fake_snapshot: Snapshot, fake_embedder: Embedder
) -> None:
    answerer = QuestionAnswerer(fake_snapshot, fake_embedder, translator=Translator(ANSWERS_WENG))
    untranslated = QuestionAnswerer(fake_snapshot, fake_embedder)
    english = "Who looks after safety at the company?"

    def top(a: QuestionAnswerer, question: str) -> str:
        """The best passage by BM25 alone ("" if no word matches)."""
        return next((p.text for p in a.ask(question, 1, Mode.LEXICAL).passages), "")

    assert "Weng" in top(answerer, english)
    assert "Weng" not in top(untranslated, english)
    french = "Que fait Microsoft pour les employés ?"
    assert top(answerer, french) == top(untranslated, french)
    assert "Weng" not in top(answerer, french)


def test_what_once_stalled_apertium_is_answered_at_once() -> None:
    _apertium_required()
    translator = english_to_french()
    assert translator is not None and translator.translate("Who?")
    for text in ("^", "How many +e4o^ ?", "What\x0c?", "Who [) ^+t4\x0c~5En]Ew[h\x0c[eb^ ?"):
        translator.translate(text)  # each within the per-question timeout, or it restarts
        assert translator._process is not None and not translator._loading
    assert translator.translate("How many employees signed the letter?")


def test_the_server_starts_apertium_once_and_stops_it_with_the_process() -> None:
    _apertium_required()
    assert english_to_french() is english_to_french()
    script = (
        "from service.translation import english_to_french as t\n"
        "p = t()._process\n"
        "print(p.pid, t().translate('Who?'))\n"
    )
    done = subprocess.run(
        ["python", "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    group = int(done.stdout.split()[0])
    assert done.stdout.split()[1] == "Qui"
    assert _running_in_group(group) == []  # the pipeline ended with the server's process


def _running_in_group(group: int) -> list[int]:
    """The processes of process group `group` that still run (zombies left to be reaped by
    init do not)."""
    running = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[2]) == group and fields[0] != "Z":
            running.append(int(stat.parent.name))
    return running
