"""A matrix saved as .npy, read a range of rows at a time with `pread`: nothing is mapped, so a
process holds only the rows it asked for (a mapped file's pages count in its resident memory
once touched, and this kernel maps them in large folios: one row read maps up to 2 MB)."""

import os
import weakref
from pathlib import Path

import numpy as np


class MatrixFile:
    """The rows of a 2-D .npy file on disk."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as stream:
            version = np.lib.format.read_magic(stream)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran_order, dtype = read_header(stream)
            self._offset = stream.tell()
        if len(shape) != 2 or fortran_order:
            raise ValueError(f"{path}: shape {shape}, not a matrix in row order")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(dtype)
        self._row_bytes = self.shape[1] * self.dtype.itemsize
        if os.path.getsize(path) != self._offset + self.shape[0] * self._row_bytes:
            raise ValueError(f"{path}: its size does not fit shape {shape}")
        self._fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    def rows(self, first: int, last: int) -> np.ndarray:
        """Rows `first` to `last` (excluded)."""
        count = max(0, min(last, len(self)) - first)
        data = os.pread(self._fd, count * self._row_bytes, self._offset + first * self._row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.shape[1])
