"""``demo_sections``: the playbook part of ``crmkit demo``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmkit.compose._account_plan import account_plan
from crmkit.compose._playbook import Playbook
from crmkit.compose._ranking import distinguishing_digits, format_risk, top_risks
from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning, InvalidParameterError

__all__ = ["demo_sections"]


def _rule(title: str) -> str:
    return f"\n{title}\n{'-' * len(title)}"


def _data_of(crm: Any) -> CustomerData:
    data = crm if isinstance(crm, CustomerData) else getattr(crm, "data", None)
    if not isinstance(data, CustomerData):
        raise InvalidParameterError(
            "demo_sections: 'crm' must be CustomerData or a SyntheticCRM "
            f"(crmkit.datasets.make_crm); got {type(crm).__name__}"
        )
    return data


def _stage_table(result: pd.DataFrame, segment: str) -> str:
    table = pd.crosstab(result[segment], result["stage"], margins=True, margins_name="all")
    table = table.loc[:, (table != 0).any(axis=0)]
    return str(table.to_string())


def _care_table(result: pd.DataFrame, segment: str) -> str:
    rows = []
    for label, group in result.groupby(segment, observed=True, sort=True):
        routine = group["care_model"].astype(str).mode()
        rows.append(
            {
                segment: str(label),
                "customers": len(group),
                "mean clv": float(group["clv"].mean()) if "clv" in group else np.nan,
                "budget": float(group["budget_share"].sum()),
                "main intensity": str(group["intensity"].astype(str).mode().iloc[0]),
                "owner": str(group["owner_role"].astype(str).mode().iloc[0]),
                "cadence (days)": int(group["cadence_days"].median()),
                "care model": str(routine.iloc[0]) if len(routine) else "",
            }
        )
    frame = pd.DataFrame(rows).set_index(segment)
    with pd.option_context("display.width", 140):
        text = frame.to_string(formatters={"mean clv": "{:,.0f}".format, "budget": "{:.1%}".format})
    return str(text)


def _first_reasons(text: str, n: int = 3) -> str:
    parts = [p for p in text.split("; ") if p]
    return "; ".join(parts[:n]) + (" ..." if len(parts) > n else "")


def _churn_table(result: pd.DataFrame, segment: str, n_top: int) -> str:
    top = top_risks(result, n_top)
    cols = [segment, "stage", "churn_risk", "churn_reasons"]
    cols[3:3] = [c for c in ("value_at_risk",) if c in top.columns]
    shown = top[cols].copy()
    shown["churn_reasons"] = top["churn_reasons"].astype(str).map(_first_reasons)
    if "activities" in top.columns:
        shown["first action"] = top["activities"].astype(str).str.split("; ").str[0]
    digits = distinguishing_digits(top["churn_risk"])
    formats = {
        "churn_risk": lambda x: format_risk(x, digits),
        "value_at_risk": "{:,.2f}".format,
    }
    with pd.option_context("display.width", 200, "display.max_colwidth", 70):
        return str(shown.to_string(formatters=formats))


def demo_sections(crm: Any, *, playbook: Playbook | None = None, n_top: int = 8) -> str:
    """The playbook part of ``crmkit demo``: portfolios x stages, churn risks, an account plan.

    Fits a :class:`Playbook` (default settings unless ``playbook`` is given,
    fitted or not) on the records, assesses every customer and renders
    three sections as plain text:

    1. customers per portfolio (or segment) and lifecycle stage, and the
       care model of each portfolio (customers, mean CLV, budget share,
       intensity, owner, cadence);
    2. the ``n_top`` customers at the highest churn risk (ties broken by
       the value at risk, ``clv x churn_risk``; the risk shown with enough
       decimals that equal figures mean equal risks), with their reasons
       and the first action of their care plan;
    3. the account plan (Markdown) of the most valuable customer at risk
       (the highest CLV among customers whose care plan holds a churn
       override), or of the most valuable customer when nobody is at risk.

    Parameters
    ----------
    crm : SyntheticCRM or CustomerData
        E.g. ``crmkit.datasets.make_crm(2000)`` (its ``data`` is used).
    playbook : Playbook, optional
        The playbook to use; an unfitted one is fitted on the data.
    n_top : int, default=8
        Rows of the churn table.

    Returns
    -------
    str

    Raises
    ------
    InvalidParameterError
        When ``crm`` holds no :class:`~crmkit.data.CustomerData` (also a
        ``TypeError``).

    Examples
    --------
    >>> from crmkit.datasets import make_crm
    >>> text = demo_sections(make_crm(80, seed=1))
    >>> "Portfolios and lifecycle stages" in text and "# Account plan:" in text
    True
    """
    pb = playbook if playbook is not None else Playbook()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = _data_of(crm)
        if not hasattr(pb, "plugins_"):
            pb.fit(data)
        result = pb.assess(data)
    segment = (
        "portfolio"
        if "portfolio" in result.columns
        else ("segment" if "segment" in result.columns else "stage")
    )
    lines = [_rule("Portfolios and lifecycle stages (customers)"), _stage_table(result, segment)]
    if "care_model" in result.columns:
        lines += [_rule(f"Care model per {segment}"), _care_table(result, segment)]
    if "churn_risk" in result.columns:
        lines += [_rule(f"Top {n_top} churn risks and why"), _churn_table(result, segment, n_top)]
    value = result["clv"] if "clv" in result.columns else pd.Series(0.0, index=result.index)
    at_risk = (
        result["care_reasons"].astype(str).str.contains("churn risk", regex=False)
        if "care_reasons" in result.columns
        else pd.Series(False, index=result.index)
    )
    pool = value[at_risk.to_numpy(dtype=bool)] if at_risk.any() else value
    chosen = pool.sort_values(ascending=False, kind="stable").index[0]
    if isinstance(chosen, np.generic):
        chosen = chosen.item()
    plan = account_plan(data, chosen, playbook=pb)
    lines += [_rule(f"Account plan of customer {chosen}"), plan.to_markdown()]
    return "\n".join(lines)
