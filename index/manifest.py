"""The index manifest: what an index directory holds, and the checks made before using it."""

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import xxhash

FORMAT_VERSION = 6  # 2: sentences carry their event dates and reader tokens; 3: segments;
# 4: sentence vectors in a float16 matrix beside the store, memory-mapped; 5: a segment's
# passage and sentence spans in a layout file beside the store, its rows read on demand;
# 6: the layout holds a hash of each sentence's words (syndicated copies); the quantised codes
# of the passage vectors are in shards (scan-<i>.faiss) beside the float16 vectors
MANIFEST_FILE = "manifest.json"
XXH3_PREFIX = "xxh3_128:"  # a file's checksum; a bare hex one (an earlier release's) is SHA-256


class IndexUnusableError(RuntimeError):
    """The index cannot be used as it is; the message says why and what to do."""


class IndexMismatchError(IndexUnusableError):
    """The index was built with another model or format than the one asked for."""


class IndexCorruptError(IndexUnusableError):
    """The index files disagree with their manifest (checksum, counts, missing file)."""


@dataclass(frozen=True)
class SegmentEntry:
    """One segment of a generation: its name, what it holds (tombstoned articles included) and
    the doc_ids tombstoned in it (replaced or deleted since it was written)."""

    name: str
    articles: int
    passages: int
    sentences: int
    deleted: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Manifest:
    """Describes one published index generation: live counts (articles, passages and sentences
    not tombstoned), its segments, and the checksum of every file."""

    model: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    articles: int
    passages: int
    sentences: int
    corpus_fingerprint: str
    built_at: str
    reader: str | None = None  # id of the reader whose token vectors the index holds
    reader_dimension: int = 0
    format_version: int = FORMAT_VERSION
    segments: list[SegmentEntry] = field(default_factory=list)  # the last one's files at the top
    checksums: dict[str, str] = field(default_factory=dict)

    def write(self, folder: Path) -> None:
        (folder / MANIFEST_FILE).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def read(cls, folder: Path) -> "Manifest":
        path = folder / MANIFEST_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            segments = [SegmentEntry(**entry) for entry in data.pop("segments", [])]
            return cls(**data, segments=segments)
        except FileNotFoundError as error:
            raise IndexCorruptError(f"{path} is missing") from error
        except (ValueError, TypeError) as error:
            raise IndexCorruptError(f"{path} is not a valid manifest: {error}") from error

    def check_compatible(self, model: str) -> None:
        """Refuse an index of another format or built with another model."""
        if self.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index format {self.format_version} is not supported (expected {FORMAT_VERSION});"
                " rebuild it with `depeche index`"
            )
        if self.model != model:
            raise IndexMismatchError(
                f"the index was built with model {self.model!r} but {model!r} is configured;"
                " rebuild it with `depeche index` or set DEPECHE_MODEL to the index's model"
            )

    def check_files(self, folder: Path, known: Callable[[Path, str], bool] | None = None) -> None:
        """Verify every file's checksum against the manifest, but those `known(path, digest)`
        says were checked already."""
        unchecked = {
            folder / name: expected
            for name, expected in self.checksums.items()
            if known is None or not known(folder / name, expected)
        }
        for path in unchecked:
            if not path.is_file():
                raise IndexCorruptError(f"{path} is missing")
        for path, matched in _matching(unchecked).items():
            if not matched:
                raise IndexCorruptError(f"{path} does not match its checksum in the manifest")

    def verified_files(self, folder: Path) -> dict[str, str]:
        """The checksums of the manifest's files in `folder` that hold them; a file missing,
        unreadable or changed is left out (loading reports it)."""
        matched = _matching(
            {folder / name: digest for name, digest in self.checksums.items()},
            unreadable_is_false=True,
        )
        return {name: d for name, d in self.checksums.items() if matched[folder / name]}


def _matching(expected: dict[Path, str], unreadable_is_false: bool = False) -> dict[Path, bool]:
    """Whether each file holds its checksum, hashed in parallel (the hashes release the GIL);
    with `unreadable_is_false`, a file that cannot be read does not (else its error is raised)."""

    def matches(item: tuple[Path, str]) -> bool:
        try:
            return file_checksum(*item) == item[1]
        except OSError:
            if unreadable_is_false:
                return False
            raise

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        return dict(zip(expected, pool.map(matches, expected.items()), strict=True))


def file_checksum(path: Path, like: str = XXH3_PREFIX) -> str:
    """The checksum of the file at `path`, of the kind `like` is: xxh3-128 (written as
    "xxh3_128:<hex>"; it reads a cached file at about 7 GB/s here, against 1.1 GB/s for
    SHA-256) or, for a file written by an earlier release, SHA-256 ("<hex>")."""
    xxh3 = like.startswith(XXH3_PREFIX)
    digest = xxhash.xxh3_128() if xxh3 else hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return XXH3_PREFIX + digest.hexdigest() if xxh3 else digest.hexdigest()
