"""Duplicate-row counting: block boundaries of the hashing and the threaded path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.data._core import count_duplicates
from crmkit.data._record_checks import count_duplicate_rows, duplicate_rows_soon


def _transactions(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, n // 3 + 1, n)
    days = rng.integers(0, 30, n).astype("timedelta64[D]")
    amount = rng.choice([-0.0, 0.0, 1.5, 2.25, np.nan, 10.0], n)
    return pd.DataFrame(
        {"customer_id": ids, "date": np.datetime64("2024-01-01", "ns") + days, "amount": amount}
    )


def _expected(tx: pd.DataFrame) -> int:
    # a duplicate repeats the customer, the timestamp and the amount's exact bits
    # (0.0 and -0.0 differ; the same NaN repeats)
    bits = tx["amount"].to_numpy(dtype=np.float64).view(np.int64)
    key = tx.assign(amount=bits)
    return int(key.duplicated(subset=["customer_id", "date", "amount"]).sum())


@pytest.mark.parametrize(("n", "seed"), [(2, 0), (65_535, 1), (65_537, 2), (200_003, 3)])
def test_count_duplicates_equals_pandas_across_block_boundaries(n: int, seed: int) -> None:
    tx = _transactions(n, seed)
    assert count_duplicate_rows(tx) == _expected(tx)


def test_count_duplicates_is_independent_of_row_order() -> None:
    tx = _transactions(150_000, 4)
    shuffled = tx.sample(frac=1.0, random_state=5)
    assert count_duplicate_rows(shuffled) == count_duplicate_rows(tx)


def test_count_duplicates_never_counts_hash_neighbours_that_differ() -> None:
    codes = np.arange(100_000, dtype=np.int64)
    stamp = np.zeros(100_000, dtype=np.int64)
    assert count_duplicates(codes, stamp, np.ones(100_000)) == 0


def test_threaded_count_equals_the_direct_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    tx = _transactions(1 << 20, 6)  # at the size where the count moves to a second thread
    count = duplicate_rows_soon(tx)
    assert count is not count_duplicate_rows  # the threaded path was taken
    assert count(tx) == _expected(tx)


def test_threaded_count_recounts_when_rows_were_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    tx = _transactions(1 << 20, 7)
    count = duplicate_rows_soon(tx)
    kept = tx.iloc[: len(tx) // 2]
    assert count(kept) == _expected(kept)


def test_one_core_counts_in_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 1)
    tx = _transactions(1 << 20, 8)
    assert duplicate_rows_soon(tx) is count_duplicate_rows
