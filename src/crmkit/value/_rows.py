"""Grouping the rows of a covariate matrix: the distinct covariate vectors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["unique_rows"]

FloatArray = npt.NDArray[np.float64]


def unique_rows(z: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Distinct rows of ``z`` in lexicographic order and each row's group.

    Equal to ``np.unique(z, axis=0, return_inverse=True)`` but fast for
    many rows and few distinct values per column: each column is coded by a
    1-d ``np.unique`` and the codes are combined into one integer key.

    Examples
    --------
    >>> uz, inv = unique_rows(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    >>> uz.tolist(), inv.tolist()
    ([[0.0, 1.0], [1.0, 0.0]], [1, 0, 1])
    """
    n, k = z.shape
    if k == 0 or n == 0:
        return np.zeros((min(n, 1), k)), np.zeros(n, dtype=np.intp)
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for j in range(k):
        levels, codes = np.unique(z[:, j], return_inverse=True)
        radix *= len(levels)
        if radix >= 2**62:  # too many combinations for one integer key
            uz, inv = np.unique(z, axis=0, return_inverse=True)
            return np.asarray(uz, dtype=np.float64), np.asarray(inv, dtype=np.intp).reshape(-1)
        key = key * len(levels) + codes.reshape(-1)
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return np.asarray(z[first], dtype=np.float64), np.asarray(inv, dtype=np.intp).reshape(-1)
