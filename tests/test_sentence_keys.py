"""Sentence hashes: the same for a copy's sentence whatever its typography, and the same in
every process (they are stored with the index)."""

import subprocess
import sys

import numpy as np

from index.sentence_keys import NO_KEY, sentence_hashes, sentence_key

TEXT = "Sam Altman a été réintégré à la tête d'OpenAI. Lire aussi. Fin."
COPY = "SAM ALTMAN A ETE REINTEGRE A LA TETE D’OPENAI  . Lire aussi. Fin."


def _spans(text: str) -> np.ndarray:
    first = text.index(".") + 1
    second = text.index(".", first) + 1
    return np.array([(0, first), (first, second), (second, len(text))])


def test_copies_of_a_sentence_share_its_hash_and_short_ones_have_none() -> None:
    ours, theirs = sentence_hashes(TEXT, _spans(TEXT)), sentence_hashes(COPY, _spans(COPY))
    assert ours[0] == theirs[0] != NO_KEY
    assert list(ours[1:]) == [NO_KEY, NO_KEY]
    other = "Sam Altman a été réintégré à la tête de Microsoft."
    assert sentence_hashes(other, np.array([(0, len(other))]))[0] != ours[0]
    assert sentence_key(COPY[: COPY.index(".")]) == "sam altman a ete reintegre a la tete d openai"


def test_hashes_are_the_same_in_another_process() -> None:
    code = (
        "import numpy as np; from index.sentence_keys import sentence_hashes;"
        f"print(int(sentence_hashes({TEXT!r}, np.array([(0, {len(TEXT)})]))[0]))"
    )
    env = {"PYTHONHASHSEED": "12345"}
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert child.returncode == 0, child.stderr
    assert int(child.stdout) == sentence_hashes(TEXT, np.array([(0, len(TEXT))]))[0]
