"""The basic customer-experience metrics: NPS, CSAT and CES.

Each metric is computed from the survey answers of its kind in the feedback
records, overall, per segment (``by``) and/or per period (``freq``), with a
confidence interval. Intervals treat every answer as independent; when the
same customers answer many times, the intervals are somewhat too narrow
(``n_customers`` shows how many distinct customers answered).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit._params import Constraint, Interval, Options, validate_params
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.loyalty._inputs import PERIOD_FREQS, group_keys, read_feedback
from crmkit.loyalty._stats import NPS_METHODS, nps_interval, t_interval, wilson_interval

__all__ = ["nps", "csat", "ces"]

_COMMON: dict[str, list[Constraint]] = {
    "freq": [None, Options(PERIOD_FREQS)],
    "level": [Interval("float", 0, 1, closed="neither")],
}


def _answers(
    feedback: Any, kind: str, by: Any, freq: str | None, who: str
) -> tuple[pd.DataFrame, list[str]]:
    rec = read_feedback(feedback, who)
    fb = rec.frame
    sub = fb.loc[(fb["kind"] == kind).to_numpy(dtype=bool)]
    if len(sub) == 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="feedback",
                    column="kind",
                    check=f"has no {kind!r} answers: {who} has nothing to measure "
                    f"(kinds present: {sorted(pd.unique(fb['kind']).tolist())[:8]})",
                )
            ]
        )
    return group_keys(sub, by, freq, rec.customers, who)


def _grouped(sub: pd.DataFrame, keys: list[str], values: dict[str, Any]) -> pd.DataFrame:
    """Sums of ``values``, ``n`` and distinct ``n_customers`` per group."""
    frame = pd.DataFrame({"_n": np.ones(len(sub), dtype=np.int64), **values}, index=sub.index)
    if not keys:
        sums = frame.sum().to_frame().T
        sums.index = pd.Index(["all"], name="scope")
        sums["n_customers"] = int(sub["customer_id"].nunique())
    else:
        key_frame = sub[keys]
        g = pd.concat([key_frame, frame], axis=1).groupby(keys, observed=True, sort=True)
        sums = g[list(frame.columns)].sum()
        sums["n_customers"] = (
            pd.concat([key_frame, sub[["customer_id"]]], axis=1)
            .groupby(keys, observed=True, sort=True)["customer_id"]
            .nunique()
        )
    out: pd.DataFrame = sums.rename(columns={"_n": "n"})
    out["n"] = out["n"].astype(np.int64)
    out["n_customers"] = out["n_customers"].astype(np.int64)
    return out


def _mean_sd(sub: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    score = sub["score"].astype(np.float64)
    if not keys:
        return (np.array([score.mean()]), np.array([score.std(ddof=1) if len(score) > 1 else 0.0]))
    g = pd.concat([sub[keys], score], axis=1).groupby(keys, observed=True, sort=True)["score"]
    return (
        g.mean().to_numpy(dtype=np.float64),
        g.std(ddof=1).fillna(0.0).to_numpy(dtype=np.float64),
    )


def nps(
    feedback: Any,
    by: Any = None,
    freq: str | None = None,
    level: float = 0.95,
    *,
    method: str = "adjusted_wald",
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Net Promoter Score with a confidence interval, overall, by segment or over time.

    NPS = % promoters (9-10) - % detractors (0-6) of the ``nps`` answers,
    in points from -100 to 100. The interval comes from the multinomial
    variance of the promoter/detractor share difference,
    ``(p + d - (p - d)**2) / n``: by default at shares adjusted by 3/4
    promoter and 3/4 detractor over ``n + 3`` answers (Rocks 2016; good
    coverage, never of zero width); ``method="wald"`` uses the observed
    shares; ``method="bootstrap"`` takes the percentile interval of
    ``n_boot`` trinomial resamples.

    Parameters
    ----------
    feedback : CustomerData or DataFrame
        Records with feedback, or a feedback frame with the canonical columns
        (customer_id, date, kind, score).
    by : str or Series, optional
        Segment: a column of the feedback records (or, for CustomerData, of
        the customer records, e.g. ``"industry"``), or a Series mapping
        customer_id to a segment (e.g. ``view["segment"]``). Answers of
        customers without a segment are left out with a DataWarning.
    freq : {"D", "W", "M", "Q", "Y"}, optional
        Period over time (answer dates).
    level : float, default=0.95
        Confidence level.
    method : {"adjusted_wald", "wald", "bootstrap"}, default="adjusted_wald"
        Interval method.
    n_boot : int, default=2000
        Resamples per group for the bootstrap.
    seed : int, default=0
        Random seed of the bootstrap.

    Returns
    -------
    DataFrame
        One row per group that has answers (index: the segment and/or
        ``period``; one row ``"all"`` without grouping): ``n``,
        ``n_customers``, ``promoters``, ``passives``, ``detractors``,
        ``pct_promoters``, ``pct_detractors``, ``nps``, ``nps_low``,
        ``nps_high``.

    Raises
    ------
    InvalidParameterError
        For a bad ``freq``, ``level``, ``method``, ``n_boot`` or ``seed``.
    SchemaError
        When there are no NPS answers or the records are invalid.

    References
    ----------
    .. [1] Reichheld, F. F. (2003). The one number you need to grow. Harvard
       Business Review 81(12).
    .. [2] Rocks, B. (2016). Interval estimation for the "net promoter score".
       The American Statistician 70(4), 365-372.

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": range(10), "date": "2024-03-01", "kind": "nps",
    ...                    "score": [10, 9, 9, 9, 8, 7, 6, 3, 9, 10]})
    >>> nps(fb)[["n", "promoters", "detractors", "nps", "nps_low", "nps_high"]].round(1)
            n  promoters  detractors   nps  nps_low  nps_high
    scope
    all    10          6           2  40.0    -12.6      74.1
    """
    validate_params(
        "nps",
        {"freq": freq, "level": level, "method": method, "n_boot": n_boot, "seed": seed},
        {
            **_COMMON,
            "method": [Options(frozenset(NPS_METHODS))],
            "n_boot": [Interval("int", 100, None)],
            "seed": [Interval("int", 0, None)],
        },
    )
    sub, keys = _answers(feedback, "nps", by, freq, "nps")
    score = sub["score"].to_numpy(dtype=np.float64)
    out = _grouped(
        sub,
        keys,
        {
            "promoters": (score >= 9).astype(np.int64),
            "passives": ((score >= 7) & (score < 9)).astype(np.int64),
            "detractors": (score < 7).astype(np.int64),
        },
    )
    n = out["n"].to_numpy(dtype=np.float64)
    prom = out["promoters"].to_numpy(dtype=np.float64)
    detr = out["detractors"].to_numpy(dtype=np.float64)
    low, high = nps_interval(
        prom, detr, n, level, method, n_boot=n_boot, rng=np.random.default_rng(seed)
    )
    out["pct_promoters"] = 100.0 * prom / n
    out["pct_detractors"] = 100.0 * detr / n
    out["nps"] = out["pct_promoters"] - out["pct_detractors"]
    out["nps_low"] = np.minimum(low, out["nps"].to_numpy())
    out["nps_high"] = np.maximum(high, out["nps"].to_numpy())
    result: pd.DataFrame = out[
        [
            "n",
            "n_customers",
            "promoters",
            "passives",
            "detractors",
            "pct_promoters",
            "pct_detractors",
            "nps",
            "nps_low",
            "nps_high",
        ]
    ]
    return result


def csat(
    feedback: Any, by: Any = None, freq: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Customer satisfaction: % satisfied (4-5 of 1-5) with a Wilson interval, and the mean.

    Parameters
    ----------
    feedback : CustomerData or DataFrame
        Records with feedback, or a feedback frame with the canonical columns.
    by : str or Series, optional
        Segment, as in :func:`nps`.
    freq : {"D", "W", "M", "Q", "Y"}, optional
        Period over time.
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    DataFrame
        One row per group with answers: ``n``, ``n_customers``,
        ``n_satisfied``, ``csat`` (% of answers 4 or 5), ``csat_low``,
        ``csat_high`` (Wilson score interval, in %), ``mean_score``,
        ``mean_low``, ``mean_high`` (t interval; the whole 1-5 scale for a
        group of one answer).

    Raises
    ------
    InvalidParameterError
        For a bad ``freq`` or ``level``.
    SchemaError
        When there are no CSAT answers or the records are invalid.

    References
    ----------
    .. [1] Wilson, E. B. (1927). Probable inference, the law of succession, and
       statistical inference. JASA 22(158), 209-212.

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": [1, 2, 3, 4], "date": "2024-03-01",
    ...                    "kind": "csat", "score": [5, 4, 2, 5]})
    >>> csat(fb)[["n", "n_satisfied", "csat", "csat_low", "csat_high", "mean_score"]].round(2)
           n  n_satisfied  csat  csat_low  csat_high  mean_score
    scope
    all    4            3  75.0     30.06      95.44         4.0
    """
    validate_params("csat", {"freq": freq, "level": level}, _COMMON)
    sub, keys = _answers(feedback, "csat", by, freq, "csat")
    score = sub["score"].to_numpy(dtype=np.float64)
    out = _grouped(sub, keys, {"n_satisfied": (score >= 4).astype(np.int64)})
    n = out["n"].to_numpy(dtype=np.float64)
    sat = out["n_satisfied"].to_numpy(dtype=np.float64)
    low, high = wilson_interval(sat, n, level)
    mean, sd = _mean_sd(sub, keys)
    m_low, m_high = t_interval(mean, sd, n, level, (1.0, 5.0))
    out["csat"] = 100.0 * sat / n
    out["csat_low"] = 100.0 * low
    out["csat_high"] = 100.0 * high
    out["mean_score"] = mean
    out["mean_low"] = m_low
    out["mean_high"] = m_high
    result: pd.DataFrame = out[
        [
            "n",
            "n_customers",
            "n_satisfied",
            "csat",
            "csat_low",
            "csat_high",
            "mean_score",
            "mean_low",
            "mean_high",
        ]
    ]
    return result


def ces(
    feedback: Any, by: Any = None, freq: str | None = None, level: float = 0.95
) -> pd.DataFrame:
    """Customer effort score: the mean ease rating (1-7, higher is easier) with a t interval.

    Parameters
    ----------
    feedback : CustomerData or DataFrame
        Records with feedback, or a feedback frame with the canonical columns.
    by : str or Series, optional
        Segment, as in :func:`nps`.
    freq : {"D", "W", "M", "Q", "Y"}, optional
        Period over time.
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    DataFrame
        One row per group with answers: ``n``, ``n_customers``, ``ces``
        (mean), ``ces_low``, ``ces_high`` (Student t interval clipped to
        1-7; the whole scale for a group of one answer), ``sd`` (sample
        standard deviation, 0 for one answer).

    Raises
    ------
    InvalidParameterError
        For a bad ``freq`` or ``level``.
    SchemaError
        When there are no CES answers or the records are invalid.

    References
    ----------
    .. [1] Dixon, M., Freeman, K. & Toman, N. (2010). Stop trying to delight
       your customers. Harvard Business Review 88(7/8).

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": [1, 2, 3], "kind": "ces", "score": [6, 5, 7],
    ...                    "date": pd.to_datetime(["2024-01-10", "2024-01-20", "2024-02-03"])})
    >>> ces(fb, freq="M")[["n", "ces", "ces_low", "ces_high"]].round(2)
             n  ces  ces_low  ces_high
    period
    2024-01  2  5.5      1.0       7.0
    2024-02  1  7.0      1.0       7.0
    """
    validate_params("ces", {"freq": freq, "level": level}, _COMMON)
    sub, keys = _answers(feedback, "ces", by, freq, "ces")
    out = _grouped(sub, keys, {})
    n = out["n"].to_numpy(dtype=np.float64)
    mean, sd = _mean_sd(sub, keys)
    low, high = t_interval(mean, sd, n, level, (1.0, 7.0))
    out["ces"] = mean
    out["ces_low"] = low
    out["ces_high"] = high
    out["sd"] = sd
    result: pd.DataFrame = out[["n", "n_customers", "ces", "ces_low", "ces_high", "sd"]]
    return result
