"""The index files a process has verified or written itself, known by inode, size and
modification time: a newer generation that hard-links them needs only its new files hashed."""

import os
from collections.abc import Mapping
from pathlib import Path


class CheckedFiles:
    """The files of the last generation loaded or published, with their checksums."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, int], tuple[int, int, str]] = {}

    def unchanged(self, path: Path, digest: str) -> bool:
        """Whether `path` is a file known to hold `digest`: the same inode, of the same size and
        modification time, as one checked or written here."""
        try:
            status = path.stat()
        except FileNotFoundError:
            return False
        return self._known.get(_inode(status)) == (status.st_size, status.st_mtime_ns, digest)

    def remember(self, folder: Path, checksums: Mapping[str, str]) -> None:
        """Know the files of the generation in `folder` (verified or just written), and only
        them."""
        known = {}
        for name, digest in checksums.items():
            status = (folder / name).stat()
            known[_inode(status)] = (status.st_size, status.st_mtime_ns, digest)
        self._known = known


def _inode(status: os.stat_result) -> tuple[int, int]:
    return status.st_dev, status.st_ino
