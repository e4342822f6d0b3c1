"""The table and bincount paths of the customer view give exactly the general ones.

``purchase_stats(..., whole=True)`` totals whole-number amounts per customer
without sorting the rows and finds each customer's periods by binary search;
``factorize_sorted`` and the record aggregates' ``_positions`` look integer
ids up in a table of their range; ``distinct_per_customer`` reads a
categorical's codes. Each is compared here with the general path (or pandas)
on random data, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.data._aggregates import _positions
from crmkit.data._core import distinct_per_customer, factorize_sorted, purchase_stats


@pytest.mark.parametrize("seed", range(8))
def test_whole_amounts_give_the_sorted_statistics(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5000))
    codes = np.unique(rng.integers(0, 300, n), return_inverse=True)[1].astype(np.int64)
    n_cust = int(codes.max()) + 1
    start = int(rng.integers(-30_000, 30_000))  # days before and after the epoch
    day = start + rng.integers(0, [1, 3, 40, 3000][seed % 4], n)
    amount = np.floor(rng.normal(50.0, 80.0, n) * 1e6 + 0.5)  # signed micro-units
    extra = amount - np.floor(rng.random(n) * 1e7)
    for as_of in (int(day.max()), int(day.max()) + int(rng.integers(1, 5000))):
        slow = purchase_stats(codes, day, amount, n_cust, as_of, extra)
        for days in (day, day.astype(np.int32)):
            fast = purchase_stats(codes, days, amount, n_cust, as_of, extra, whole=True)
            assert sorted(fast) == sorted(slow)
            for key, value in slow.items():
                assert fast[key].dtype == value.dtype, key
                np.testing.assert_array_equal(fast[key], value, err_msg=key)
        perm = rng.permutation(n)
        shuffled = purchase_stats(
            codes[perm], day[perm], amount[perm], n_cust, as_of, extra[perm], whole=True
        )
        for key, value in slow.items():
            np.testing.assert_array_equal(shuffled[key], value, err_msg=key)


def test_whole_amounts_beyond_the_bound_take_the_sorted_path() -> None:
    codes = np.zeros(3, dtype=np.int64)
    amount = np.array([2.0**52, 2.0**52, -(2.0**52)])  # partial sums beyond 2**53: inexact
    fast = purchase_stats(codes, np.arange(3), amount, 1, 5, whole=True)
    slow = purchase_stats(codes, np.arange(3), amount, 1, 5)
    for key, value in slow.items():
        np.testing.assert_array_equal(fast[key], value, err_msg=key)


@pytest.mark.parametrize(
    "values",
    [
        pd.Series([5, 3, 5, 9, 3, 4]),  # every id of the range
        pd.Series([5, 3, 5, 900, 3]),  # gaps in the range
        pd.Series(np.array([-7, 2, -7, 0], dtype=np.int32)),
        pd.Series(np.array([200, 7, 7], dtype=np.uint8)),
        pd.Series(np.array([2**63 + 5, 2**63 + 1], dtype=np.uint64)),  # beyond int64
        pd.Series([10**15, 1, 10**15]),  # too sparse for a table
        pd.Series(["b", "a", "b"]),
        pd.Series([1, 2, 2], dtype="Int64"),
    ],
)
def test_factorize_sorted_is_pandas(values: pd.Series) -> None:
    codes, uniques = factorize_sorted(values)
    want_codes, want_uniques = pd.factorize(values, sort=True)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, want_codes)
    assert type(uniques) is type(want_uniques)
    assert uniques.dtype == want_uniques.dtype
    np.testing.assert_array_equal(np.asarray(uniques), np.asarray(want_uniques))


@pytest.mark.parametrize(
    ("index", "ids"),
    [
        (pd.Index([4, 1, 9]), np.array([9, 1, 1, 3, 12, -5, 4])),
        (pd.Index([-3, 0, 7]), np.array([7, -3, 8, -4], dtype=np.int32)),
        (pd.Index([10**15, 1]), np.array([1, 10**15, 2])),  # too sparse for a table
        (pd.Index(["a", "b"]), np.array(["b", "c"], dtype=object)),
    ],
)
def test_positions_are_get_indexer(index: pd.Index, ids: np.ndarray) -> None:
    got = _positions(index, ids)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, index.get_indexer(pd.Index(ids)))


@pytest.mark.parametrize("seed", range(4))
def test_distinct_of_a_categorical_counts_its_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, n_cust = 3000, 90
    codes = rng.integers(-1 if seed % 2 else 0, n_cust, n)
    values = pd.Series(rng.choice(np.array(["x", "y", "z", None], dtype=object), n))
    unused = pd.CategoricalDtype(["w", "z", "y", "x"])  # an unused category, any order
    got = distinct_per_customer(codes, values.astype(unused), n_cust)
    np.testing.assert_array_equal(got, distinct_per_customer(codes, values, n_cust))
    assert got.dtype == np.int64
