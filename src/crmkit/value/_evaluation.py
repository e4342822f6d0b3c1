"""Holdout evaluation of purchase models: per-customer errors and tracking series."""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Interval, validate_params
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.value._clv import PurchaseModelLike, _as_values, _finite_real
from crmkit.value._inputs import read_columns

__all__ = ["HoldoutEvaluation", "evaluate_holdout", "tracking_series"]

FloatArray = npt.NDArray[np.float64]


@attrs.frozen
class HoldoutEvaluation:
    """How well a purchase model predicted the holdout period.

    Parameters
    ----------
    per_customer : DataFrame
        Indexed like the input: ``frequency`` (calibration), ``actual``
        (holdout repeat purchases), ``predicted`` (expected, given the
        calibration history) and ``error`` (``predicted - actual``).
    by_frequency : DataFrame
        Mean ``actual`` and ``predicted`` holdout purchases per calibration
        frequency ``0, 1, ..., max_frequency - 1, "max_frequency+"``
        (Fader, Hardie & Lee's conditional-expectations figure), with
        ``n_customers``; empty groups are left out.
    mae : float
        Mean absolute error per customer.
    rmse : float
        Root mean squared error per customer.
    total_actual : float
        Repeat purchases in the holdout, all customers.
    total_predicted : float
        Their prediction.
    aggregate_error : float or None
        ``100 * (total_predicted - total_actual) / total_actual`` (percent);
        None when nobody bought in the holdout.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = HoldoutEvaluation(pd.DataFrame(), pd.DataFrame(), 0.5, 0.7, 10.0, 11.0, 10.0)
    >>> ev.aggregate_error
    10.0
    """

    per_customer: pd.DataFrame = attrs.field(eq=False)
    by_frequency: pd.DataFrame = attrs.field(eq=False)
    mae: float
    rmse: float
    total_actual: float
    total_predicted: float
    aggregate_error: float | None


def _predict(model: Any, cal_hold: pd.DataFrame, duration: FloatArray) -> FloatArray:
    pred = np.empty(len(cal_hold))
    who = f"{type(model).__name__}.conditional_expected_purchases"
    for d in np.unique(duration):
        mask = duration == d
        part = cal_hold if mask.all() else cal_hold.loc[mask]
        out = model.conditional_expected_purchases(part, float(d))
        pred[mask] = _as_values(out, int(mask.sum()), who, part.index)
    return pred


def evaluate_holdout(
    model: PurchaseModelLike, cal_hold: pd.DataFrame, *, max_frequency: int = 7
) -> HoldoutEvaluation:
    """Compare a fitted purchase model's predictions with the holdout period.

    Parameters
    ----------
    model : fitted purchase model
        Provides ``conditional_expected_purchases(view, t)``; fitted on the
        calibration columns.
    cal_hold : DataFrame
        As made by ``calibration_holdout``: one row per customer (index:
        customer id), the calibration columns the model reads (``frequency``,
        ``recency``, ``T`` ...) and ``frequency_holdout`` (repeat purchase
        periods in the holdout) and ``duration_holdout`` (length of the
        holdout in time units, > 0; may differ between customers).
    max_frequency : int, default=7
        Calibration frequencies from this value up are pooled into one
        ``"<max_frequency>+"`` group of ``by_frequency``.

    Returns
    -------
    HoldoutEvaluation

    Raises
    ------
    SchemaError
        Missing columns; NaN, infinite, negative or non-integer values; a
        non-positive ``duration_holdout``.
    InvalidParameterError
        For a bad ``max_frequency``.
    NotFittedError
        When the model is not fitted.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "'Counting
       your customers' the easy way: an alternative to the Pareto/NBD
       model". Marketing Science 24(2), 275-284.

    Examples
    --------
    >>> import pandas as pd
    >>> class Steady:  # each customer keeps buying at its calibration rate
    ...     def conditional_expected_purchases(self, view, t):
    ...         return view["frequency"] / view["T"] * t
    ...     def expected_purchases(self, t):
    ...         return 0.05 * t
    >>> cal_hold = pd.DataFrame(
    ...     {"frequency": [0, 2, 8], "recency": [0.0, 20.0, 30.0], "T": [40.0, 40.0, 40.0],
    ...      "frequency_holdout": [1, 1, 6], "duration_holdout": [20.0, 20.0, 20.0]},
    ...     index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> ev = evaluate_holdout(Steady(), cal_hold)
    >>> ev.per_customer
                 frequency  actual  predicted  error
    customer_id
    a                    0     1.0        0.0   -1.0
    b                    2     1.0        1.0    0.0
    c                    8     6.0        4.0   -2.0
    >>> ev.mae, ev.aggregate_error
    (1.0, -37.5)
    >>> ev.by_frequency
               n_customers  actual  predicted
    frequency
    0                    1     1.0        0.0
    2                    1     1.0        1.0
    7+                   1     6.0        4.0
    """
    validate_params(
        "evaluate_holdout",
        {"max_frequency": max_frequency},
        {"max_frequency": [Interval("int", 1, None)]},
    )
    if not isinstance(cal_hold, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="cal_hold",
                    column="<frame>",
                    check=f"must be a DataFrame, got {type(cal_hold)}",
                )
            ]
        )
    cols, _, _ = read_columns(
        cal_hold,
        ["frequency", "frequency_holdout", "duration_holdout"],
        who="evaluate_holdout",
        integer=["frequency", "frequency_holdout"],
        positive=["duration_holdout"],
    )
    actual = cols["frequency_holdout"]
    predicted = _predict(model, cal_hold, cols["duration_holdout"])
    freq = cols["frequency"].astype(np.int64)
    error = predicted - actual
    per_customer = pd.DataFrame(
        {"frequency": freq, "actual": actual, "predicted": predicted, "error": error},
        index=cal_hold.index,
    )
    group = np.minimum(freq, max_frequency)
    present = np.unique(group)
    labels = [str(g) if g < max_frequency else f"{max_frequency}+" for g in present]
    n = np.array([(group == g).sum() for g in present], dtype=np.int64)
    by_frequency = pd.DataFrame(
        {
            "n_customers": n,
            "actual": [float(actual[group == g].mean()) for g in present],
            "predicted": [float(predicted[group == g].mean()) for g in present],
        },
        index=pd.Index(labels, name="frequency"),
    )
    total_actual = float(actual.sum())
    total_predicted = float(predicted.sum())
    return HoldoutEvaluation(
        per_customer=per_customer,
        by_frequency=by_frequency,
        mae=float(np.mean(np.abs(error))),
        rmse=float(np.sqrt(np.mean(error**2))),
        total_actual=total_actual,
        total_predicted=total_predicted,
        aggregate_error=(
            100.0 * (total_predicted - total_actual) / total_actual if total_actual > 0 else None
        ),
    )


def _times(values: Any, name: str) -> FloatArray:
    raw = np.atleast_1d(np.asarray(values))
    if raw.ndim != 1 or raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
        raise SchemaError(
            [
                SchemaFailure(
                    frame=name,
                    column="<values>",
                    check=f"must be a 1-d array of numbers, got dtype {raw.dtype}",
                )
            ]
        )
    arr = raw.astype(np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        rows = tuple(np.flatnonzero(bad)[:5].tolist())
        raise SchemaError(
            [
                SchemaFailure(
                    frame=name,
                    column="<values>",
                    check="must be finite and >= 0 (time units since the origin)",
                    n_failing=int(bad.sum()),
                    rows=rows,
                    values=tuple(arr[bad][:5].tolist()),
                )
            ]
        )
    return arr


def tracking_series(
    model: PurchaseModelLike,
    first_purchase: Any,
    repeat_times: Any,
    *,
    end: float,
    step: float = 1.0,
) -> pd.DataFrame:
    """Repeat purchases per period and cumulated, actual vs predicted, for a cohort.

    All times are in the model's time unit, measured from a common origin
    (e.g. the first day of the cohort's acquisition period). Customer ``i``
    starts buying at ``first_purchase[i]``; by time ``t`` the model expects
    ``sum_i E[X(t - first_purchase[i])]`` repeat purchases (its
    ``expected_purchases`` for a new customer), which is compared with the
    number of actual repeat purchases made by ``t``.

    Parameters
    ----------
    model : fitted purchase model
        Provides ``expected_purchases(t)`` for arrays ``t``.
    first_purchase : array-like of shape (n_customers,)
        Each customer's first-purchase time (>= 0).
    repeat_times : array-like of shape (n_repeat_purchases,)
        The time of every repeat purchase (period) of these customers
        (>= 0), counted as the model counts them (e.g. distinct days after
        the first).
    end : float
        Last time of the series (> 0).
    step : float, default=1.0
        Spacing of the series (> 0): one row per ``step`` time units.

    Returns
    -------
    DataFrame
        Index ``t`` = ``step, 2 * step, ...`` up to ``end``; columns
        ``actual`` and ``predicted`` (repeat purchases in ``(t - step, t]``),
        ``actual_cumulative`` and ``predicted_cumulative`` (by ``t``).

    Raises
    ------
    SchemaError
        Non-numeric, NaN, infinite or negative times.
    InvalidParameterError
        For a bad ``end`` or ``step``.
    NotFittedError
        When the model is not fitted.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), see
       :func:`evaluate_holdout`.

    Examples
    --------
    From dates: ``first = (first_dates - origin) / pd.Timedelta(weeks=1)``
    and ``repeats = (repeat_dates - origin) / pd.Timedelta(weeks=1)``.

    >>> import numpy as np
    >>> class Steady:  # a new customer makes 0.5 repeat purchases a week
    ...     def conditional_expected_purchases(self, view, t):
    ...         raise NotImplementedError
    ...     def expected_purchases(self, t):
    ...         return 0.5 * np.asarray(t, dtype=float)
    >>> tracking_series(Steady(), [0.0, 2.0], [1.5, 2.5, 3.0, 3.5], end=4)
       actual  predicted  actual_cumulative  predicted_cumulative
    t
    1.0     0.0        0.5                0.0                   0.5
    2.0     1.0        0.5                1.0                   1.0
    3.0     2.0        1.0                3.0                   2.0
    4.0     1.0        1.0                4.0                   3.0
    """
    validate_params(
        "tracking_series",
        {"end": end, "step": step},
        {"end": [_finite_real(True)], "step": [_finite_real(True)]},
    )
    starts = _times(first_purchase, "first_purchase")
    repeats = np.sort(_times(repeat_times, "repeat_times"))
    n_points = max(1, int(np.floor(float(end) / float(step) + 1e-9)))
    grid = float(step) * np.arange(1, n_points + 1, dtype=np.float64)
    offsets, counts = np.unique(starts, return_counts=True)
    ages = grid[:, None] - offsets[None, :]
    positive = ages > 0
    expected = np.zeros_like(ages)
    if positive.any():
        who = f"{type(model).__name__}.expected_purchases"
        flat = ages[positive]
        out = np.asarray(model.expected_purchases(flat), dtype=np.float64).reshape(-1)
        expected[positive] = _as_values(out, len(flat), who, pd.RangeIndex(len(flat)))
    predicted_cum = expected @ counts.astype(np.float64)
    actual_cum = np.searchsorted(repeats, grid, side="right").astype(np.float64)
    frame: pd.DataFrame = pd.DataFrame(
        {
            "actual": np.diff(actual_cum, prepend=0.0),
            "predicted": np.diff(predicted_cum, prepend=0.0),
            "actual_cumulative": actual_cum,
            "predicted_cumulative": predicted_cum,
        },
        index=pd.Index(grid, name="t"),
    )
    return frame
