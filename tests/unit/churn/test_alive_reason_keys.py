"""The distinct reason keys of AliveChurn: hashed combination codes equal ``np.unique`` rows."""

from __future__ import annotations

import numpy as np

from crmkit.churn._alive import _distinct_rows


def test_distinct_rows_group_like_unique_rows() -> None:
    rng = np.random.default_rng(1)
    n = 5000
    cols = [np.round(rng.random(n), 1), rng.integers(0, 6, n).astype(float),
            np.round(rng.uniform(0, 9, n), 0)]  # fmt: skip
    inverse, first = _distinct_rows(cols)
    stacked = np.column_stack(cols)
    _, ref_inverse = np.unique(stacked, axis=0, return_inverse=True)
    # same partition of the rows, and each group's first row carries its values
    pairs = set(zip(inverse.tolist(), ref_inverse.reshape(-1).tolist(), strict=True))
    assert len(pairs) == len(first) == len(set(ref_inverse.reshape(-1).tolist()))
    np.testing.assert_array_equal(stacked[first][inverse], stacked)
    assert (first == np.array([np.flatnonzero(inverse == k)[0] for k in range(len(first))])).all()
