"""The continuous customer pulse: a rolling CX metric with a drop alarm."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.special import ndtr

from crmkit._params import Interval, Options, Predicate, validate_params
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.loyalty._inputs import PERIOD_FREQS, read_feedback
from crmkit.loyalty._stats import (
    nps_adjusted,
    nps_interval,
    proportion_adjusted,
    t_interval,
    wilson_interval,
)

__all__ = ["cx_pulse", "PULSE_METRICS"]

F = npt.NDArray[np.float64]

#: Metrics :func:`cx_pulse` can follow.
PULSE_METRICS: tuple[str, ...] = ("nps", "csat", "ces")


def _window_days(value: Any) -> int:
    try:
        delta = pd.Timedelta(value)
    except (TypeError, ValueError):
        return 0
    days = delta / pd.Timedelta(days=1)
    return int(days) if days >= 1 and float(days).is_integer() else 0


def _sums(cum: F, hi: npt.NDArray[np.int64], lo: npt.NDArray[np.int64]) -> F:
    out: F = cum[hi] - cum[lo]
    return out


def _moments(metric: str, sums: dict[str, F], level: float) -> tuple[F, F, F, F, F]:
    """Value, interval, comparison centre and standard error of each window."""
    n = sums["n"]
    some = n > 0
    safe = np.where(some, n, 1.0)
    if metric == "nps":
        value = 100.0 * (sums["a"] - sums["b"]) / safe
        low, high = nps_interval(sums["a"], sums["b"], safe, level, "adjusted_wald")
        centre, se = nps_adjusted(sums["a"], sums["b"], n)
        centre, se = 100.0 * centre, 100.0 * se
    elif metric == "csat":
        value = 100.0 * sums["a"] / safe
        lo, hi = wilson_interval(sums["a"], safe, level)
        low, high = 100.0 * lo, 100.0 * hi
        share, se_share = proportion_adjusted(sums["a"], n)
        centre, se = 100.0 * share, 100.0 * se_share
    else:
        value = sums["a"] / safe
        var = np.where(
            n > 1,
            np.maximum(sums["b"] - sums["a"] ** 2 / safe, 0.0) / np.maximum(n - 1.0, 1.0),
            0.0,
        )
        low, high = t_interval(value, np.sqrt(var), n, level, (1.0, 7.0))
        centre, se = value, np.sqrt(var / safe)
    nan = np.full(len(n), np.nan)
    return (
        np.where(some, value, nan),
        np.where(some, low, nan),
        np.where(some, high, nan),
        centre,
        se,
    )


def cx_pulse(
    feedback: Any,
    window: str | pd.Timedelta = "90D",
    freq: str = "W",
    metric: str = "nps",
    level: float = 0.95,
    *,
    min_responses: int = 20,
) -> pd.DataFrame:
    """The rolling "customer pulse": a CX metric over a trailing window, with a drop alarm.

    At the end of every period (``freq``) from the first answer to the as-of
    day, the metric is computed over the answers of the trailing ``window``
    (inclusive days) and compared with the window just before it (same
    length, not overlapping). A drop is significant when the one-sided test
    of "current < previous" has p below ``1 - level`` and both windows hold
    at least ``min_responses`` answers. The test statistic is
    ``(c1 - c0) / sqrt(se1**2 + se0**2)`` with, for NPS, the adjusted shares
    of Rocks (2016) and their multinomial standard errors, for CSAT the
    Agresti-Caffo adjusted shares (one satisfied and one unsatisfied answer
    added), and for CES Welch's t test. Windows without answers have
    ``n == 0`` and NaN value and bounds (nothing to measure).

    Parameters
    ----------
    feedback : CustomerData or DataFrame
        Records with feedback, or a feedback frame with the canonical columns.
        The last day is ``CustomerData.as_of`` (or the last answer's day).
    window : str or Timedelta, default="90D"
        Length of the trailing window, whole days.
    freq : {"D", "W", "M", "Q", "Y"}, default="W"
        How often the pulse is taken (period ends; the last point is the
        as-of day).
    metric : {"nps", "csat", "ces"}, default="nps"
        NPS (points), CSAT (% satisfied) or CES (mean 1-7).
    level : float, default=0.95
        Confidence level of the intervals; the test's significance is
        ``1 - level``.
    min_responses : int, default=20
        Fewest answers in each window for the drop test.

    Returns
    -------
    DataFrame
        Indexed by ``date`` (last day of the window): ``n``, ``value``,
        ``low``, ``high`` (interval as in :func:`nps`, :func:`csat`,
        :func:`ces`), ``n_previous``, ``previous`` (value of the window
        before), ``change``, ``z``, ``p_drop`` (NaN when not tested),
        ``tested`` and ``significant_drop`` (bool). ``attrs`` holds ``metric``,
        ``window_days`` and ``level``.

    Raises
    ------
    InvalidParameterError
        For a bad window, freq, metric, level or min_responses.
    SchemaError
        When there are no answers of the metric's kind.

    References
    ----------
    .. [1] Rocks, B. (2016). Interval estimation for the "net promoter score".
       The American Statistician 70(4), 365-372.
    .. [2] Welch, B. L. (1947). The generalization of "Student's" problem when
       several different population variances are involved. Biometrika 34.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> days = pd.date_range("2024-01-01", "2024-06-29", freq="D")
    >>> scores = np.where(days < "2024-04-01", 10, 3)
    >>> fb = pd.DataFrame({"customer_id": range(len(days)), "date": days, "kind": "nps",
    ...                    "score": scores})
    >>> pulse = cx_pulse(fb, window="30D", freq="M")
    >>> pulse[["n", "value", "previous", "significant_drop"]]
                n  value  previous  significant_drop
    date
    2024-01-31  30  100.0     100.0             False
    2024-02-29  30  100.0     100.0             False
    2024-03-31  30  100.0     100.0             False
    2024-04-30  30 -100.0     100.0              True
    2024-05-31  30 -100.0    -100.0             False
    2024-06-29  30 -100.0    -100.0             False
    """
    validate_params(
        "cx_pulse",
        {
            "window": window,
            "freq": freq,
            "metric": metric,
            "level": level,
            "min_responses": min_responses,
        },
        {
            "window": [
                Predicate(lambda v: _window_days(v) > 0, "a whole number of days such as '90D'")
            ],
            "freq": [Options(PERIOD_FREQS)],
            "metric": [Options(frozenset(PULSE_METRICS))],
            "level": [Interval("float", 0, 1, closed="neither")],
            "min_responses": [Interval("int", 2, None)],
        },
    )
    w = _window_days(window)
    rec = read_feedback(feedback, "cx_pulse")
    fb = rec.frame
    sub = fb.loc[(fb["kind"] == metric).to_numpy(dtype=bool)]
    if len(sub) == 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="feedback",
                    column="kind",
                    check=f"has no {metric!r} answers: cx_pulse has nothing to follow",
                )
            ]
        )
    day = sub["date"].dt.normalize()
    start = pd.Timestamp(day.min())
    end = max(rec.as_of, start)
    n_days = int((end - start).days) + 1
    idx = ((day - start).dt.days).to_numpy(dtype=np.int64)
    score = sub["score"].to_numpy(dtype=np.float64)
    if metric == "nps":
        parts = {"a": (score >= 9).astype(np.float64), "b": (score < 7).astype(np.float64)}
    elif metric == "csat":
        parts = {"a": (score >= 4).astype(np.float64)}
    else:
        parts = {"a": score, "b": score**2}
    cum = {
        name: np.concatenate([[0.0], np.cumsum(np.bincount(idx, weights=v, minlength=n_days))])
        for name, v in {"n": np.ones(len(idx)), **parts}.items()
    }
    periods = pd.period_range(start, end, freq=freq)
    ends = pd.DatetimeIndex(periods.end_time.normalize())
    dates = pd.DatetimeIndex(np.unique(np.minimum(ends.to_numpy(), end.to_datetime64())))
    t = np.asarray((dates - start).days, dtype=np.int64) + 1
    cur_lo = np.maximum(t - w, 0)
    prev_lo = np.maximum(t - 2 * w, 0)
    cur = {k: _sums(c, t, cur_lo) for k, c in cum.items()}
    prev = {k: _sums(c, cur_lo, prev_lo) for k, c in cum.items()}
    value, low, high, c1, se1 = _moments(metric, cur, level)
    previous, _, _, c0, se0 = _moments(metric, prev, level)
    n1, n0 = cur["n"], prev["n"]
    tested = (n1 >= min_responses) & (n0 >= min_responses)
    se = np.sqrt(se1**2 + se0**2)
    diff = c1 - c0
    z = np.divide(diff, se, out=np.zeros_like(diff), where=se > 0)
    z = np.where((se == 0) & (diff != 0), np.where(diff > 0, np.inf, -np.inf), z)
    if metric == "ces":
        a, b = se1**2, se0**2
        den = np.where(n1 > 1, a**2 / np.maximum(n1 - 1.0, 1.0), 0.0) + np.where(
            n0 > 1, b**2 / np.maximum(n0 - 1.0, 1.0), 0.0
        )
        df = np.divide((a + b) ** 2, den, out=np.ones_like(den), where=den > 0)
        p = stats.t.cdf(z, np.maximum(df, 1.0))
    else:
        p = ndtr(z)
    p_drop = np.where(tested, p, np.nan)
    out: pd.DataFrame = pd.DataFrame(
        {
            "n": n1.astype(np.int64),
            "value": value,
            "low": low,
            "high": high,
            "n_previous": n0.astype(np.int64),
            "previous": previous,
            "change": value - previous,
            "z": np.where(tested, z, np.nan),
            "p_drop": p_drop,
            "tested": tested,
            "significant_drop": tested & (np.nan_to_num(p_drop, nan=1.0) < 1.0 - level),
        },
        index=pd.DatetimeIndex(dates, name="date"),
    )
    out.attrs.update({"metric": metric, "window_days": w, "level": level})
    return out
