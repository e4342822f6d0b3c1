"""``account_plan``: one customer's account plan, kept in the CRM for everyone.

A composition: it joins the records, a playbook's assessment (stage, value,
churn risk, care plan), the contact coverage of :mod:`crmkit.care` and a
cross-sell recommender of :mod:`crmkit.analysis` into one plan.

The plan gathers short- and long-term goals, the current situation (services
sold, revenue, trend), development points (products the customer lacks that
similar customers buy, how to help it succeed), how its buying process works
(the decision-maker map) and the next steps (from the care model and the
churn reasons).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from crmkit.care import care_plan_from_row, contact_coverage, contact_map
from crmkit.data import CustomerData, summarize
from crmkit.domain import AccountPlan, CarePlan, NextStep
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import CARE_PLAN_COLUMNS

__all__ = ["Assessor", "account_plan"]

_UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}
_YEAR = pd.Timedelta(days=365)
_PORTFOLIO_GOALS = {
    "A": "Renew and extend the contract; keep the customer-care and activity plan alive",
    "B": "Grow purchases until the customer qualifies for portfolio A",
    "C": "Develop the customer toward portfolio B",
    "D": "Watch for growth; no active investment until the customer grows",
}


@runtime_checkable
class Assessor(Protocol):
    """What :func:`account_plan` needs from a playbook: ``assess(data) -> DataFrame``.

    :class:`crmkit.compose.Playbook` is one.

    Examples
    --------
    >>> class Nothing:
    ...     def assess(self, data):
    ...         raise NotImplementedError
    >>> isinstance(Nothing(), Assessor)
    True
    """

    def assess(self, data: CustomerData) -> pd.DataFrame:
        """One row per customer of ``data``: stage, value, churn, care plan ..."""
        ...


def _plain(value: Any) -> Any:
    """A value as the plan's situation accepts it (None for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, (dt.date, str)):
        return value
    return str(value)


def _products(history: CustomerData) -> tuple[list[str], float, float]:
    """Products by revenue (largest first), revenue of the last and previous 12 months."""
    tx = history.transactions
    as_of = history.as_of + pd.Timedelta(days=1)
    dates = tx["date"]
    recent = float(tx.loc[(dates >= as_of - _YEAR).to_numpy(), "amount"].sum())
    before = float(
        tx.loc[((dates >= as_of - 2 * _YEAR) & (dates < as_of - _YEAR)).to_numpy(), "amount"].sum()
    )
    products: list[str] = []
    if "product" in tx.columns:
        known = tx.loc[tx["product"].notna().to_numpy()]
        by_product = known.groupby(known["product"].astype(str), sort=True)["amount"].sum()
        products = by_product.sort_values(ascending=False, kind="stable").index.tolist()
    return products, recent, before


def _recommendations(
    data: CustomerData, history: CustomerData, customer_id: Any, recommender: Any, k: int
) -> list[tuple[str, str]]:
    if "product" not in data.transactions.columns or k == 0:
        return []
    if recommender is None:
        from crmkit.analysis import ItemCoPurchaseRecommender  # imported on first use

        recommender = ItemCoPurchaseRecommender().fit(data)
    elif not hasattr(recommender, "products_"):
        recommender = recommender.fit(data)
    recs = recommender.recommend([customer_id], k=k, data=history)
    return [(str(p), str(r)) for p, r in zip(recs["product"], recs["reason"], strict=True)]


def _feedback_points(history: CustomerData) -> list[str]:
    fb = history.get("feedback")
    if fb is None or len(fb) == 0:
        return []
    kind = fb["kind"].astype(str).str.lower()
    if "resolved_date" in fb.columns:
        open_ = (fb["resolved_date"].isna() | (fb["resolved_date"] > history.as_of)).to_numpy()
    else:
        open_ = np.ones(len(fb), dtype=bool)
    points = []
    texts = fb["text"] if "text" in fb.columns else pd.Series("", index=fb.index)
    for is_open, k, date, text in zip(open_, kind, fb["date"], texts, strict=True):
        if not is_open or k not in ("complaint", "suggestion"):
            continue
        said = f": '{text}'" if isinstance(text, str) and text.strip() else ""
        if k == "complaint":
            points.append(f"Resolve the open complaint of {date.date()}{said}")
        else:
            points.append(
                f"Act on the customer's suggestion of {date.date()}{said} and tell "
                "the customer what was done"
            )
    return points


def _row(series: pd.Series) -> dict[str, Any]:
    return {str(k): v for k, v in series.items()}


def _care(row: Mapping[str, Any]) -> CarePlan | None:
    if not all(c in row for c in CARE_PLAN_COLUMNS):
        return None
    return care_plan_from_row(row)


def _goals(
    row: Mapping[str, Any],
    care: CarePlan | None,
    recs: list[tuple[str, str]],
    n_products: int,
    recent: float,
    horizon: Any,
    unit: str,
) -> tuple[list[str], list[str]]:
    short: list[str] = []
    long: list[str] = []
    stage = str(row.get("stage", "") or "")
    # "lapsed" is a status (older rows held it as a stage)
    lapsed = str(row.get("status", "") or "") == "lapsed" or stage == "lapsed"
    risk = _plain(row.get("churn_risk"))
    if care is not None and any(r.startswith("churn risk") for r in care.reasons):
        short.append(f"Secure the relationship: {care.activities[0]}")
    elif risk is not None and risk > 0.5:
        short.append("Secure the relationship: find out why the customer may leave")
    if stage == "onboarding" and not lapsed:
        short.append("Win the repeat purchase that completes the take-over")
    if lapsed:
        short.append("Win the customer back with a first new order")
    expected = _plain(row.get("expected_purchases"))
    if expected is not None and horizon is not None and not lapsed:
        short.append(
            f"Secure the {expected:.1f} purchases expected in the next {float(horizon):g} {unit}"
        )
    if recs:
        short.append(f"Sell {recs[0][0]}, which similar customers buy")
    clv = _plain(row.get("clv"))
    if clv is not None and horizon is not None:
        long.append(
            f"Realise the predicted customer lifetime value of {clv:,.0f} over the "
            f"next {float(horizon):g} {unit}"
        )
    portfolio = row.get("portfolio")
    if isinstance(portfolio, str) and portfolio in _PORTFOLIO_GOALS:
        long.append(_PORTFOLIO_GOALS[portfolio])
    if n_products:
        more = n_products + min(len(recs), 2)
        if more > n_products:
            long.append(
                f"Broaden the relationship from {n_products} to {more} products: "
                "customers who buy more products stay longer"
            )
    if not short:
        short.append(f"Keep the last 12 months' revenue of {recent:,.0f} and grow it")
    return short, long


def _steps(
    care: CarePlan | None, recs: list[tuple[str, str]], coverage: Mapping[str, Any] | None
) -> list[NextStep]:
    steps: list[NextStep] = []
    if care is not None and care.activities:
        # the plan's owner and cadence belong to its first activity (the retention
        # action when churn overrode routine care); routine activities follow it
        why = care.reasons[0] if care.reasons else ""
        steps.append(
            NextStep(
                action=care.activities[0],
                owner_role=care.owner_role,
                due_in_days=int(care.cadence_days),
                reason=why,
            )
        )
        overridden = why.startswith("churn risk")
        if not overridden and len(care.activities) > 1:
            steps.append(
                NextStep(
                    action=care.activities[1],
                    owner_role=care.owner_role,
                    due_in_days=int(care.cadence_days),
                    reason=why,
                )
            )
    if coverage is not None:
        risk = str(coverage["coverage_risk"])
        if risk in ("only contact left", "all decision makers left", "no contact known"):
            steps.append(
                NextStep(
                    action="Find and meet the customer's current decision makers",
                    owner_role="account manager",
                    due_in_days=14,
                    reason=f"contact coverage: {risk}",
                )
            )
        elif risk in ("single-threaded", "no decision maker known", "decision makers not met"):
            steps.append(
                NextStep(
                    action="Meet more people and map the decision makers",
                    owner_role="account manager",
                    due_in_days=30,
                    reason=f"contact coverage: {risk}",
                )
            )
    for product, reason in recs[:1]:
        steps.append(
            NextStep(
                action=f"Offer {product}",
                owner_role="account manager",
                due_in_days=30,
                reason=reason,
            )
        )
    return steps


def account_plan(
    data: CustomerData,
    customer_id: Any,
    *,
    view: pd.DataFrame | None = None,
    playbook: Assessor | None = None,
    recommender: Any = None,
    n_products: int = 3,
) -> AccountPlan:
    """Build one customer's account plan.

    Parameters
    ----------
    data : CustomerData
        The whole customer base's records (similar customers' purchases feed
        the cross-sell recommendations; contacts give the buying process).
    customer_id : object
        The customer (must have transactions).
    view : pandas.DataFrame, optional
        A customer view to take the customer's row from; default
        :func:`crmkit.data.summarize` of its records.
    playbook : object with ``assess(data) -> DataFrame``, optional
        A fitted :class:`crmkit.compose.Playbook` (or anything alike): its
        assessment of the customer gives the stage, value, churn risk and
        care plan behind the goals and next steps.
    recommender : cross-sell recommender, optional
        A :mod:`crmkit.analysis` recommender (fitted or not); default an
        :class:`~crmkit.analysis.ItemCoPurchaseRecommender` fitted on
        ``data``. Needs a ``product`` column in the transactions.
    n_products : int, default=3
        Products to propose.

    Returns
    -------
    AccountPlan
        Goals, situation (revenue, the last and previous 12 months, products
        bought, dates, attributes and the assessment), development points
        (products it lacks that similar customers buy, open complaints and
        suggestions, coverage gaps), buying process (active contacts, their
        roles, decision makers first) and next steps (the care plan's first
        activities with its owner and cadence, coverage and cross-sell
        steps). Render it with ``to_dict`` or ``to_markdown``.

    Raises
    ------
    InvalidParameterError
        When ``data`` is not :class:`~crmkit.data.CustomerData` (also a
        ``TypeError``), or for a bad ``n_products``.
    SchemaError
        When the customer has no transactions (or is not in ``view``).

    Examples
    --------
    >>> from crmkit.datasets import make_crm
    >>> crm = make_crm(60, seed=3)
    >>> plan = account_plan(crm.data, 5)
    >>> plan.customer_id, "revenue" in plan.situation
    (5, True)
    >>> print(plan.to_markdown().splitlines()[0])
    # Account plan: 5
    """
    from crmkit.exceptions import InvalidParameterError

    if not isinstance(data, CustomerData):
        raise InvalidParameterError(
            "account_plan: 'data' must be CustomerData (crmkit.CustomerData.from_frames); "
            f"got {type(data).__name__}"
        )
    if isinstance(n_products, bool) or not isinstance(n_products, int) or n_products < 0:
        raise InvalidParameterError(
            f"The 'n_products' parameter of account_plan must be an int >= 0. "
            f"Got {n_products!r} instead."
        )
    try:
        history = data.for_customer(customer_id)
    except KeyError:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="transactions",
                    column="customer_id",
                    check="has no transactions of this customer",
                    n_failing=1,
                    rows=(),
                    values=(customer_id,),
                )
            ]
        ) from None
    if view is not None:
        if customer_id not in view.index:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="<index>",
                        check="lacks the customer",
                        n_failing=1,
                        rows=(),
                        values=(customer_id,),
                    )
                ]
            )
        row = _row(view.loc[customer_id])
    else:
        row = _row(summarize(history).iloc[0])
    if playbook is not None:
        row.update(_row(playbook.assess(history).iloc[0]))
    care = _care(row)
    products, recent, before = _products(history)
    recs = _recommendations(data, history, customer_id, recommender, n_products)
    coverage: Mapping[str, Any] | None = None
    buying: list[tuple[Any, str, bool]] = []
    if data.get("contacts") is not None:
        cov = contact_coverage(history)
        coverage = dict(cov.loc[customer_id].items()) if customer_id in cov.index else None
        people = contact_map(history, customer_id)
        people = people.loc[people["active"].to_numpy(dtype=bool)]
        buying = [
            (str(name), str(role) or "contact", bool(dm))
            for name, role, dm in zip(
                people["name"], people["role"], people["decision_maker"], strict=True
            )
        ]
    customers = history.get("customers")
    situation: dict[str, Any] = {}
    if customers is not None and len(customers):
        record = customers.iloc[-1]
        for key in ("name", "industry", "size_class", "region", "key_account"):
            if key in customers.columns:
                situation[key] = _plain(record[key])
    situation["revenue"] = _plain(row.get("revenue"))
    situation["revenue_last_12_months"] = recent
    situation["revenue_previous_12_months"] = before
    situation["products"] = products
    for key in ("n_transactions", "first_purchase", "last_purchase", "purchase_trend"):
        situation[key] = _plain(row.get(key))
    for key in (
        "stage",
        "portfolio",
        "segment",
        "clv",
        "p_alive",
        "expected_purchases",
        "loyalty",
        "churn_risk",
        "churn_reasons",
    ):
        if key in row:
            situation[key] = _plain(row[key])
    if coverage is not None:
        situation["contact_coverage"] = str(coverage["coverage_risk"])
    unit = _UNIT_NAMES.get(data.time_unit, data.time_unit)
    short, long = _goals(
        row, care, recs, len(products), recent, getattr(playbook, "horizon", None), unit
    )
    points = [f"Offer {product}: {reason}" for product, reason in recs]
    points += _feedback_points(history)
    if coverage is not None and str(coverage["coverage_risk"]) != "covered":
        points.append(
            f"Contact coverage: {coverage['coverage_risk']} — know every decision "
            "maker and their part in the buying process"
        )
    return AccountPlan(
        customer_id=customer_id,
        short_term_goals=short,
        long_term_goals=long,
        situation=situation,
        development_points=points,
        buying_process=buying,
        next_steps=_steps(care, recs, coverage),
    )
