"""The sales pipeline (seed 003): funnel, conversion, velocity, win rate, forecast."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Interval, validate_params
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure
from crmkit.lifecycle._pipeline_inputs import (
    PIPELINE_STAGES,
    STATUSES,
    first_rows,
    read_status,
    stage_map,
    validate,
)

__all__ = ["PIPELINE_STAGES", "PipelineReport", "pipeline_report"]

_NS_PER_DAY = 86_400_000_000_000

FloatArray = npt.NDArray[np.float64]


@attrs.frozen(eq=False)
class PipelineReport:
    """Funnel, conversion, velocity, win rate and weighted forecast of a pipeline.

    Parameters
    ----------
    stages : pandas.DataFrame
        One row per stage (index ``"stage"``, pipeline order): ``n_reached``
        (opportunities that reached the stage or a later one),
        ``conversion_to_next`` (share of those that reached the next stage;
        missing for the last stage or a stage nobody reached), ``p_order``
        (historical probability of an order once the stage is reached),
        ``median_days_in_stage`` (median days from entering the stage to
        entering the next stage reached, over opportunities that moved on;
        missing when none did), ``n_open`` (open opportunities now in the
        stage), ``median_days_open`` (their median days in it so far),
        ``expected_orders`` (their summed ``p_order``) and, with values,
        ``expected_value``.
    opportunities : pandas.DataFrame
        One row per opportunity (the input's index): ``current_stage``
        (furthest stage reached), ``status`` (open, won, lost),
        ``days_in_stage`` (days since entering the current stage, up to
        ``as_of`` for open ones, else 0), ``p_order`` (open: the historical
        ``p_order`` of the current stage, missing for a stage without
        history; won: 1; lost: 0) and, with values, ``value`` and
        ``expected_value`` (open: ``p_order * value``, 0 without history;
        won: the value; lost: 0).
    n_won, n_lost, n_open : int
        Opportunities by status.
    win_rate : float
        Won among closed (won + lost) opportunities; without a status
        column or ``stale_after``, won among all. NaN when there are none.
    forecast_orders : float
        Expected orders from the open opportunities.
    forecast_value : float or None
        Expected order value from the open opportunities (None without a
        value column).
    as_of : pandas.Timestamp
        The report date.

    Attributes
    ----------
    stages, opportunities : pandas.DataFrame
    n_won, n_lost, n_open : int
    win_rate, forecast_orders : float
    forecast_value : float or None
    as_of : pandas.Timestamp

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame({"identified": ["2024-01-01", "2024-01-03"],
    ...                      "offer": ["2024-01-10", None],
    ...                      "order": ["2024-01-20", None]})
    >>> report = pipeline_report(opps, stage_dates=["identified", "offer", "order"],
    ...                          as_of="2024-02-01")
    >>> report.n_won, report.win_rate, report.forecast_orders
    (1, 0.5, 0.5)
    """

    stages: pd.DataFrame
    opportunities: pd.DataFrame
    n_won: int
    n_lost: int
    n_open: int
    win_rate: float
    forecast_orders: float
    forecast_value: float | None
    as_of: pd.Timestamp


def _median(values: FloatArray) -> float:
    return float(np.median(values)) if len(values) else float("nan")


def _status_and_values(
    frame: pd.DataFrame,
    status: str | None,
    value: str | None,
    ordered: npt.NDArray[np.bool_],
    age: npt.NDArray[np.float64],
    stale_after: float | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64] | None]:
    """Each opportunity's status code (0 open, 1 won, 2 lost) and value, checked together."""
    fails: list[SchemaFailure] = []
    code = (
        read_status(frame, status, ordered, fails)
        if status is not None
        else ordered.astype(np.int64)
    )
    if stale_after is not None:
        code = np.where((code == 0) & (age > float(stale_after)), 2, code)
    values = None
    if value is not None:
        values = frame[value].to_numpy(dtype=np.float64, na_value=np.nan)
        missing = (code == 0) & np.isnan(values)
        if missing.any():
            fails.append(
                SchemaFailure(
                    frame="opportunities",
                    column=value,
                    check="is missing for open opportunities (needed for the forecast)",
                    n_failing=int(missing.sum()),
                    rows=first_rows(frame.index, missing),
                )
            )
    if fails:
        raise SchemaError(fails)
    return code, values


def _stage_rates(
    reached: npt.NDArray[np.bool_],
    won: npt.NDArray[np.bool_],
    lost: npt.NDArray[np.bool_],
    knows_lost: bool,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per stage: how many reached it, the share reaching the next, and P(order)."""
    n, m = reached.shape
    n_reached = reached.sum(axis=0)
    conversion = np.full(m, np.nan)
    conversion[:-1] = np.where(
        n_reached[:-1] > 0, n_reached[1:] / np.maximum(n_reached[:-1], 1), np.nan
    )
    basis = (won | lost) if knows_lost else np.ones(n, dtype=bool)
    base = (reached & basis[:, None]).sum(axis=0)
    wins = (reached & won[:, None]).sum(axis=0)
    p_order = np.where(base > 0, wins / np.maximum(base, 1), np.nan)
    return n_reached, conversion, p_order


def _median_days_to_next(
    present: npt.NDArray[np.bool_], stamp: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """Velocity: the median days from a stage's date to the next stage date that is known."""
    n, m = present.shape
    nxt = np.full((n, m), -1, dtype=np.int64)
    later = np.full(n, -1, dtype=np.int64)
    for k in range(m - 1, -1, -1):
        nxt[:, k] = later
        later = np.where(present[:, k], stamp[:, k], later)
    return np.array(
        [
            _median(((nxt[:, k] - stamp[:, k]) / _NS_PER_DAY)[present[:, k] & (nxt[:, k] >= 0)])
            for k in range(m)
        ]
    )


def pipeline_report(
    opportunities: pd.DataFrame,
    *,
    stage_dates: Mapping[str, str] | Sequence[str] | None = None,
    as_of: Any = None,
    value: str | None = None,
    status: str | None = None,
    stale_after: float | None = None,
) -> PipelineReport:
    """Analyse a sales pipeline: funnel, conversions, velocity, win rate, forecast.

    Seed 003 describes the pipeline from identifying a customer through
    marketing actions, an offer and negotiations to the order. Each
    opportunity (a prospect or deal; one row, the index is its id) has one
    date column per stage, holding the day the stage was reached (missing
    if not reached). Reaching a stage implies having passed the earlier
    ones, even when their dates are missing; the last stage is the order
    (the opportunity is won).

    The forecast weighs each open opportunity by the historical probability
    of an order from its current stage (``p_order``): among *closed*
    opportunities (won or lost, from ``status``) that reached the stage, the
    share that were won. Without a ``status`` column nothing is known to be
    lost (unless ``stale_after`` closes idle ones), so ``p_order`` is the
    share of all opportunities that reached the stage and were won — open
    ones count as not (yet) won, which understates conversion while many
    are open.

    Parameters
    ----------
    opportunities : pandas.DataFrame
        One row per opportunity.
    stage_dates : mapping of str to str, sequence of str or None, default=None
        The stages in pipeline order: ``{stage name: date column}``, or the
        date columns (named after their stages). Default: the columns
        ``identified``, ``marketing``, ``offer``, ``negotiation``, ``order``
        (:data:`PIPELINE_STAGES`).
    as_of : date-like, optional
        The report date (default the latest date in the frame); no stage
        date may be after it.
    value : str, optional
        Column with the (expected) order value of each opportunity, >= 0;
        required for open opportunities, may be missing for closed ones.
    status : str, optional
        Column with ``"open"``, ``"won"`` or ``"lost"`` (any case; missing:
        won with an order date, else open). Won needs an order date; open
        and lost must not have one.
    stale_after : float, optional
        Days after which an open opportunity that has not moved on from its
        current stage counts as lost (a common pipeline hygiene rule; it
        gives closed history when there is no status column).

    Returns
    -------
    PipelineReport
        ``stages`` (funnel counts, conversions, ``p_order``, velocity, open
        opportunities and their expected orders/value), ``opportunities``
        (per opportunity), ``win_rate``, ``forecast_orders`` and
        ``forecast_value``.

    Raises
    ------
    InvalidParameterError
        For an invalid ``stale_after``.
    SchemaError
        Listing every problem: a missing column, duplicate ids, values that
        are not dates, an opportunity without dates, dates out of stage
        order or after ``as_of`` (naming the rows), bad values or statuses,
        a status that contradicts the order date, missing values of open
        opportunities.

    Warns
    -----
    DataWarning
        When open opportunities sit in a stage without history (no
        opportunity that reached it is closed): they are left out of the
        forecast.

    Examples
    --------
    >>> import pandas as pd
    >>> opps = pd.DataFrame(
    ...     {"identified": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-05",
    ...                                    "2024-02-01"]),
    ...      "offer": pd.to_datetime(["2024-01-11", "2024-01-12", None, "2024-02-11"]),
    ...      "order": pd.to_datetime(["2024-01-31", None, None, None]),
    ...      "value": [100.0, 50.0, 10.0, 80.0],
    ...      "status": ["won", "lost", "lost", "open"]},
    ...     index=pd.Index(["o1", "o2", "o3", "o4"], name="opportunity"))
    >>> r = pipeline_report(opps, stage_dates=["identified", "offer", "order"],
    ...                     value="value", status="status", as_of="2024-03-01")
    >>> r.stages[["n_reached", "conversion_to_next", "p_order", "median_days_in_stage"]]
                n_reached  conversion_to_next   p_order  median_days_in_stage
    stage
    identified          4                0.75  0.333333                  10.0
    offer               3            0.333333       0.5                  20.0
    order               1                 NaN       1.0                   NaN
    >>> r.win_rate, r.forecast_orders, r.forecast_value
    (0.333333..., 0.5, 40.0)
    """
    validate_params(
        "pipeline_report",
        {"stale_after": stale_after},
        {"stale_after": [Interval("float", 0, None), None]},
    )
    mapping = stage_map(stage_dates)
    frame, dates, day = validate(opportunities, mapping, as_of, value, status)
    names = list(mapping)
    n, m = dates.shape
    present = ~np.isnat(dates)
    idx = np.arange(m)
    furthest = np.where(present, idx[None, :], -1).max(axis=1)
    reached = idx[None, :] <= furthest[:, None]
    stamp = np.where(present, dates.view(np.int64), -1)
    entered = stamp[np.arange(n), furthest]
    age = (np.datetime64(day, "ns").astype(np.int64) - entered) / _NS_PER_DAY
    code, values = _status_and_values(frame, status, value, present[:, -1], age, stale_after)
    won, lost, is_open = code == 1, code == 2, code == 0
    knows_lost = status is not None or stale_after is not None
    n_reached, conversion, p_order = _stage_rates(reached, won, lost, knows_lost)
    median_days = _median_days_to_next(present, stamp)
    days_in_stage = np.where(is_open, age, 0.0)
    p_row = np.where(won, 1.0, np.where(lost, 0.0, p_order[furthest]))
    no_history = is_open & np.isnan(p_row)
    if no_history.any():
        stuck = sorted({names[k] for k in furthest[no_history]})
        warnings.warn(
            f"crmkit: {int(no_history.sum())} open opportunities are in stages without closed "
            f"history ({', '.join(stuck)}); they are left out of the forecast",
            DataWarning,
            stacklevel=2,
        )
    weight = np.where(is_open & ~no_history, p_row, 0.0)
    stage_cat = pd.Categorical.from_codes(furthest, categories=pd.Index(names), ordered=True)
    status_cat = pd.Categorical.from_codes(code, categories=pd.Index(list(STATUSES)))
    per_opp = pd.DataFrame(
        {
            "current_stage": stage_cat,
            "status": status_cat,
            "days_in_stage": days_in_stage,
            "p_order": p_row,
        },
        index=frame.index,
    )
    open_at = is_open[:, None] & (furthest[:, None] == idx[None, :])
    table: dict[str, Any] = {
        "n_reached": n_reached.astype(np.int64),
        "conversion_to_next": conversion,
        "p_order": p_order,
        "median_days_in_stage": median_days,
        "n_open": open_at.sum(axis=0).astype(np.int64),
        "median_days_open": [_median(days_in_stage[open_at[:, k]]) for k in range(m)],
        "expected_orders": (open_at * weight[:, None]).sum(axis=0),
    }
    forecast_value = None
    if values is not None:
        open_value = np.where(is_open, weight * np.nan_to_num(values), 0.0)
        per_opp["value"] = values
        per_opp["expected_value"] = np.where(won, values, open_value)
        table["expected_value"] = (open_at * open_value[:, None]).sum(axis=0)
        forecast_value = float(open_value.sum())
    stages = pd.DataFrame(table, index=pd.Index(names, name="stage"))
    closed = int(won.sum() + lost.sum()) if knows_lost else n
    win_rate = float(won.sum() / closed) if closed else float("nan")
    return PipelineReport(
        stages=stages,
        opportunities=per_opp,
        n_won=int(won.sum()),
        n_lost=int(lost.sum()),
        n_open=int(is_open.sum()),
        win_rate=win_rate,
        forecast_orders=float(weight.sum()),
        forecast_value=forecast_value,
        as_of=day,
    )
