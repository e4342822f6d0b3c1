"""``distinct_per_customer``: the bitmap and the sort paths agree with a plain count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.data._core import distinct_per_customer


def _reference(codes: np.ndarray, values: pd.Series, n: int) -> list[int]:
    frame = pd.DataFrame({"c": codes, "v": values}).dropna()
    frame = frame[frame["c"] >= 0]
    counts = frame.groupby("c")["v"].nunique()
    return [int(counts.get(i, 0)) for i in range(n)]


@pytest.mark.parametrize("n_values", [3, 40_000])  # bitmap path, then sort path
def test_matches_groupby_nunique(n_values: int) -> None:
    rng = np.random.default_rng(n_values)
    n, rows = 500, 5_000
    codes = rng.integers(-1, n, rows)
    raw = rng.integers(0, n_values, rows).astype(float)
    raw[rng.random(rows) < 0.1] = np.nan
    values = pd.Series(raw)
    got = distinct_per_customer(codes, values, n)
    assert got.dtype == np.int64
    assert got.tolist() == _reference(codes, values, n)
    # row order never matters
    perm = rng.permutation(rows)
    shuffled = values.iloc[perm].reset_index(drop=True)
    assert distinct_per_customer(codes[perm], shuffled, n).tolist() == got.tolist()
