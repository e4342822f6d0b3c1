"""Account plans followed up against actuals: attainment of each measurable target.

Every action is followed up against its goals: an account plan's
:class:`~crmkit.domain.PlanTarget` says what should be reached by when;
:func:`track_plans` counts what the records of a later snapshot show and
says, per target, whether it was met, is on track, behind, or missed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from crmkit._params import instance_of, parameter_error, validate_params
from crmkit.data import CustomerData
from crmkit.domain import PLAN_METRICS, AccountPlan, PlanTarget
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["TRACKING_COLUMNS", "track_plans"]

_DATA = instance_of(
    CustomerData, "CustomerData records (their as_of is the follow-up day unless as_of is given)"
)

#: The columns of :func:`track_plans`' table.
TRACKING_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "metric",
    "description",
    "start",
    "due",
    "target",
    "actual",
    "attainment",
    "elapsed",
    "status",
    "reason",
)

_DAY = pd.Timedelta(days=1)


def _frame(data: CustomerData, kind: str, columns: tuple[str, ...], metric: str) -> pd.DataFrame:
    frame: pd.DataFrame | None = data.get(kind)
    if frame is None:
        raise SchemaError(
            [
                SchemaFailure(
                    frame=kind, column="<frame>", check=f"is needed to track {metric} targets"
                )
            ]
        )
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise SchemaError(
            [
                SchemaFailure(
                    frame=kind, column=c, check=f"is missing (needed to track {metric} targets)"
                )
                for c in absent
            ]
        )
    return frame


def _window(frame: pd.DataFrame, customer: Any, start: dt.date, end: pd.Timestamp) -> pd.DataFrame:
    dates = frame["date"]
    mask = (frame["customer_id"] == customer) & (dates >= pd.Timestamp(start)) & (dates < end)
    rows: pd.DataFrame = frame.loc[mask]
    return rows


def _actual(data: CustomerData, target: PlanTarget, customer: Any, end: pd.Timestamp) -> float:
    """What the records show for ``target`` from its start to ``end`` (exclusive)."""
    if target.metric == "contacts_reached":
        met = _frame(data, "interactions", ("contact_id",), target.metric)
        rows = _window(met, customer, target.start, end)
        return float(rows["contact_id"].dropna().nunique())
    needs = {"revenue": ("amount",), "purchases": (), "products": ("product",)}[target.metric]
    tx = _frame(data, "transactions", needs, target.metric)
    rows = _window(tx, customer, target.start, end)
    if target.metric == "revenue":
        return float(rows["amount"].sum())
    if target.metric == "purchases":
        return float(rows["date"].dt.normalize().nunique())
    return float(rows["product"].dropna().nunique())


def _status(actual: float, target: float, elapsed: float) -> str:
    if actual >= target:
        return "met"
    if elapsed >= 1.0:
        return "missed"
    if elapsed <= 0.0:
        return "not started"
    return "on track" if actual >= target * elapsed else "behind"


def _number(value: float, metric: str) -> str:
    return f"{value:,.0f}" if metric == "revenue" else f"{value:g}"


def _row(
    data: CustomerData, plan: AccountPlan, target: PlanTarget, as_of: pd.Timestamp
) -> dict[str, Any]:
    last = min(pd.Timestamp(target.due), as_of.normalize())
    end = last + _DAY
    days = (pd.Timestamp(target.due) - pd.Timestamp(target.start)).days + 1
    gone = (end - pd.Timestamp(target.start)).days
    elapsed = float(np.clip(gone / days, 0.0, 1.0))
    actual = _actual(data, target, plan.customer_id, end) if gone > 0 else 0.0
    status = _status(actual, target.target, elapsed)
    attainment = actual / target.target
    reason = (
        f"{target.metric} {_number(actual, target.metric)} of "
        f"{_number(target.target, target.metric)} ({attainment:.0%}) with {elapsed:.0%} of the "
        f"period gone: {status}"
    )
    return {
        "customer_id": plan.customer_id,
        "metric": target.metric,
        "description": target.description,
        "start": pd.Timestamp(target.start),
        "due": pd.Timestamp(target.due),
        "target": float(target.target),
        "actual": actual,
        "attainment": attainment,
        "elapsed": elapsed,
        "status": status,
        "reason": reason,
    }


def _plans(plans: AccountPlan | Iterable[AccountPlan]) -> list[AccountPlan]:
    items = [plans] if isinstance(plans, AccountPlan) else list(plans)
    bad = [i for i, p in enumerate(items) if not isinstance(p, AccountPlan)]
    if bad:
        raise parameter_error(
            "track_plans",
            "plans",
            f"an AccountPlan or an iterable of AccountPlan objects (items {bad[:5]} are not)",
            items[bad[0]],
        )
    return items


def track_plans(
    plans: AccountPlan | Iterable[AccountPlan], data: CustomerData, *, as_of: Any = None
) -> pd.DataFrame:
    """Compare the targets of account plans with what the records show.

    Each :class:`~crmkit.domain.PlanTarget` of each plan is counted in the
    records from its ``start`` to its ``due`` date, or to ``as_of`` when that
    comes first (both days included):

    - ``revenue`` — the sum of the transaction amounts;
    - ``purchases`` — the days with a purchase (several lines on one day
      are one purchase, as in the customer view's ``frequency``);
    - ``products`` — distinct products bought (needs ``product``);
    - ``contacts_reached`` — distinct contact persons met (needs
      interactions with a ``contact_id``).

    ``status`` is ``met`` once the actual reaches the target, ``missed``
    when the due date has passed without it, ``not started`` before the
    start, and otherwise ``on track`` when the actual is at least the
    target's share of the elapsed period, ``behind`` when not.

    Parameters
    ----------
    plans : AccountPlan or iterable of AccountPlan
        Plans with ``targets`` (plans without targets add no rows).
    data : CustomerData
        The records of a later snapshot.
    as_of : date-like, optional
        The day of the follow-up; default ``data.as_of``.

    Returns
    -------
    pandas.DataFrame
        One row per target (:data:`TRACKING_COLUMNS`), sorted by customer
        id, due date and metric (in the order of
        :data:`~crmkit.domain.PLAN_METRICS`); ``attainment`` is actual / target,
        ``elapsed`` the share of the period gone (0 to 1).

    Raises
    ------
    InvalidParameterError
        For items that are not AccountPlan objects, or no ``as_of``.
    SchemaError
        When the records lack what a target needs (a ``product`` column,
        interactions with a ``contact_id``).

    Examples
    --------
    >>> import datetime as dt
    >>> from crmkit import CustomerData
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": ["2025-01-10", "2025-01-10", "2025-03-01", "2025-02-01"],
    ...                    "amount": [400.0, 100.0, 700.0, 50.0]})
    >>> data = CustomerData.from_frames(tx, as_of="2025-03-31")
    >>> year = {"start": dt.date(2025, 1, 1), "due": dt.date(2025, 12, 31)}
    >>> plans = [
    ...     AccountPlan(customer_id=1, targets=[PlanTarget(metric="revenue", target=1000.0, **year),
    ...                                         PlanTarget(metric="purchases", target=12, **year)]),
    ...     AccountPlan(customer_id=2, targets=[PlanTarget(metric="revenue", target=400.0,
    ...                                                     start=dt.date(2025, 1, 1),
    ...                                                     due=dt.date(2025, 2, 28))])]
    >>> table = track_plans(plans, data)
    >>> table[["customer_id", "metric", "actual", "status"]]
       customer_id     metric  actual  status
    0            1    revenue  1200.0     met
    1            1  purchases     2.0  behind
    2            2    revenue    50.0  missed
    >>> print(table.loc[1, "reason"])
    purchases 2 of 12 (17%) with 25% of the period gone: behind
    """
    items = _plans(plans)
    validate_params("track_plans", {"data": data}, {"data": [_DATA]})
    when = data.as_of if as_of is None else as_of
    stamp = pd.Timestamp(when)
    rows = [_row(data, plan, target, stamp) for plan in items for target in plan.targets]
    table = pd.DataFrame(rows, columns=list(TRACKING_COLUMNS))
    rank = table["metric"].map({m: i for i, m in enumerate(PLAN_METRICS)})
    keys = ["customer_id", "due", "_rank", "description", "start"]
    ordered: pd.DataFrame = (
        table.assign(_rank=rank).sort_values(keys, kind="stable").drop(columns="_rank")
    )
    result: pd.DataFrame = ordered.reset_index(drop=True)
    return result
