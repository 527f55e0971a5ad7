from pathlib import Path

import numpy as np
import pytest

from index.matrix_file import MatrixFile


def test_rows_are_read_as_saved(tmp_path: Path) -> None:
    matrix = np.arange(60, dtype=np.float16).reshape(20, 3)
    np.save(tmp_path / "m.npy", matrix)
    stored = MatrixFile(tmp_path / "m.npy")
    assert len(stored) == 20 and stored.shape == (20, 3) and stored.dtype == np.float16
    assert np.array_equal(stored.rows(4, 9), matrix[4:9])
    assert np.array_equal(stored.rows(18, 25), matrix[18:])  # stops at the last row
    assert stored.rows(7, 7).shape == (0, 3)


def test_a_truncated_or_misshapen_file_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "m.npy", np.ones((10, 4), dtype=np.float16))
    data = (tmp_path / "m.npy").read_bytes()
    (tmp_path / "short.npy").write_bytes(data[:-8])
    with pytest.raises(ValueError, match="does not fit"):
        MatrixFile(tmp_path / "short.npy")
    np.save(tmp_path / "flat.npy", np.ones(10, dtype=np.float16))
    with pytest.raises(ValueError, match="not a matrix"):
        MatrixFile(tmp_path / "flat.npy")
