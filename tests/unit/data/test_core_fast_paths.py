"""The fast paths of the customer-view core give exactly the slow definitions.

``purchase_stats`` sums each (customer, day) run in (amount, extra) order;
whole-number amounts (integer micro-units) skip that sort because their sums
are exact in any order. ``count_duplicates`` filters candidate rows through a
bitmap before the exact check. Both are compared here with direct reference
implementations on random data with many ties.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.data._core import count_duplicates, purchase_stats


def _reference_totals(codes, day, amount, extra):  # type: ignore[no-untyped-def]
    """Per-customer totals of per-day sums, rows in (customer, day, amount, extra) order."""
    order = np.lexsort((extra, amount, day, codes))
    c, d = codes[order], day[order]
    day_start = np.flatnonzero(np.r_[True, (c[1:] != c[:-1]) | (d[1:] != d[:-1])])
    per_day = [np.add.reduceat(v[order], day_start) for v in (amount, extra)]
    cust = c[day_start]
    cust_start = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    return [np.add.reduceat(v, cust_start) for v in per_day]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("whole", [False, True])
def test_run_sums_match_the_canonical_order(seed: int, whole: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 4000
    codes = rng.integers(0, 150, n).astype(np.int64)
    codes = np.unique(codes, return_inverse=True)[1].astype(np.int64)
    day = rng.integers(0, 4, n).astype(np.int64)  # long runs of equal (customer, day)
    amount = np.round(rng.gamma(2.0, 3.0, n), 1)  # many equal amounts inside a run
    extra = amount - np.round(rng.random(n), 2)
    if whole:  # integer micro-units: any order is exact
        amount, extra = np.floor(amount * 1e6 + 0.5), np.floor(extra * 1e6 + 0.5)
    n_cust = int(codes.max()) + 1
    s = purchase_stats(codes, day, amount, n_cust, 10, extra)
    revenue, margin = _reference_totals(codes, day, amount, extra)
    np.testing.assert_array_equal(s["revenue"], revenue)
    np.testing.assert_array_equal(s["extra"], margin)
    perm = rng.permutation(n)
    t = purchase_stats(codes[perm], day[perm], amount[perm], n_cust, 10, extra[perm])
    for key in s:
        np.testing.assert_array_equal(s[key], t[key])


@pytest.mark.parametrize("seed", range(4))
def test_count_duplicates_equals_pandas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 30_000
    codes = rng.integers(0, 300, n).astype(np.int64)
    stamp = rng.integers(0, 20, n).astype(np.int64) * 86_400_000_000_000
    amount = rng.integers(1, 40, n).astype(np.float64)  # thousands of repeated rows
    frame = pd.DataFrame({"c": codes, "t": stamp, "a": amount})
    assert count_duplicates(codes, stamp, amount) == int(frame.duplicated().sum()) > 1000


def test_whole_amounts_skip_the_tie_sort_per_customer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound is per customer: a base whose grand total passes 2**52 still skips it."""
    import crmkit.data._core as core

    def refuse(*args: object) -> None:
        raise AssertionError("the tie sort ran for exact sums")

    monkeypatch.setattr(core, "_canonical_ties", refuse)
    n_cust, per = 600, 5
    codes = np.repeat(np.arange(n_cust, dtype=np.int64), per)
    day = np.zeros(len(codes), dtype=np.int64)
    amount = np.full(len(codes), 2.0**42)  # each customer ~2**44.3, all ~2**51.6 * 2
    amount[::7] += 3.0
    s = purchase_stats(codes, day, amount, n_cust, 1, amount.copy())
    assert float(amount.sum()) > 2.0**52
    np.testing.assert_array_equal(s["revenue"], np.bincount(codes, weights=amount))
    with pytest.raises(AssertionError, match="tie sort"):
        purchase_stats(codes, day, amount + 0.5, n_cust, 1)  # fractions: the sort is needed
