"""Checks of CustomerData records: ``as_of``, duplicate rows, feedback scores."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from crmkit.data._validate import as_timestamp
from crmkit.exceptions import SchemaFailure

__all__ = ["as_of_timestamp", "check_scores", "count_duplicate_rows", "duplicate_rows_soon"]

#: The range of each feedback score kind.
_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def as_of_timestamp(value: Any) -> pd.Timestamp:
    """Read ``as_of`` (see :func:`crmkit.data._validate.as_timestamp`).

    Parameters
    ----------
    value : date-like
        The date.

    Returns
    -------
    Timestamp

    Examples
    --------
    >>> as_of_timestamp("2024-01-31").day
    31
    """
    return as_timestamp(value, "as_of")


def count_duplicate_rows(tx: pd.DataFrame) -> int:
    from crmkit.data._core import count_duplicates

    ids = tx["customer_id"]
    if ids.dtype.kind in "iu":
        codes = ids.to_numpy(dtype=np.int64)
    else:
        codes, _ = pd.factorize(ids)
    stamp = tx["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    amount = tx["amount"].to_numpy(dtype=np.float64)
    return count_duplicates(codes.astype(np.int64, copy=False), stamp, amount)  # no copy


def duplicate_rows_soon(tx: pd.DataFrame) -> Callable[[pd.DataFrame], int]:
    """Start :func:`count_duplicate_rows` of ``tx`` on a second thread (with 2+ cores).

    NumPy releases the GIL while it hashes and sorts, so the count overlaps
    the other checks.

    Parameters
    ----------
    tx : DataFrame
        Validated transactions.

    Returns
    -------
    callable
        Given the final transactions, their duplicate count: the count of
        ``tx`` when it is that frame, else counted anew (rows were dropped).

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1, 1], "date": pd.to_datetime(["2024-01-01"] * 2),
    ...                    "amount": [5.0, 5.0]})
    >>> duplicate_rows_soon(tx)(tx)
    1
    """
    if (os.cpu_count() or 1) < 2 or len(tx) < 1 << 20:
        return count_duplicate_rows
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmkit-duplicates")
    future = pool.submit(count_duplicate_rows, tx)
    pool.shutdown(wait=False)  # the thread ends with the count

    def count(final: pd.DataFrame) -> int:
        n_dup = future.result()  # waited for even when unused: no thread outlives the call
        return n_dup if final is tx else count_duplicate_rows(final)

    return count


def check_scores(fb: pd.DataFrame, fails: list[SchemaFailure]) -> None:
    if "score" not in fb.columns:
        return
    # the distinct kinds lower-cased once, not every row's text
    codes, distinct = pd.factorize(fb["kind"])
    lowered = np.array([str(k).lower() for k in distinct], dtype=object)
    score = fb["score"].to_numpy(dtype=np.float64, na_value=np.nan)
    for kind, (lo, hi) in _SCALES.items():
        mask = np.isin(codes, np.flatnonzero(lowered == kind))
        bad = mask & (np.isnan(score) | (score < lo) | (score > hi))
        if bad.any():
            fails.append(
                SchemaFailure(
                    frame="feedback",
                    column="score",
                    check=f"{kind} scores must be in {lo}..{hi}",
                    n_failing=int(bad.sum()),
                    rows=tuple(fb.index[bad][:5].tolist()),
                    values=tuple(score[bad][:5].tolist()),
                )
            )
