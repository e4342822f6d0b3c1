"""Customer KPIs over time at the three levels of seed 004: strategic, basic CX, pulse."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._params import Interval, Options, parameter_error, validate_params
from crmkit.data import TIME_UNITS, CustomerData, as_timestamp, summarize
from crmkit.exceptions import DataWarning
from crmkit.measure._inputs import as_data, day_numbers

__all__ = ["KPI_LEVELS", "kpi_series"]

#: The level of every KPI column of :func:`kpi_series` (seed 004: strategic
#: metrics, basic customer-experience metrics and the continuous pulse).
KPI_LEVELS: Mapping[str, str] = {
    "customers_to_date": "strategic",
    "active_customers": "strategic",
    "new_customers": "strategic",
    "retained_customers": "strategic",
    "retention_rate": "strategic",
    "n_purchases": "strategic",
    "revenue": "strategic",
    "revenue_per_active": "strategic",
    "margin": "strategic",
    "customer_equity": "strategic",
    "nps": "basic",
    "csat": "basic",
    "ces": "basic",
    "n_responses": "pulse",
    "n_complaints": "pulse",
    "complaints_per_100_active": "pulse",
    "pulse_nps": "pulse",
}

_FREQS = frozenset({"D", "W", "M", "Q", "Y"})


def _per_period(codes: np.ndarray[Any, Any], weights: Any, n: int) -> np.ndarray[Any, Any]:
    return np.bincount(codes, weights=weights, minlength=n)[:n]


def _distinct(keys: np.ndarray[Any, Any], size: int) -> np.ndarray[Any, Any]:
    # np.unique(keys) for int keys in [0, size): a bitmap when it is no larger
    # than a few times the keys (linear), else sort + compare neighbours (much
    # faster than np.unique's hash table on millions of distinct keys)
    if size <= 8 * len(keys) + 1024:
        seen = np.zeros(size, dtype=bool)
        seen[keys] = True
        return np.flatnonzero(seen).astype(np.int64)
    ordered = np.sort(keys)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))[: len(ordered)]]


def _purchases(tx: pd.DataFrame, periods: pd.PeriodIndex, freq: str) -> dict[str, Any]:
    n = len(periods)
    pcode = np.asarray(periods.get_indexer(tx["date"].dt.to_period(freq)), dtype=np.int64)
    cust, _ = pd.factorize(tx["customer_id"])
    cust = cust.astype(np.int64)
    n_cust = int(cust.max()) + 1
    amount = tx["amount"].to_numpy(dtype=np.float64)
    pairs = _distinct(cust * n + pcode, n_cust * n)  # sorted: by customer, then period
    p_cust, p_per = pairs // n, pairs % n
    active = _per_period(p_per, None, n)
    first = np.full(n_cust, n, dtype=np.int64)
    np.minimum.at(first, p_cust, p_per)
    new = _per_period(first, None, n)
    # active in the period before too: the previous distinct pair is (customer, period - 1)
    again = (p_per > 0) & np.concatenate(([False], pairs[1:] - 1 == pairs[:-1]))
    retained = _per_period(p_per[again], None, n)
    day = day_numbers(tx["date"])
    day -= day.min()
    span = int(day.max() + 1)
    period_of_day = np.zeros(span, dtype=np.int64)
    period_of_day[day] = pcode  # a day lies in one period
    purchase_days = _distinct(cust * span + day, n_cust * span)  # distinct (customer, day)
    out: dict[str, Any] = {
        "customers_to_date": np.cumsum(new), "active_customers": active,
        "new_customers": new, "retained_customers": retained,
        "retention_rate": np.divide(retained[1:], active[:-1],
                                    out=np.full(n - 1, np.nan), where=active[:-1] > 0),
        "n_purchases": _per_period(period_of_day[purchase_days % span], None, n),
        "revenue": _per_period(pcode, amount, n),
    }  # fmt: skip
    out["retention_rate"] = np.concatenate([[np.nan], out["retention_rate"]])
    out["revenue_per_active"] = np.divide(
        out["revenue"], active, out=np.full(n, np.nan), where=active > 0
    )
    if "cost" in tx.columns:
        cost = tx["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        unknown = _per_period(pcode[np.isnan(cost)], None, n) > 0
        if unknown.any():
            warnings.warn(
                f"crmkit: {int(unknown.sum())} periods have transactions without "
                "cost; their margin is NaN",
                DataWarning,
                stacklevel=3,
            )
        margin = _per_period(pcode, amount - np.nan_to_num(cost, nan=0.0), n)
        out["margin"] = np.where(unknown, np.nan, margin)
    return out


def _nps(promoters: Any, detractors: Any, total: Any) -> Any:
    return np.divide(
        100.0 * (promoters - detractors),
        total,
        out=np.full(np.shape(total), np.nan),
        where=np.asarray(total) > 0,
    )


def _feedback(
    fb: pd.DataFrame, periods: pd.PeriodIndex, freq: str, active: Any, pulse_periods: int
) -> dict[str, Any]:
    n = len(periods)
    pcode = np.asarray(periods.get_indexer(fb["date"].dt.to_period(freq)), dtype=np.int64)
    inside = pcode >= 0
    kind = fb["kind"].astype("string").str.strip().str.lower().to_numpy(dtype=object)[inside]
    pcode = pcode[inside]
    score = (
        fb["score"].to_numpy(dtype=np.float64, na_value=np.nan)[inside]
        if "score" in fb.columns
        else np.full(len(pcode), np.nan)
    )
    out: dict[str, Any] = {}
    is_nps = (kind == "nps") & ~np.isnan(score)
    total = _per_period(pcode[is_nps], None, n)
    prom = _per_period(pcode[is_nps & (score >= 9)], None, n)
    detr = _per_period(pcode[is_nps & (score <= 6)], None, n)
    out["nps"] = _nps(prom, detr, total)
    for name in ("csat", "ces"):
        sel = (kind == name) & ~np.isnan(score)
        count = _per_period(pcode[sel], None, n)
        out[name] = np.divide(
            _per_period(pcode[sel], score[sel], n), count, out=np.full(n, np.nan), where=count > 0
        )
    scored = np.isin(kind, ["nps", "csat", "ces"]) & ~np.isnan(score)
    out["n_responses"] = _per_period(pcode[scored], None, n).astype(np.int64)
    complaints = _per_period(pcode[kind == "complaint"], None, n).astype(np.int64)
    out["n_complaints"] = complaints
    out["complaints_per_100_active"] = np.divide(
        100.0 * complaints, active, out=np.full(n, np.nan), where=active > 0
    )
    roll = np.ones(pulse_periods)
    window = [np.convolve(x, roll)[:n] for x in (prom, detr, total)]
    out["pulse_nps"] = _nps(*window)
    return out


def _equity(
    data: CustomerData,
    ends: list[pd.Timestamp],
    purchase_model: Any,
    spend_model: Any,
    horizon: float,
    discount_rate: float,
    margin: float,
) -> np.ndarray[Any, Any]:
    from crmkit.value import clv  # the scoring layer, below measure

    tx = data.transactions
    out = np.full(len(ends), np.nan)
    for i, end in enumerate(ends):
        keep = (tx["date"] < end + pd.Timedelta(days=1)).to_numpy()
        if not keep.any():
            out[i] = 0.0
            continue
        cut = attrs.evolve(data, frames={"transactions": tx.loc[keep]}, as_of=end)
        view = summarize(cut, include_records=False)
        out[i] = float(
            clv(
                purchase_model,
                spend_model,
                view,
                horizon=horizon,
                discount_rate=discount_rate,
                time_unit=data.time_unit,
                margin=margin,
            ).sum()
        )
    return out


def kpi_series(
    data: CustomerData | Any,
    freq: str = "M",
    purchase_model: Any = None,
    spend_model: Any = None,
    *,
    start: Any = None,
    pulse_periods: int = 3,
    horizon: float | None = None,
    discount_rate: float = 0.1,
    margin: float = 1.0,
    long: bool = False,
) -> pd.DataFrame:
    """Customer KPIs per period: strategic, basic customer-experience and pulse levels.

    Seed 004 measures the customer base at three levels: strategic metrics,
    basic customer-experience metrics (NPS, CSAT, CES) and a continuous
    customer pulse. Each period (calendar day, week, month, quarter or year)
    gets, from the transactions: ``customers_to_date`` (customers acquired
    so far), ``active_customers`` (bought in the period), ``new_customers``
    (first purchase ever in the period), ``retained_customers`` (active in
    the previous period and again in this one), ``retention_rate``
    (retained / active in the previous period), ``n_purchases`` (distinct
    customer purchase days), ``revenue``, ``revenue_per_active`` and
    ``margin`` (with a cost column); with both value models,
    ``customer_equity`` (the sum of the CLVs of every customer acquired by
    the period's end, scored on the history up to then, see
    :func:`crmkit.value.clv`); with feedback records, ``nps`` (% promoters
    9-10 minus % detractors 0-6), ``csat`` and ``ces`` (mean scores),
    ``n_responses`` (scored survey answers), ``n_complaints``,
    ``complaints_per_100_active`` and ``pulse_nps`` (NPS of the answers of
    the last ``pulse_periods`` periods pooled: the smoothed pulse).

    Missing values are documented, never silent: ``retention_rate`` is NaN
    in the first period and after a period without active customers; the
    feedback means and NPS are NaN in periods without answers of their kind;
    ``margin`` is NaN in periods with transactions without cost.

    Parameters
    ----------
    data : CustomerData or mapping of str to DataFrame
        Records with ``transactions`` (+ ``feedback``). Periods run from the
        first transaction's (or feedback's) period to the period of
        ``data.as_of``.
    freq : {"D", "W", "M", "Q", "Y"}, default="M"
        Period length (weeks end on Sunday, quarters and years are calendar).
    purchase_model, spend_model : fitted value models, optional
        Both or neither: e.g. a fitted :class:`crmkit.value.BetaGeo` and
        :class:`crmkit.value.GammaGamma`, used with their parameters as
        given at every period's end (fit them on the data up to ``as_of``).
    start : date-like, optional
        Drop periods before the one containing ``start`` from the output
        (their history still counts for new and retained customers).
    pulse_periods : int, default=3
        Periods pooled in ``pulse_nps`` (>= 1).
    horizon : float, optional
        CLV horizon in the data's time unit; default one year.
    discount_rate : float, default=0.1
        Annual discount rate of the CLV.
    margin : float, default=1.0
        Share of revenue kept as margin in the CLV, in (0, 1].
    long : bool, default=False
        Return the tidy long form instead: columns ``period``, ``level``,
        ``kpi``, ``value`` (see :data:`KPI_LEVELS`).

    Returns
    -------
    DataFrame
        Indexed by ``period`` (a ``PeriodIndex``), with ``period_start``,
        ``period_end`` (last day), ``complete`` (the period ends on or before
        ``as_of``) and the KPI columns; or the long form.

    Raises
    ------
    InvalidParameterError
        For a bad argument, or only one of the value models.
    SchemaError
        For invalid records.
    NotFittedError
        For unfitted value models.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 1, 3, 1],
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03",
    ...                                            "2024-02-10", "2024-03-01"]),
    ...                    "amount": [10.0, 20.0, 15.0, 5.0, 8.0]})
    >>> fb = pd.DataFrame({"customer_id": [1, 2, 3], "kind": "nps", "score": [10, 3, 9],
    ...                    "date": pd.to_datetime(["2024-01-10", "2024-01-25", "2024-02-12"])})
    >>> data = CustomerData.from_frames(tx, feedback=fb, as_of="2024-03-31")
    >>> kpi = kpi_series(data, "M")
    >>> kpi[["active_customers", "new_customers", "retention_rate", "revenue"]]
             active_customers  new_customers  retention_rate  revenue
    period
    2024-01                 2              2             NaN     30.0
    2024-02                 2              1             0.5     20.0
    2024-03                 1              0             0.5      8.0
    >>> kpi[["nps", "pulse_nps", "n_responses"]].round(1)
               nps  pulse_nps  n_responses
    period
    2024-01    0.0        0.0            2
    2024-02  100.0       33.3            1
    2024-03    NaN       33.3            0
    """
    validate_params("kpi_series", {
        "freq": freq, "pulse_periods": pulse_periods, "horizon": horizon,
        "discount_rate": discount_rate, "margin": margin, "long": long,
    }, {
        "freq": [Options(_FREQS)], "pulse_periods": [Interval("int", 1, None)],
        "horizon": [None, Interval("real", 0, None, closed="neither")],
        "discount_rate": [Interval("real", 0, None, finite=True)],
        "margin": [Interval("real", 0, 1, closed="right")], "long": [bool],
    })  # fmt: skip
    if (purchase_model is None) != (spend_model is None):
        raise parameter_error(
            "kpi_series",
            "spend_model",
            "given together with purchase_model (both for customer equity, or neither)",
            spend_model,
        )
    data = as_data(data, "kpi_series", ("feedback",))
    tx = data.transactions
    fb = data.get("feedback")
    first = (
        tx["date"].min() if fb is None or len(fb) == 0 else min(tx["date"].min(), fb["date"].min())
    )
    periods = pd.period_range(first.to_period(freq), data.as_of.to_period(freq), freq=freq)
    periods.name = "period"
    cols: dict[str, Any] = {
        "period_start": periods.start_time,
        "period_end": periods.end_time.normalize(),
    }
    cols["complete"] = cols["period_end"] <= data.as_of
    cols.update(_purchases(tx, periods, freq))
    if purchase_model is not None:
        ends = [min(e, data.as_of) for e in cols["period_end"]]
        h = 365.25 / TIME_UNITS[data.time_unit] if horizon is None else float(horizon)
        cols["customer_equity"] = _equity(
            data, ends, purchase_model, spend_model, h, float(discount_rate), float(margin)
        )
    if fb is not None:
        cols.update(_feedback(fb, periods, freq, cols["active_customers"], pulse_periods))
    out: pd.DataFrame = pd.DataFrame(cols, index=periods)
    for col in (
        "active_customers",
        "new_customers",
        "retained_customers",
        "customers_to_date",
        "n_purchases",
    ):
        out[col] = out[col].astype(np.int64)
    if start is not None:
        out = out.loc[out.index >= as_timestamp(start, "start").to_period(freq)]
    if not long:
        return out
    kpis = [c for c in KPI_LEVELS if c in out.columns]
    melted: pd.DataFrame = (
        out[kpis].reset_index().melt(id_vars="period", var_name="kpi", value_name="value")
    )
    melted.insert(1, "level", melted["kpi"].map(KPI_LEVELS))
    return melted
