"""HTML for notebook display (``_repr_html_``) of models, plans and assessments.

Every function returns a small, self-contained HTML fragment (inline styles
only, no scripts) in which every piece of text coming from data or user
input is escaped. Objects are read by duck typing, so this module imports
nothing from the rest of crmkit and any layer may delegate to it.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

__all__ = [
    "account_plan_html",
    "assessment_html",
    "care_plan_html",
    "escape",
    "format_value",
    "html_table",
    "playbook_html",
    "value_model_html",
]

_BOX = (
    "font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; font-size: 13px; "
    "line-height: 1.4; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; "
    "margin: 4px 0; max-width: 60em"
)
_TABLE = "border-collapse: collapse; margin: 4px 0 8px 0"
_CELL = "padding: 2px 10px; border-bottom: 1px solid #eaeef2; text-align: left"
_NUM = "padding: 2px 10px; border-bottom: 1px solid #eaeef2; text-align: right"
_HEAD = "padding: 2px 10px; border-bottom: 2px solid #d0d7de; text-align: left"
_TITLE = "font-weight: 600; font-size: 14px; margin-bottom: 4px"
_NOTE = "color: #57606a"


def escape(value: Any) -> str:
    """Text of ``value`` made safe for HTML (``<``, ``>``, ``&`` and quotes escaped).

    Parameters
    ----------
    value : object
        Anything; ``str(value)`` is escaped.

    Returns
    -------
    str

    Examples
    --------
    >>> escape("<b>Smith & Co</b>")
    '&lt;b&gt;Smith &amp; Co&lt;/b&gt;'
    """
    return html.escape(str(value), quote=True)


def format_value(value: Any, *, digits: int = 4) -> str:
    """A readable, escaped rendering of one value.

    Parameters
    ----------
    value : object
        None and NaN become an en dash; bools yes/no; integers get thousands
        separators; floats ``digits`` significant digits (or two decimals
        with separators from 10,000 up); enums their value; dates ISO;
        sequences are joined with commas.
    digits : int, default=4
        Significant digits of floats.

    Returns
    -------
    str
        Escaped HTML text.

    Examples
    --------
    >>> format_value(12345.678), format_value(0.24259), format_value(None), format_value(True)
    ('12,345.68', '0.2426', '–', 'yes')
    """
    if value is None:
        return "–"
    if isinstance(value, Enum):
        return escape(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if abs(value) >= 1e4:
            return f"{value:,.2f}"
        return f"{value:.{digits}g}"
    if isinstance(value, (dt.date, dt.datetime)):
        return escape(value.isoformat())
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(v, digits=digits) for v in value) if value else "–"
    number = _as_number(value)
    if number is not None:
        return format_value(number, digits=digits)
    return escape(value)


def _as_number(value: Any) -> int | float | None:
    """numpy scalars (and anything with ``item()`` giving a number) as Python numbers."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        out = item()
        if isinstance(out, (bool, int, float)):
            return out
    return None


def html_table(
    rows: Iterable[Sequence[Any]],
    header: Sequence[str] | None = None,
    *,
    numeric: Sequence[bool] | None = None,
) -> str:
    """An HTML table of already formatted cells (cells are escaped unless pre-rendered).

    Parameters
    ----------
    rows : iterable of sequences
        Cell values; each is rendered with :func:`format_value`.
    header : sequence of str, optional
        Column titles.
    numeric : sequence of bool, optional
        Which columns to right-align; default columns whose first cell is a
        number.

    Returns
    -------
    str

    Examples
    --------
    >>> html_table([["r", 0.5]], ["param", "estimate"])  # doctest: +ELLIPSIS
    '<table ...><thead><tr><th ...>param</th><th ...>estimate</th></tr></thead><tbody>...'
    """
    body = [list(r) for r in rows]
    if numeric is None:
        first = body[0] if body else []
        numeric = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in first]
    parts = [f'<table style="{_TABLE}">']
    if header is not None:
        parts.append(
            "<thead><tr>"
            + "".join(f'<th style="{_HEAD}">{escape(h)}</th>' for h in header)
            + "</tr></thead>"
        )
    parts.append("<tbody>")
    for row in body:
        cells = []
        for k, v in enumerate(row):
            style = _NUM if k < len(numeric) and numeric[k] else _CELL
            cells.append(f'<td style="{style}">{format_value(v)}</td>')
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _box(title: str, body: str, css_class: str) -> str:
    return (
        f'<div class="crmkit-repr {css_class}" style="{_BOX}">'
        f'<div style="{_TITLE}">{escape(title)}</div>{body}</div>'
    )


def _note(text: str) -> str:
    return f'<div style="{_NOTE}">{escape(text)}</div>'


def _section(title: str) -> str:
    return f'<div style="font-weight: 600; margin-top: 6px">{escape(title)}</div>'


def _bullets(items: Sequence[Any]) -> str:
    if not items:
        return _note("none")
    return (
        '<ul style="margin: 2px 0 6px 0; padding-left: 20px">'
        + "".join(f"<li>{format_value(i)}</li>" for i in items)
        + "</ul>"
    )


def value_model_html(model: Any) -> str:
    """HTML card of a value model: parameters with standard errors and the fit's diagnostics.

    Parameters
    ----------
    model : ValueModel
        A crmkit value model (fitted or not); read through ``summary()``,
        ``log_likelihood_``, ``n_customers_``, ``converged_``, ``n_iter_``
        and ``get_params()``.

    Returns
    -------
    str

    Examples
    --------
    >>> from crmkit.value import BetaGeo
    >>> "not fitted" in value_model_html(BetaGeo())
    True
    >>> text = value_model_html(BetaGeo.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4))
    >>> "alpha" in text and "log-likelihood" in text
    True
    """
    name = type(model).__name__
    params = model.get_params() if hasattr(model, "get_params") else {}
    hyper = ", ".join(f"{k}={v!r}" for k, v in params.items())
    title = f"{name}({hyper})"
    if not hasattr(model, "params_"):
        return _box(title, _note("not fitted: call fit(view) first"), "crmkit-model")
    table = model.summary()
    rows = [
        [str(idx), *[float(v) for v in row]]
        for idx, row in zip(table.index, table.to_numpy(dtype=float), strict=True)
    ]
    header = ["parameter", *[str(c).replace("_", " ") for c in table.columns]]
    body = html_table(rows, header, numeric=[False] + [True] * len(table.columns))
    diag = [
        ["log-likelihood", float(getattr(model, "log_likelihood_", math.nan))],
        ["customers", float(getattr(model, "n_customers_", math.nan))],
        ["converged", bool(getattr(model, "converged_", False))],
        ["iterations", int(getattr(model, "n_iter_", 0))],
    ]
    body += html_table(diag, numeric=[False, True])
    if getattr(model, "n_customers_", 1.0) == 0:
        body += _note("built from given parameters (from_params): no fit diagnostics")
    elif not getattr(model, "converged_", True):
        body += _note("warning: the optimiser did not converge")
    return _box(title, body, "crmkit-model")


def care_plan_html(plan: Any) -> str:
    """HTML card of a :class:`~crmkit.domain.CarePlan`.

    Parameters
    ----------
    plan : CarePlan
        The plan.

    Returns
    -------
    str

    Examples
    --------
    >>> from crmkit.domain import CarePlan
    >>> p = CarePlan(care_model="A", intensity="high", cadence_days=30, channel="visit",
    ...              owner_role="key account manager", activities=["<annual> review"])
    >>> "&lt;annual&gt; review" in care_plan_html(p)
    True
    """
    rows = [
        ["care model", plan.care_model],
        ["intensity", plan.intensity],
        ["contact every", f"{int(plan.cadence_days)} days"],
        ["channel", plan.channel],
        ["owner", plan.owner_role],
        ["share of care budget", f"{float(plan.budget_share):.1%}"],
    ]
    body = html_table(rows, numeric=[False, False])
    body += _section("Activities") + _bullets(list(plan.activities))
    if plan.reasons:
        body += _section("Why") + _bullets(list(plan.reasons))
    return _box(f"Care plan: {plan.care_model}", body, "crmkit-care-plan")


def account_plan_html(plan: Any) -> str:
    """HTML card of an :class:`~crmkit.domain.AccountPlan` (the sections of its Markdown).

    Parameters
    ----------
    plan : AccountPlan
        The plan.

    Returns
    -------
    str

    Examples
    --------
    >>> from crmkit.domain import AccountPlan
    >>> plan = AccountPlan(customer_id="C1", situation={"revenue": 12000.0},
    ...                    buying_process=[("Anna <CEO>", "decider", True)])
    >>> text = account_plan_html(plan)
    >>> "12,000.00" in text and "Anna &lt;CEO&gt;" in text
    True
    """
    body = _section("Current situation")
    situation = dict(plan.situation)
    body += (
        html_table([[k, v] for k, v in situation.items()], numeric=[False, False])
        if situation
        else _note("none")
    )
    body += _section("Short-term goals") + _bullets(list(plan.short_term_goals))
    body += _section("Long-term goals") + _bullets(list(plan.long_term_goals))
    body += _section("Development points") + _bullets(list(plan.development_points))
    body += _section("Buying process")
    body += (
        html_table(
            [[c, r, d] for c, r, d in plan.buying_process],
            ["contact", "role", "decision maker"],
            numeric=[False] * 3,
        )
        if plan.buying_process
        else _note("none")
    )
    body += _section("Next steps")
    body += (
        html_table(
            [
                [s.action, s.owner_role, int(s.due_in_days), s.reason or None]
                for s in plan.next_steps
            ],
            ["action", "owner", "due in (days)", "reason"],
            numeric=[False, False, True, False],
        )
        if plan.next_steps
        else _note("none")
    )
    return _box(f"Account plan: {plan.customer_id}", body, "crmkit-account-plan")


def assessment_html(assessment: Any) -> str:
    """HTML card of a :class:`~crmkit.domain.CustomerAssessment`.

    Parameters
    ----------
    assessment : CustomerAssessment
        The assessment.

    Returns
    -------
    str

    Examples
    --------
    >>> from crmkit.domain import CustomerAssessment
    >>> a = CustomerAssessment(customer_id="C1", stage="retention", p_alive=0.42,
    ...                        churn_risk=0.7, churn_reasons=["complaint open"])
    >>> text = assessment_html(a)
    >>> "retention" in text and "complaint open" in text and "70.0%" in text
    True
    """
    a = assessment

    def pct(v: float | None) -> str | None:
        return None if v is None else f"{v:.1%}"

    rows = [
        ["stage", a.stage.value],
        ["status", a.status.value],
        ["customer lifetime value", a.clv],
        ["P(alive)", pct(a.p_alive)],
        ["loyalty", a.loyalty],
        ["segment", a.segment],
        ["portfolio", a.portfolio],
        ["churn risk", pct(a.churn_risk)],
    ]
    body = html_table(rows, numeric=[False, False])
    if a.stage_reasons:
        body += _section("Stage") + _bullets(list(a.stage_reasons))
    if a.churn_reasons:
        body += _section("Churn signals") + _bullets(list(a.churn_reasons))
    if a.care_plan is not None:
        body += care_plan_html(a.care_plan)
    return _box(f"Customer {a.customer_id}", body, "crmkit-assessment")


def _describe_step(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    name = type(value).__name__
    get = getattr(value, "get_params", None)
    if callable(get):
        params = get()
        if isinstance(params, Mapping) and params:
            return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"
    return f"{name}()"


def playbook_html(playbook: Any, steps: Mapping[str, Any] | None = None) -> str:
    """HTML card of a playbook: its steps, their settings and whether it is fitted.

    Parameters
    ----------
    playbook : object
        A :class:`crmkit.compose.Playbook` (or any estimator-like object).
    steps : mapping of str to object, optional
        The steps to list (name -> plugin, model or registry name); default
        the playbook's ``get_params(deep=False)``.

    Returns
    -------
    str

    Examples
    --------
    >>> class Book:
    ...     def get_params(self, deep=False):
    ...         return {"segmenter": "rfm", "churn": "signals"}
    >>> text = playbook_html(Book())
    >>> "segmenter" in text and "rfm" in text and "not fitted" in text
    True
    """
    if steps is None:
        get = getattr(playbook, "get_params", None)
        steps = dict(get(deep=False)) if callable(get) else {}
    rows = [[name, _describe_step(value)] for name, value in steps.items()]
    body = (
        html_table(rows, ["step", "setting"], numeric=[False, False]) if rows else _note("no steps")
    )
    order = getattr(playbook, "order_", None)
    if order is None:
        return _box(
            type(playbook).__name__,
            body + _note("not fitted: call fit(...) first"),
            "crmkit-playbook",
        )
    fitted = [["plugin steps, in order", " → ".join(str(s) for s in order)]]
    unit = getattr(playbook, "time_unit_", None)
    if unit is not None:
        fitted.append(["time unit", unit])
    for attr, label in (("purchase_model_", "purchase model"), ("spend_model_", "spend model")):
        model = getattr(playbook, attr, None)
        if model is not None:
            ll = getattr(model, "log_likelihood_", None)
            text = type(model).__name__
            if isinstance(ll, float) and math.isfinite(ll):
                text += f" (log-likelihood {ll:,.1f})"
            fitted.append([label, text])
    body += _section("Fitted") + html_table(fitted, numeric=[False, False])
    return _box(type(playbook).__name__, body, "crmkit-playbook")
