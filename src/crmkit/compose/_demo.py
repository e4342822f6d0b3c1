"""``demo_sections``: the playbook part of ``crmkit demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmkit.compose._account_plan import account_plan
from crmkit.compose._playbook import Playbook
from crmkit.compose._ranking import distinguishing_digits, format_risk, top_risks
from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError

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


#: Widest line of the demo's tables (a terminal of 100 columns).
WIDTH = 100


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _first_reasons(text: str) -> str:
    """The main reason by name and score, and how many others: ``dropout (0.93) +2``."""
    parts = [p.split(":")[0].strip() for p in text.split("; ") if p]
    return (parts[0] if parts else "") + (f" +{len(parts) - 1}" if len(parts) > 1 else "")


def _churn_table(result: pd.DataFrame, segment: str, n_top: int) -> str:
    top = top_risks(result, n_top)
    cols = [segment, "stage", "churn_risk", "churn_reasons"]
    cols[3:3] = [c for c in ("value_at_risk",) if c in top.columns]
    shown = top[cols].copy()
    shown["churn_reasons"] = top["churn_reasons"].astype(str).map(_first_reasons)
    shown = shown.rename(columns={"churn_risk": "risk", "churn_reasons": "main reason (+others)",
                                  "value_at_risk": "value at risk"})
    digits = distinguishing_digits(top["churn_risk"])
    formats = {
        "risk": lambda x: format_risk(x, digits),
        "value at risk": "{:,.0f}".format,
    }
    text = str(shown.to_string(formatters=formats))
    if "activities" in top.columns:  # the first action, cut to fit the terminal
        room = WIDTH - 2 - max(len(line) for line in text.splitlines())
        if room >= 16:
            shown["first action"] = (top["activities"].astype(str).str.split("; ").str[0]
                                     .map(lambda a: _short(a, room)))
            text = str(shown.to_string(formatters=formats))
    return text


def demo_sections(
    crm: Any,
    *,
    playbook: Playbook | None = None,
    n_top: int = 8,
    plan_out: str | Path | None = None,
) -> str:
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
    3. the account plan of the most valuable customer at risk (the
       highest CLV among customers whose care plan holds a churn
       override), or of the most valuable customer when nobody is at risk:
       its next steps, and the full plan as Markdown written to
       ``plan_out`` when given.

    Every line fits a terminal of 100 columns.

    Parameters
    ----------
    crm : SyntheticCRM or CustomerData
        E.g. ``crmkit.datasets.make_crm(2000)`` (its ``data`` is used).
    playbook : Playbook, optional
        The playbook to use; an unfitted one is fitted on the data.
    n_top : int, default=8
        Rows of the churn table.
    plan_out : str or Path, optional
        Write the account plan (Markdown) to this file.

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
    >>> "Portfolios and lifecycle stages" in text and "Account plan of customer" in text
    True
    >>> max(len(line) for line in text.splitlines()) <= 100
    True
    """
    pb = playbook if playbook is not None else Playbook()
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
    lines += [_rule(f"Account plan of customer {chosen}"), "next steps:"]
    lines += [_short(f"  - {s.action} ({s.owner_role}, within {s.due_in_days} days)", WIDTH)
              for s in plan.next_steps]
    if plan_out is not None:
        Path(plan_out).write_text(plan.to_markdown() + "\n", encoding="utf-8")
        lines.append(f"the full account plan (Markdown): {plan_out}")
    else:
        lines.append("the full account plan (Markdown): crmkit demo --plan-out plan.md")
    return "\n".join(lines)
