"""Report sections about the customer base: at a glance, concentration, lifecycle, care, churn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit.compose import distinguishing_digits, format_risk, top_risks
from crmkit.report._analyse import ReportInputs
from crmkit.report._html import FigureMaker, cards, data_table, note, section
from crmkit.report._scores import BASELINE, holdout_scores, score_verdicts

__all__ = [
    "UNIT_NAMES",
    "churn_section",
    "concentration_section",
    "glance_section",
    "lifecycle_section",
    "money",
    "pct",
    "portfolio_section",
]

#: Plural names of the time units.
UNIT_NAMES = {"D": "days", "W": "weeks", "M": "months"}

Section = tuple[str, str, str]


def money(x: Any) -> str:
    """A money amount without decimals, with thousands separators.

    Parameters
    ----------
    x : float
        The amount.

    Returns
    -------
    str

    Examples
    --------
    >>> money(1234567.8)
    '1,234,568'
    """
    v = float(x)
    return "–" if not np.isfinite(v) else f"{v:,.0f}"


def pct(x: Any, digits: int = 1) -> str:
    """A share as a percentage.

    Parameters
    ----------
    x : float
        The share (0.25 for 25 %).
    digits : int, default=1
        Decimals.

    Returns
    -------
    str

    Examples
    --------
    >>> pct(0.2534)
    '25.3%'
    """
    v = float(x)
    return "–" if not np.isfinite(v) else f"{v:.{digits}%}"


def _notes(inputs: ReportInputs, key: str) -> str:
    return "".join(note(n) for n in inputs.notes.get(key, []))


def _mode(values: pd.Series) -> Any:
    counts = values.astype(str).value_counts()
    return counts.index[0] if len(counts) else None


def _first_items(values: pd.Series) -> pd.Series:
    """The first ``;``-separated item of each text, worked out once per distinct text."""
    codes, distinct = pd.factorize(values.astype(str), use_na_sentinel=False)
    firsts = pd.Series(distinct).str.split(";").str[0].str.strip()
    out: pd.Series = firsts.take(codes)
    return out


def glance_section(inputs: ReportInputs) -> Section:
    """The customer base at a glance: customers, revenue, customer equity, concentration.

    Parameters
    ----------
    inputs : ReportInputs
        The computed report inputs.

    Returns
    -------
    (str, str, str)
        Anchor, title and HTML.

    Examples
    --------
    See :func:`crmkit.report.build_report`.
    """
    from crmkit.analysis import gini, pareto_share

    data, a = inputs.data, inputs.assessment
    view = a if a is not None else pd.DataFrame()
    revenue = view["revenue"].clip(lower=0.0) if "revenue" in view else pd.Series(dtype=float)
    items = [
        ("customers", f"{len(view):,}"),
        ("revenue to date", money(view["revenue"].sum()) if "revenue" in view else "–"),
        ("repeat buyers", pct((view["frequency"] > 0).mean()) if "frequency" in view else "–"),
    ]
    if "status" in view:
        items.append(("active customers", pct((view["status"] == "active").mean())))
    book = inputs.playbook
    if "clv" in view:
        unit = UNIT_NAMES[data.time_unit]
        items.append(
            (f"customer equity (CLV, next {book.horizon:g} {unit})", money(view["clv"].sum()))
        )
        items.append(("mean CLV per customer", money(view["clv"].mean())))
    if len(revenue) and revenue.sum() > 0:
        items.append(
            ("revenue from the top 20% of customers", pct(pareto_share(revenue, customers=0.2)))
        )
        items.append(("Gini coefficient of revenue", f"{gini(revenue):.2f}"))
    first = pd.Timestamp(data.transactions["date"].min()).date()
    text = (
        f"<p>Transactions from {first} to the analysis date {data.as_of.date()}; times in "
        f"{UNIT_NAMES[data.time_unit]}. Customer equity is the sum of every customer's "
        f"lifetime value over the horizon, discounted at {book.discount_rate:.0%} a year.</p>"
        if "clv" in view
        else f"<p>Transactions from {first} to the analysis date {data.as_of.date()}.</p>"
    )
    return (
        "glance",
        "At a glance",
        section("glance", "The customer base at a glance", cards(items) + text),
    )


def concentration_section(inputs: ReportInputs, maker: FigureMaker) -> Section:
    """Pareto curve, decile bars and the decile table of revenue.

    Parameters
    ----------
    inputs : ReportInputs
        The computed report inputs.
    maker : FigureMaker
        Draws the figures.

    Returns
    -------
    (str, str, str)

    Examples
    --------
    See :func:`crmkit.report.build_report`.
    """
    from crmkit.analysis import pareto_customers, pareto_share, pareto_table
    from crmkit.plotting import plot_decile_bars, plot_pareto_curve

    a = inputs.assessment
    title = "Value concentration"
    if a is None or "revenue" not in a or not float(a["revenue"].clip(lower=0).sum()) > 0:
        return (
            "concentration",
            title,
            section(
                "concentration",
                title,
                note("Left out: no positive revenue to divide.", omitted=True),
            ),
        )
    revenue = a["revenue"].clip(lower=0.0)
    table = pareto_table(a, by="revenue", q=min(10, len(a)), negative="clip")
    top = pareto_share(revenue, customers=0.2)
    need = pareto_customers(revenue, share=0.8)
    lead = (
        f"The top 20% of customers bring {pct(top)} of revenue; 80% of revenue comes from "
        f"{pct(need)} of the customers (the 20/80 rule would read 80% and 20%)."
    )
    figs = (
        '<div class="figures">'
        + maker.draw(
            lambda ax: plot_pareto_curve(revenue, ax=ax),
            "Share of revenue held by the top customers.",
        )
        + maker.draw(
            lambda ax: plot_decile_bars(table, ax=ax),
            "Share of revenue per revenue decile, 1 = the best customers.",
        )
        + "</div>"
    )
    shown = table[
        [
            "n_customers",
            "value",
            "value_share",
            "cum_value_share",
            "mean_value",
            "min_value",
            "max_value",
        ]
    ].rename(
        columns={
            "n_customers": "customers",
            "value": "revenue",
            "value_share": "share",
            "cum_value_share": "cumulative share",
            "mean_value": "mean",
            "min_value": "min",
            "max_value": "max",
        }
    )
    body = (
        figs
        + "<h3>Revenue by decile</h3>"
        + data_table(
            shown,
            formats={
                "revenue": money,
                "share": pct,
                "cumulative share": pct,
                "mean": money,
                "min": money,
                "max": money,
            },
        )
    )
    return "concentration", title, section("concentration", title, body, lead)


def lifecycle_section(inputs: ReportInputs, maker: FigureMaker) -> Section:
    """Lifecycle stage counts and the migration between two dates.

    Parameters
    ----------
    inputs : ReportInputs
        The computed report inputs.
    maker : FigureMaker
        Draws the figures.

    Returns
    -------
    (str, str, str)

    Examples
    --------
    See :func:`crmkit.report.build_report`.
    """
    from crmkit.plotting import plot_migration_flow, plot_migration_heatmap, plot_segment_sizes
    from crmkit.plugins import STAGES

    a = inputs.assessment
    title = "Lifecycle"
    if a is None or "stage" not in a:
        return (
            "lifecycle",
            title,
            section(
                "lifecycle",
                title,
                note("Left out: no lifecycle stages were assigned.", omitted=True),
            ),
        )
    stage = a["stage"].astype(pd.CategoricalDtype(list(STAGES)))
    grouped = a.assign(stage=stage).groupby("stage", observed=False)
    table = pd.DataFrame({"customers": grouped.size()})
    table["share"] = table["customers"] / max(len(a), 1)
    if "revenue" in a:
        total = float(a["revenue"].sum())
        table["revenue share"] = grouped["revenue"].sum() / total if total else np.nan
    for col, label in (("clv", "mean CLV"), ("p_alive", "mean P(alive)")):
        if col in a:
            table[label] = grouped[col].mean()
    if "status" in a:  # lapsed is a status within each stage
        lapsed = (a["status"].astype(object) == "lapsed").to_numpy(dtype=float)
        by_stage = a.assign(lapsed_=lapsed, stage=stage).groupby("stage", observed=False)
        table["lapsed"] = by_stage["lapsed_"].mean()
    revenue = a.get("revenue")
    body = (
        '<div class="figures">'
        + maker.draw(
            lambda ax: plot_segment_sizes(stage.rename("stage"), revenue, ax=ax),
            "Customers and revenue by lifecycle stage.",
        )
        + "</div>"
    )
    body += data_table(
        table,
        formats={
            "share": pct,
            "revenue share": pct,
            "mean CLV": money,
            "mean P(alive)": pct,
            "lapsed": pct,
        },
    )
    mig = inputs.migration
    if mig is not None and inputs.migration_start is not None:
        when = f"from {inputs.migration_start.date()} to {inputs.data.as_of.date()}"
        body += f"<h3>Stage migration {when}</h3>"
        body += (
            '<div class="figures">'
            + maker.draw(
                lambda ax: plot_migration_heatmap(mig, ax=ax),
                f"Where the customers of each stage went, {when}; (new) are "
                "customers who first bought in between.",
            )
            + maker.draw(
                lambda ax: plot_migration_flow(mig, ax=ax),
                "The same moves as flows.",
                size=(7.0, 4.5),
            )
            + "</div>"
        )
    body += _notes(inputs, "lifecycle")
    lead = (
        "Acquisition (prospects), onboarding (new customers), development (growing) and "
        "retention (mature); in every stage, the share of lapsed customers (no purchase for "
        "well beyond their usual gap, and the purchase model agrees)."
    )
    return "lifecycle", title, section("lifecycle", title, body, lead)


def portfolio_section(inputs: ReportInputs, maker: FigureMaker) -> Section:
    """Portfolios A-D with their care models.

    Parameters
    ----------
    inputs : ReportInputs
        The computed report inputs.
    maker : FigureMaker
        Draws the figures.

    Returns
    -------
    (str, str, str)

    Examples
    --------
    See :func:`crmkit.report.build_report`.
    """
    from crmkit.plotting import plot_segment_sizes
    from crmkit.segmentation import PORTFOLIOS

    a = inputs.assessment
    title = "Portfolios and care"
    if a is None or "portfolio" not in a:
        return (
            "portfolio",
            title,
            section(
                "portfolio",
                title,
                note(
                    "Left out: no portfolio was assigned (it needs customer lifetime values).",
                    omitted=True,
                )
                + _notes(inputs, "portfolio"),
            ),
        )
    rows = []
    total = float(a["revenue"].sum()) if "revenue" in a else 0.0
    grouped = a.groupby("portfolio", observed=True, sort=True)
    firsts = _first_items(a["activities"]) if "activities" in a else None
    for label, group in grouped:
        row: dict[str, Any] = {"meaning": PORTFOLIOS.get(str(label), ""), "customers": len(group)}
        if total:
            row["revenue share"] = float(group["revenue"].sum()) / total
        if "clv" in group:
            row["mean CLV"] = float(group["clv"].mean())
        for col, name in (
            ("intensity", "main intensity"),
            ("channel", "channel"),
            ("owner_role", "owner"),
        ):
            if col in group:
                row[name] = _mode(group[col])
        if "cadence_days" in group:
            row["contact every (days)"] = int(group["cadence_days"].median())
        if firsts is not None:
            row["typical activity"] = _mode(firsts.iloc[grouped.indices[label]])
        rows.append(pd.Series(row, name=str(label)))
    table = pd.DataFrame(rows)
    table.index.name = "portfolio"
    value = a["clv"].rename("clv") if "clv" in a else None
    body = (
        '<div class="figures">'
        + maker.draw(
            lambda ax: plot_segment_sizes(a["portfolio"].rename("portfolio"), value, ax=ax),
            "Customers and customer lifetime value by portfolio.",
        )
        + "</div>"
    )
    body += data_table(table, formats={"revenue share": pct, "mean CLV": money})
    body += _notes(inputs, "portfolio")
    lead = (
        "A: high value, contract customers with a care and activity plan; B: room to grow; "
        "C: contacted as needed, developed toward B; D: watched for growth."
    )
    return "portfolio", title, section("portfolio", title, body, lead)


def churn_section(inputs: ReportInputs, maker: FigureMaker, top_n: int) -> Section:
    """The customers most at risk, with the signals behind the risk.

    Parameters
    ----------
    inputs : ReportInputs
        The computed report inputs.
    maker : FigureMaker
        Draws the figures.
    top_n : int
        Customers listed.

    Returns
    -------
    (str, str, str)

    Examples
    --------
    See :func:`crmkit.report.build_report`.
    """
    from crmkit.plotting import plot_churn_lift, plot_churn_roc

    a = inputs.assessment
    title = "Churn risks"
    if a is None or "churn_risk" not in a:
        return (
            "churn",
            title,
            section(
                "churn",
                title,
                note("Left out: no churn detector could run on these records.", omitted=True),
            ),
        )
    top = top_risks(a, top_n)
    cols = {
        "churn_risk": "churn risk",
        "value_at_risk": "value at risk",
        "churn_reasons": "reasons",
        "stage": "stage",
        "portfolio": "portfolio",
        "revenue": "revenue",
        "clv": "CLV",
        "care_model": "care model",
        "owner_role": "owner",
    }
    shown = top[[c for c in cols if c in top]].rename(columns=cols)
    shown.index.name = "customer"
    detectors = inputs.playbook.plugins_.get("churn", ())
    used = [s for d in detectors for s in getattr(d, "signals_", ())]
    lead = (
        f"The {len(top)} customers with the highest churn risk (ties broken by the value at "
        "risk, CLV × churn risk), and the signals behind it (strongest first)."
    )
    digits = max(distinguishing_digits(top["churn_risk"] * 100, start=1, most=4), 1)
    body = data_table(
        shown,
        formats={
            "churn risk": lambda x: format_risk(x, digits, percent=True),
            "value at risk": money,
            "revenue": money,
            "CLV": money,
        },
    )
    if used:
        body += note(
            "Signals the records could feed: " + ", ".join(used) + ". Signals from "
            "feedback, complaints, contacts and address changes need those records."
        )
    hold = inputs.holdout
    if hold is not None:
        bought = hold.cal_hold["frequency_holdout"].reindex(a.index)
        known = bought.notna().to_numpy()
        lost = (bought[known] == 0).astype(bool)
        risk: Any = {"churn risk": a.loc[known, "churn_risk"]}
        if "p_alive" in a:
            risk["1 − P(alive)"] = 1.0 - a.loc[known, "p_alive"]
        if "days_since_last" in a:
            risk[BASELINE] = a.loc[known, "days_since_last"].astype(float)
        if 0 < int(lost.sum()) < len(lost) and len(lost) >= 10:
            body += (
                f"<h3>Risk against the holdout (to {hold.end.date()})</h3><p>A customer "
                "counts as churned when it made no purchase in the holdout period.</p>"
            )
            checks = holdout_scores(a, bought)
            if checks is not None:
                body += "<p>Each score against a simple baseline: the days since the last "
                body += "purchase. AUC 0.5 is chance.</p>" + data_table(
                    checks,
                    formats={"AUC": "{:.3f}".format, "top-decile lift": "{:.2f}".format},
                )
                for text in score_verdicts(checks):
                    body += note(text)
            body += (
                '<div class="figures">'
                + maker.draw(
                    lambda ax: plot_churn_lift(risk["churn risk"], lost, ax=ax),
                    "Churn rate per churn-risk decile over the base rate.",
                )
                + maker.draw(
                    lambda ax: plot_churn_roc(risk, lost, ax=ax),
                    "ROC curves of the churn risk and, for comparison, of the "
                    "purchase model's 1 − P(alive) and of the days since the last purchase.",
                    size=(4.8, 4.5),
                )
                + "</div>"
            )
    body += _notes(inputs, "churn")
    return "churn", title, section("churn", title, body, lead)
