"""Report sections about the models: value, holdout tracking, customer pulse, the data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit._version import __version__
from crmkit.report._analyse import ReportInputs
from crmkit.report._html import FigureMaker, cards, data_table, note, section
from crmkit.report._sections import UNIT_NAMES, pct

__all__ = ["about_section", "holdout_section", "pulse_section", "value_section"]

Section = tuple[str, str, str]


def _notes(inputs: ReportInputs, key: str) -> str:
    return "".join(note(n) for n in inputs.notes.get(key, []))


def _model_table(model: Any) -> str:
    table = model.summary()
    shown = table.rename(
        columns={
            "estimate": "estimate",
            "se": "std. error",
            "lower_95": "95% low",
            "upper_95": "95% high",
        }
    )
    fit = (
        f"<p>{type(model).__name__}: log-likelihood {model.log_likelihood_:,.1f} on "
        f"{model.n_customers_:,.0f} customers; "
        + ("converged" if model.converged_ else "did NOT converge")
        + ".</p>"
    )
    return fit + data_table(shown, formats={c: "{:.4g}".format for c in shown.columns})


def value_section(inputs: ReportInputs, maker: FigureMaker) -> Section:
    """Customer value: the fitted models, the CLV distribution and the P(alive) matrix.

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
    from crmkit.plotting import plot_clv_distribution, plot_p_alive_matrix, plot_purchase_pmf

    a = inputs.assessment
    book = inputs.playbook
    model = getattr(book, "purchase_model_", None)
    title = "Customer value"
    if a is None or model is None or "clv" not in a:
        return (
            "value",
            title,
            section(
                "value",
                title,
                note("Left out: no purchase model could be fitted.", omitted=True)
                + _notes(inputs, "value"),
            ),
        )
    unit = UNIT_NAMES[inputs.data.time_unit]
    lead = (
        f"Customer lifetime value over the next {book.horizon:g} {unit} (discounted at "
        f"{book.discount_rate:.0%} a year) from a {type(model).__name__} purchase model and "
        "a spend model fitted on every customer's history."
    )
    top = int(min(max(7.0, float(np.quantile(a["frequency"], 0.75))), 15.0))
    figs = (
        '<div class="figures">'
        + maker.draw(
            lambda ax: plot_clv_distribution(a["clv"], ax=ax),
            "How customer lifetime value is spread over the customers.",
        )
        + maker.draw(
            lambda ax: plot_p_alive_matrix(model, a, ax=ax),
            "Probability that a customer is still active, by how often it bought "
            "(frequency) and when it last bought (recency).",
            size=(6.4, 4.4),
        )
        + maker.draw(
            lambda ax: plot_purchase_pmf(model, a, max_frequency=top, ax=ax),
            "Customers by number of repeat purchases: the data against the "
            "model (a check of the fit).",
        )
        + "</div>"
    )
    body = figs + "<h3>Purchase model</h3>" + _model_table(model)
    spend = getattr(book, "spend_model_", None)
    if spend is not None and hasattr(spend, "summary"):
        body += "<h3>Spend model</h3>" + _model_table(spend)
    body += _notes(inputs, "value")
    return "value", title, section("value", title, body, lead)


def holdout_section(inputs: ReportInputs, maker: FigureMaker) -> Section:
    """Predicted against actual repeat purchases after the analysis date.

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
    from crmkit.plotting import plot_holdout_by_frequency, plot_tracking

    hold = inputs.holdout
    title = "Holdout tracking"
    if hold is None or hold.tracking is None:
        why = _notes(inputs, "holdout") or note("Left out: no purchase model to track.")
        return (
            "holdout",
            title,
            section(
                "holdout",
                title,
                note(
                    "Left out: predictions can be checked only against a holdout period.",
                    omitted=True,
                )
                + why,
            ),
        )
    unit = UNIT_NAMES[inputs.data.time_unit]
    tracking = hold.tracking.rename_axis(f"{unit} since the first purchase")
    cal_end, ev = hold.calibration_end_t, hold.evaluation
    items = [
        ("holdout period", f"{inputs.data.as_of.date()} – {hold.end.date()}"),
        ("repeat purchases, actual", f"{ev.total_actual:,.0f}"),
        ("repeat purchases, predicted", f"{ev.total_predicted:,.0f}"),
    ]
    if ev.aggregate_error is not None:
        items.append(("aggregate error", f"{ev.aggregate_error:+.1f}%"))
    items.append(("mean absolute error per customer", f"{ev.mae:.3f}"))
    body = cards(items) + (
        '<div class="figures">'
        + maker.draw(
            lambda ax: plot_tracking(tracking, calibration_end=cal_end, ax=ax),
            f"Cumulative repeat purchases, {unit} since the first "
            "purchase of the base; the dotted line ends the "
            "calibration period.",
            size=(7.0, 3.8),
        )
        + maker.draw(
            lambda ax: plot_tracking(tracking, cumulative=False, calibration_end=cal_end, ax=ax),
            f"Repeat purchases per {unit[:-1]}.",
            size=(7.0, 3.8),
        )
        + maker.draw(
            lambda ax: plot_holdout_by_frequency(ev, ax=ax),
            "Mean holdout purchases by calibration frequency.",
        )
        + "</div>"
    )
    body += _notes(inputs, "holdout")
    lead = (
        "The purchase model, fitted on the records up to the analysis date, against what "
        "the customers bought afterwards."
    )
    return "holdout", title, section("holdout", title, body, lead)


def pulse_section(inputs: ReportInputs, maker: FigureMaker) -> Section:
    """The NPS customer pulse: a rolling NPS with drop alarms.

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
    from crmkit.plotting import plot_nps_pulse

    pulse, table = inputs.pulse, inputs.nps
    title = "Customer pulse"
    if pulse is None or table is None:
        return (
            "pulse",
            title,
            section(
                "pulse",
                title,
                _notes(inputs, "pulse").replace('class="note"', 'class="note omitted"'),
            ),
        )
    row = table.iloc[0]
    items = [
        ("NPS, all answers", f"{row['nps']:+.0f}"),
        ("95% interval", f"{row['nps_low']:+.0f} to {row['nps_high']:+.0f}"),
        ("answers", f"{int(row['n']):,}"),
        (
            "promoters / detractors",
            f"{pct(row['pct_promoters'] / 100, 0)} / {pct(row['pct_detractors'] / 100, 0)}",
        ),
    ]
    drops = pulse.index[pulse["significant_drop"].to_numpy(dtype=bool)]
    body = cards(items) + (
        '<div class="figures">'
        + maker.draw(
            lambda ax: plot_nps_pulse(pulse, ax=ax),
            "NPS over a trailing 90-day window at each month end, with its confidence interval; "
            "triangles mark significant drops against the window before.",
            size=(7.0, 3.6),
        )
        + "</div>"
    )
    if len(drops):
        body += note("Significant drops on " + ", ".join(str(d.date()) for d in drops) + ".")
    lead = "Net Promoter Score: % promoters (9-10) minus % detractors (0-6)."
    return "pulse", title, section("pulse", title, body, lead)


def about_section(inputs: ReportInputs) -> Section:
    """The records read, rows left out, warnings and the settings used.

    Parameters
    ----------
    inputs : ReportInputs
        The computed report inputs.

    Returns
    -------
    (str, str, str)

    Examples
    --------
    See :func:`crmkit.report.build_report`.
    """
    data = inputs.data
    rep = data.report
    rows = pd.DataFrame({"rows received": pd.Series(dict(rep.n_rows), dtype=np.int64)})
    rows.index.name = "records"
    body = data_table(rows) if len(rows) else ""
    for d in rep.dropped:
        body += note(f"{d.n_rows:,} {d.kind} rows left out: {d.reason}.")
    for text in dict.fromkeys([*rep.notes, *inputs.data_warnings]):
        body += note(text.removeprefix("crmkit: "))
    book = inputs.playbook
    params = book.get_params(deep=False)
    steps = pd.DataFrame(
        {"setting": [_describe(v) for v in params.values()]},
        index=pd.Index(list(params), name="playbook"),
    )
    body += "<h3>Settings</h3>" + data_table(steps)
    resolved = getattr(book, "resolved_", None)
    if resolved:
        chosen = pd.DataFrame(
            {"chosen": list(resolved.values())}, index=pd.Index(list(resolved), name="step")
        )
        body += "<h3>Steps the playbook chose from the records</h3>" + data_table(chosen)
    body += (
        f"<p>Analysis date {data.as_of.date()}, time unit "
        f"{UNIT_NAMES[data.time_unit]}; crmkit {__version__}.</p>"
    )
    return "about", "About the data", section("about", "About the data", body)


def _describe(value: Any) -> str:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_describe(v) for v in value)
    get = getattr(value, "get_params", None)
    if callable(get):
        params = {k: v for k, v in get(deep=False).items() if v is not None}
        inner = ", ".join(f"{k}={v!r}" for k, v in params.items())
        return f"{type(value).__name__}({inner})"
    return type(value).__name__
