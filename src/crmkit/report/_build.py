"""``build_report`` and ``write_report``: the customer-base report as one HTML file."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from crmkit._params import Interval, validate_args
from crmkit._version import __version__
from crmkit.compose import LARGE, StepBar, step_bar
from crmkit.data import ColumnMap
from crmkit.plotting import require_matplotlib
from crmkit.report._analyse import analyse, as_customer_data, capture_data_warnings
from crmkit.report._html import FigureMaker, page
from crmkit.report._sections import (
    UNIT_NAMES,
    churn_section,
    concentration_section,
    glance_section,
    lifecycle_section,
    portfolio_section,
)
from crmkit.report._sections_model import (
    about_section,
    holdout_section,
    pulse_section,
    value_section,
)

__all__ = ["build_report", "write_report"]


@validate_args(
    {
        "title": [str],
        "top_n": [Interval("int", 1, None)],
        "migration_days": [Interval("int", 1, None)],
    }
)
def build_report(
    data: Any,
    *,
    holdout: Any = None,
    holdout_end: Any = None,
    columns: ColumnMap | Mapping[str, str] | None = None,
    as_of: Any = None,
    time_unit: str = "W",
    playbook: Any = None,
    title: str = "Customer base report",
    top_n: int = 15,
    migration_days: int = 91,
    progress: Callable[[str], None] | bool | None = None,
) -> str:
    """The customer-base report: one self-contained HTML page a manager can open.

    Sections: the customer base at a glance (customers, revenue, customer
    equity, concentration), value concentration (Pareto curve, decile bars
    and table), customer value (CLV distribution, P(alive) matrix, the
    fitted models), lifecycle (stage counts, stage migration as a heat map
    and as flows), portfolios A-D and their care models, the customers most
    at risk of churning with the reasons, holdout tracking (when a holdout
    is given: cumulative and per-period purchases, predicted against
    actual, and the churn risk's lift and ROC against the holdout), the NPS
    customer pulse (when there are NPS answers), and the records and
    settings used. A section whose inputs are missing says so instead (the
    CDNOW data, for one, has no feedback).

    The figures are drawn with matplotlib as inline SVG; the page has no
    external assets (styles and a small script inline), so the file can be
    mailed or archived as it is. Data warnings raised on the way are listed
    in the report instead of being printed.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Validated records, or a transactions frame (validated here with
        ``columns``, ``as_of`` and ``time_unit``).
    holdout : DataFrame or CustomerData, optional
        Transactions after the analysis date, same columns as ``data``'s (a
        frame of all transactions may be given: rows on or before the
        analysis date are ignored).
    holdout_end : date-like, optional
        Last day of the holdout period (default its last transaction day).
    columns : ColumnMap or mapping, optional
        Column mapping of transactions frames.
    as_of : date-like, optional
        Analysis date of a transactions frame (default its last day).
    time_unit : {"D", "W", "M"}, default="W"
        Time unit of a transactions frame.
    playbook : Playbook, optional
        The :class:`crmkit.compose.Playbook` to assess the customers with
        (a copy of an unfitted one is fitted; a fitted one is used as it
        is). Default: the default playbook with the churn signals the
        records can feed.
    title : str, default="Customer base report"
        Page title.
    top_n : int, default=15
        Customers listed in the churn-risk table.
    migration_days : int, default=91
        Stage migration from this many days before the analysis date.
    progress : callable or bool, optional
        A callable is called with a short description before each long
        step (for progress displays). Otherwise a tqdm progress bar over
        the steps (``pip install 'crmkit[progress]'``; silent without
        tqdm): by default on a terminal or in a notebook, ``True`` always,
        ``False`` never.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    SchemaError
        For invalid records.
    InvalidParameterError
        For bad parameters.
    ImportError
        When matplotlib is not installed (``pip install 'crmkit[plot]'``).

    See Also
    --------
    write_report : build and save in one step.

    Examples
    --------
    >>> from crmkit.datasets import load_cdnow
    >>> tx = load_cdnow().head(400)  # the first customers of CDNOW, all purchases
    >>> html = build_report(tx, as_of="1997-09-30", holdout=tx, top_n=5)
    >>> html.startswith("<!DOCTYPE html>") and "repeat purchases, predicted" in html
    True
    >>> "<script src" in html or "<link" in html  # no external assets
    False
    """
    require_matplotlib()
    bar: StepBar | None = None
    if callable(progress):
        say = progress
    else:  # long work: a bar on terminals and in notebooks unless progress=False
        bar = step_bar(progress, LARGE, "crmkit report")
        say = bar.step
    seen: list[str] = []
    with capture_data_warnings(seen):
        say("validating the records")
        records = as_customer_data(data, columns=columns, as_of=as_of, time_unit=time_unit)
    inputs = analyse(
        records,
        holdout=holdout,
        holdout_end=holdout_end,
        columns=columns,
        playbook=playbook,
        migration_days=migration_days,
        progress=say,
    )
    if seen:
        merged = tuple(dict.fromkeys([*seen, *inputs.data_warnings]))
        inputs = attrs.evolve(inputs, data_warnings=merged)
    say("drawing the figures")
    maker = FigureMaker()
    sections = [
        glance_section(inputs),
        concentration_section(inputs, maker),
        value_section(inputs, maker),
        lifecycle_section(inputs, maker),
        portfolio_section(inputs, maker),
        churn_section(inputs, maker, top_n),
        holdout_section(inputs, maker),
        pulse_section(inputs, maker),
        about_section(inputs),
    ]
    n = len(inputs.assessment) if inputs.assessment is not None else records.n_customers
    subtitle = (
        f"{n:,} customers as of {records.as_of.date()} · times in {UNIT_NAMES[records.time_unit]}"
    )
    footer = (
        f"Made with crmkit {__version__}. Customer lifetime value, P(alive) and expected "
        "purchases come from probability models fitted to the purchase histories; they "
        "are estimates, not certainties."
    )
    if bar is not None:
        bar.close()
    return page(title, subtitle, sections, footer)


def write_report(path: str | os.PathLike[str], data: Any, **kwargs: Any) -> Path:
    """Build the report (see :func:`build_report`) and write it as UTF-8 HTML.

    Parameters
    ----------
    path : str or path-like
        Where to write (e.g. ``"report.html"``); parent directories must exist.
    data : CustomerData or DataFrame
        The records.
    **kwargs
        Passed to :func:`build_report`.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OSError
        When the file cannot be written.
    SchemaError
        For invalid records.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [5.0, 6.0, 7.0],
    ...                    "date": ["2024-01-01", "2024-01-02", "2024-01-09"]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report(out, tx).stat().st_size > 10_000
    True
    """
    html = build_report(data, **kwargs)
    target = Path(path)
    target.write_text(html, encoding="utf-8")
    return target
