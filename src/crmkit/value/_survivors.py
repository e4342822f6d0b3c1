"""Reading and checking cohort survivor counts for the sBG model."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["frame_error", "read_survivors"]

FloatArray = npt.NDArray[np.float64]


_ONE_PERIOD = (
    "needs at least one cohort observed for two periods after period 0 (alpha and beta are "
    "not identified from one period)"
)
_RISING = "is larger than the period before: survivor counts cannot rise"
_FRACTION = "must hold whole numbers of customers (for percentages pass n=cohort size)"
_PERCENT = "must be 100 when n is given (survivors are then percentages)"


def frame_error(check: str) -> SchemaError:
    """A frame-level :class:`SchemaError` about survivor counts.

    Parameters
    ----------
    check : str
        What is wrong.

    Returns
    -------
    SchemaError

    Examples
    --------
    >>> print(frame_error("holds no cohort"))
    1 problem in the input:
      - survivors['<frame>']: holds no cohort
    """
    return SchemaError([SchemaFailure(frame="survivors", column="<frame>", check=check)])


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_)
    )


def _fail(label: Any, column: str, check: str, value: Any = None) -> SchemaFailure:
    values = () if value is None else (value,)
    return SchemaFailure(
        frame="survivors", column=column, check=check, n_failing=1, rows=(label,), values=values
    )


def read_survivors(survivors: Any, n: Any) -> list[tuple[Any, FloatArray]]:
    """Turn the accepted survivor inputs into ``[(cohort label, counts)]``, checking everything.

    Parameters
    ----------
    survivors : array-like, sequence of array-likes, Series or DataFrame
        One cohort's counts by period (period 0 first), several cohorts
        (ragged lists, or a DataFrame with one row per cohort and NaN after
        its last observed period).
    n : float, sequence of float or None
        Cohort sizes when ``survivors`` are percentages (period 0 = 100).

    Returns
    -------
    list of (label, ndarray)
        Counts of customers per period for each cohort.

    Raises
    ------
    SchemaError
        Naming the cohort and period of every problem.

    Examples
    --------
    >>> [(lab, c.tolist()) for lab, c in read_survivors([100, 60, 40], None)]
    [(0, [100.0, 60.0, 40.0])]
    """
    if isinstance(survivors, pd.DataFrame):
        rows = [(lab, survivors.loc[lab].to_numpy(), True) for lab in survivors.index]
    elif isinstance(survivors, pd.Series):
        rows = [(0 if survivors.name is None else survivors.name, survivors.to_numpy(), False)]
    else:
        arr = np.asarray(survivors, dtype=object)
        if arr.ndim == 2 or (
            arr.ndim == 1 and len(arr) and all(isinstance(v, (Sequence, np.ndarray)) for v in arr)
        ):
            rows = [
                (i, np.asarray(list(v), dtype=object), arr.ndim == 2)
                for i, v in enumerate(survivors)
            ]
        else:
            rows = [(0, np.atleast_1d(arr), False)]
    if not rows:
        raise frame_error("holds no cohort")
    sizes: list[float | None] = [None] * len(rows)
    if n is not None:
        n_arr = np.atleast_1d(np.asarray(n, dtype=object))
        n_arr = np.repeat(n_arr, len(rows)) if len(n_arr) == 1 else n_arr
        if len(n_arr) != len(rows) or not all(
            _is_number(v) and math.isfinite(float(v)) and float(v) > 0 for v in n_arr
        ):
            raise frame_error(f"n must be one positive number or one per cohort ({len(rows)})")
        sizes = [float(v) for v in n_arr]
    failures: list[SchemaFailure] = []
    out: list[tuple[Any, FloatArray]] = []
    for (label, raw, trailing_nan), size in zip(rows, sizes, strict=True):
        found = _check_cohort(label, np.asarray(raw, dtype=object).ravel(), size, trailing_nan)
        if isinstance(found, list):
            failures.extend(found)
        else:
            out.append((label, found))
    if not failures and max(len(c) for _, c in out) < 3:
        raise frame_error(_ONE_PERIOD)
    if failures:
        raise SchemaError(failures)
    return out


def _check_cohort(
    label: Any, values: npt.NDArray[Any], size: float | None, trailing_nan: bool
) -> FloatArray | list[SchemaFailure]:
    """The cohort's counts (scaled by ``size`` for percentages) or its failures."""
    numeric = np.array([_is_number(v) for v in values], dtype=bool)
    if not numeric.all():
        j = int(np.flatnonzero(~numeric)[0])
        return [_fail(label, f"period {j}", "must be numeric", values[j])]
    arr = values.astype(np.float64)
    if trailing_nan:
        observed = np.flatnonzero(~np.isnan(arr))
        arr = arr[: int(observed[-1]) + 1] if len(observed) else arr[:0]
    if len(arr) < 2:
        return [_fail(label, "<cohort>", "needs counts for period 0 and a later one", len(arr))]
    bad = np.flatnonzero(~np.isfinite(arr))
    if len(bad):
        return [_fail(label, f"period {bad[0]}", "has NaN or infinite values", float(arr[bad[0]]))]
    first = np.arange(len(arr)) == 0
    checks = [(arr < 0, "is negative"), (first & (arr <= 0), "must be > 0 (the cohort's size)")]
    checks.append((np.r_[False, np.diff(arr) > 0], _RISING))
    if size is None:
        checks.append((arr != np.floor(arr), _FRACTION))
    else:
        checks.append((first & (arr != 100), _PERCENT))
    failures = []
    for mask, check in checks:
        if mask.any():
            j = int(np.flatnonzero(mask)[0])
            failures.append(_fail(label, f"period {j}", check, float(arr[j])))
    if failures:
        return failures
    return arr if size is None else arr / 100.0 * size
