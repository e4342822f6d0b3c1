"""The data subcommands of ``crmkit``: summarize, fit, assess, report."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmkit._cli._data import Loaded, add_data_arguments, load_records, source_name
from crmkit._cli._io import InputError, write_output
from crmkit._cli._progress import Progress
from crmkit._cli._safety import check_outputs

__all__ = ["COMMANDS", "MODELS", "add_commands", "parse_playbook_spec"]

#: Models ``crmkit fit`` knows, by name.
MODELS: tuple[str, ...] = ("bgnbd", "paretonbd", "mbgnbd", "gammagamma")

_UNITS = {"D": "days", "W": "weeks", "M": "months"}


def _rule(title: str) -> str:
    return f"\n{title}\n{'-' * len(title)}"


def _wrote(n_quoted: int) -> str:
    """The note on cells quoted for spreadsheets ("" when none were)."""
    if not n_quoted:
        return ""
    return (f"\nquoted {n_quoted:,} text cells that a spreadsheet would run as formulas "
            "(they start with =, +, -, @, tab or CR); --raw writes them as they are")


def _table(frame: pd.DataFrame) -> str:
    with pd.option_context("display.width", 120, "display.max_columns", 20, "display.precision", 4):
        return str(frame.to_string())


# ------------------------------------------------------------------ summarize
def run_summarize(args: argparse.Namespace, progress: Progress) -> str:
    """``crmkit summarize``: the customer view's overview (and the view as a file).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.
    progress : Progress
        Progress display.

    Returns
    -------
    str
        The text printed.

    Examples
    --------
    See ``tests/integration/test_cli_commands.py``.
    """
    from crmkit.data import summarize

    check_outputs(args, {"--out": (args.out, "table")})
    loaded = load_records(args, progress)
    data = loaded.data
    progress.start("summarising the customers")
    view = summarize(data)
    progress.done()
    revenue = view["revenue"].to_numpy(dtype=np.float64)
    repeat = int((view["frequency"] > 0).sum())
    lines = [
        f"crmkit summarize: {source_name(args)}",
        _rule("The customer base"),
        f"customers               {len(view):>14,}",
        f"transactions            {len(data.transactions):>14,}",
        f"first purchase          {data.transactions['date'].min().date()!s:>14}",
        f"analysis date (as of)   {data.as_of.date()!s:>14}",
        f"time unit               {_UNITS[data.time_unit]:>14}",
        f"revenue                 {revenue.sum():>14,.2f}",
        f"repeat buyers           {repeat:>14,} ({repeat / max(len(view), 1):.1%})",
    ]
    if loaded.n_later:
        lines.append(
            f"later transactions      {loaded.n_later:>14,} (after the analysis date; left out)"
        )
    lines += [f"note: {n}" for n in loaded.notes]
    cols = [
        c
        for c in (
            "frequency",
            "recency",
            "T",
            "monetary_value",
            "revenue",
            "n_products",
            "purchase_trend",
            "days_since_last",
        )
        if c in view.columns
    ]
    lines += [
        _rule("Customer view"),
        _table(view[cols].describe().T[["mean", "std", "min", "25%", "50%", "75%", "max"]]),
    ]
    if args.out:
        path, n_quoted = write_output(view, args.out, safe=not args.raw)
        lines.append(
            f"\nwrote the customer view ({len(view):,} rows, {view.shape[1]} columns) to {path}"
            + _wrote(n_quoted)
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------ fit
def run_fit(args: argparse.Namespace, progress: Progress) -> str:
    """``crmkit fit``: fit a value model on the customer view and save it as JSON.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.
    progress : Progress
        Progress display.

    Returns
    -------
    str
        The text printed.

    Examples
    --------
    See ``tests/integration/test_cli_commands.py``.
    """
    from crmkit._export import atomic_write
    from crmkit.compose import value_model
    from crmkit.data import summarize

    check_outputs(args, {"--out": (args.out, "json")})
    loaded = load_records(args, progress)
    progress.start("summarising the customers")
    view = summarize(loaded.data)
    progress.start(f"fitting the {args.model} model")
    kind = "spend_model" if args.model == "gammagamma" else "purchase_model"
    model = value_model(kind, args.model).set_params(penalizer=args.penalizer)
    model.fit(view)
    progress.done()
    lines = [
        f"crmkit fit: {type(model).__name__} on {source_name(args)} "
        f"({len(view):,} customers, time unit {_UNITS[loaded.data.time_unit]})",
        _rule("Parameters"),
        _table(model.summary()),
        f"\nlog-likelihood {model.log_likelihood_:,.3f}; "
        + ("converged" if model.converged_ else "did NOT converge")
        + f" after {model.n_iter_} iterations",
    ]
    if args.out:
        with atomic_write(args.out) as tmp:
            model.save(tmp)
        lines.append(f"saved the model to {args.out}")
    return "\n".join(lines)


# --------------------------------------------------------------------- assess
def _spec_value(key: str, text: str) -> Any:
    low = text.strip().lower()
    if low in ("none", "null", ""):
        return None
    if low in ("true", "false"):
        return low == "true"
    if key in ("horizon", "discount_rate"):
        try:
            return float(text)
        except ValueError:
            raise InputError(f"--playbook: {key} must be a number; got {text!r}") from None
    if "+" in text:
        return [part.strip() for part in text.split("+") if part.strip()]
    return text.strip()


def parse_playbook_spec(spec: str) -> dict[str, Any]:
    """Parse a playbook spec such as ``"segmenter=rfm,churn=signals,care=portfolio"``.

    Values: a registry name; ``none`` to leave a step out; ``true``/``false``;
    numbers for ``horizon`` and ``discount_rate``; several names joined by
    ``+`` (``segmenter=portfolio+rfm``) for a list.

    Parameters
    ----------
    spec : str
        Comma-separated ``key=value`` settings of :class:`crmkit.compose.Playbook`.

    Returns
    -------
    dict

    Raises
    ------
    InputError
        For a malformed spec or an unknown setting.

    Examples
    --------
    >>> parse_playbook_spec("segmenter=rfm,churn=none,horizon=26")
    {'segmenter': 'rfm', 'churn': None, 'horizon': 26.0}
    """
    from crmkit.compose import Playbook

    known = set(Playbook().get_params(deep=False))
    out: dict[str, Any] = {}
    for item in (p for p in spec.split(",") if p.strip()):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep:
            raise InputError(
                f"--playbook: expected key=value pairs such as 'churn=signals'; got {item!r}"
            )
        if key not in known:
            raise InputError(
                f"--playbook: unknown setting {key!r}; settings: {', '.join(sorted(known))}"
            )
        out[key] = _spec_value(key, value)
    return out


def _playbook(args: argparse.Namespace, loaded: Loaded) -> Any:
    from crmkit import load
    from crmkit.compose import Playbook

    spec = args.playbook
    if spec is None:
        return Playbook()  # its "auto" steps adapt to what the records hold
    if spec.lower().endswith(".json") or Path(spec).is_file():
        book = load(spec)
        if not isinstance(book, Playbook):
            raise InputError(f"--playbook {spec}: holds a {type(book).__name__}, not a Playbook")
        return book
    return Playbook(**parse_playbook_spec(spec))


def run_assess(args: argparse.Namespace, progress: Progress) -> str:
    """``crmkit assess``: assess every customer with a playbook and write the result.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.
    progress : Progress
        Progress display.

    Returns
    -------
    str
        The text printed.

    Examples
    --------
    See ``tests/integration/test_cli_commands.py``.
    """
    from crmkit._export import atomic_write

    check_outputs(args, {"--out": (args.out, "table"),
                         "--save-playbook": (args.save_playbook, "json")})
    loaded = load_records(args, progress)
    data = loaded.data
    book = _playbook(args, loaded)
    if hasattr(book, "plugins_"):
        progress.start("assessing the customers")
        result = book.assess(data, include_view=args.include_view)
    else:  # one customer view for both
        progress.start("fitting the playbook and assessing the customers")
        result = book.fit_assess(data, include_view=args.include_view)
    progress.done()
    lines = [f"crmkit assess: {len(result):,} customers of {source_name(args)} as of "
             f"{data.as_of.date()}"]
    if loaded.n_later:
        lines.append(f"note: {loaded.n_later:,} transactions after the analysis date left out")
    lines += [f"note: {n}" for n in (*loaded.notes, *getattr(book, "notes_", ()))]
    if "stage" in result:
        counts = result["stage"].value_counts(sort=False).to_frame("customers")
        if "status" in result:  # lapsed customers keep their stage
            lapsed = (result["status"].astype(object) == "lapsed").groupby(
                result["stage"], observed=False
            )
            counts["lapsed"] = lapsed.sum().reindex(counts.index).astype(int)
        lines += [_rule("Lifecycle stages"), _table(counts)]
    if "portfolio" in result:
        counts = result["portfolio"].value_counts(sort=False).sort_index()
        lines += [_rule("Portfolios"), _table(counts.to_frame("customers"))]
    if "churn_risk" in result:
        from crmkit.compose import distinguishing_digits, format_risk, top_risks

        top = top_risks(result, 5)
        cols = ("churn_risk", "value_at_risk", "churn_reasons", "care_model")
        shown = top[[c for c in cols if c in top]].copy()
        digits = distinguishing_digits(top["churn_risk"], start=4)
        shown["churn_risk"] = top["churn_risk"].map(lambda x: format_risk(x, digits))
        lines += [_rule("Highest churn risks (ties: highest value at risk first)"), _table(shown)]
    if args.out:
        path, n_quoted = write_output(result, args.out, safe=not args.raw)
        lines.append(f"\nwrote {len(result):,} assessments ({result.shape[1]} columns) to {path}"
                     + _wrote(n_quoted))
    if args.save_playbook:
        with atomic_write(args.save_playbook) as tmp:
            book.save(tmp)
        lines.append(f"saved the fitted playbook to {args.save_playbook}")
    return "\n".join(lines)


# --------------------------------------------------------------------- report
def run_report(args: argparse.Namespace, progress: Progress) -> str:
    """``crmkit report``: write the self-contained HTML report.

    Transactions dated after ``--as-of`` become the holdout period the
    report tracks the model against.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.
    progress : Progress
        Progress display.

    Returns
    -------
    str
        The text printed.

    Examples
    --------
    See ``tests/integration/test_cli_commands.py``.
    """
    from crmkit._export import atomic_write
    from crmkit.report import write_report

    check_outputs(args, {"--out": (args.out, "html")})
    loaded = load_records(args, progress)
    target = Path(args.out)
    if not target.parent.exists():
        raise InputError(f"{target}: the directory {target.parent} does not exist")
    holdout = loaded.transactions if loaded.n_later else None
    with atomic_write(target) as tmp:  # an error leaves no half-written page
        write_report(
            tmp,
            loaded.data,
            holdout=holdout,
            columns=loaded.columns,
            holdout_end=args.holdout_end,
            title=args.title,
            top_n=args.top,
            migration_days=args.migration_days,
            progress=progress.start,
        )
    path = target
    progress.done()
    lines = [
        f"crmkit report: wrote {path} ({path.stat().st_size / 1024:,.0f} KiB) for "
        f"{loaded.data.n_customers:,} customers as of {loaded.data.as_of.date()}"
    ]
    if holdout is not None:
        lines.append(f"holdout: the {loaded.n_later:,} transactions after the analysis date")
    lines += [f"note: {n}" for n in loaded.notes]
    return "\n".join(lines)


Command = Callable[[argparse.Namespace, Progress], str]

#: The data subcommands, by name.
COMMANDS: dict[str, Command] = {
    "summarize": run_summarize,
    "fit": run_fit,
    "assess": run_assess,
    "report": run_report,
}


def _add_raw(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--raw",
        action="store_true",
        help="write text cells exactly as they are; by default CSV text starting with =, +, "
        "-, @, tab or CR gets a leading ' so that spreadsheets do not run it as a formula",
    )


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the data subcommands to the ``crmkit`` parser.

    Parameters
    ----------
    sub : argparse subparsers action
        From ``parser.add_subparsers()``.
    common : argparse.ArgumentParser
        Parent parser with the options every subcommand shares (``--verbose``).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_commands(parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False))
    >>> parser.parse_args(["fit", "tx.csv", "--model", "paretonbd"]).model
    'paretonbd'
    """
    p = sub.add_parser(
        "summarize",
        parents=[common],
        help="summarise transactions per customer",
        description="Summarise the transactions of FILE into the customer view "
        "and print an overview.",
    )
    add_data_arguments(p)
    p.add_argument("--out", metavar="PATH", help="write the customer view (.csv or .parquet)")
    _add_raw(p)

    p = sub.add_parser(
        "fit",
        parents=[common],
        help="fit a value model and save it as JSON",
        description="Fit a purchase model (BG/NBD, Pareto/NBD, MBG/NBD) or the "
        "Gamma-Gamma spend model on the customer view of FILE.",
    )
    add_data_arguments(p)
    p.add_argument("--model", choices=MODELS, default="bgnbd", help="the model (default bgnbd)")
    p.add_argument("--penalizer", type=float, default=0.0, help="L2 penalty (default 0)")
    p.add_argument("--out", metavar="PATH", help="save the fitted model as JSON")

    p = sub.add_parser(
        "assess",
        parents=[common],
        help="assess every customer with a playbook",
        description="Stage, value, segment, churn risk and care plan of every customer of FILE.",
    )
    add_data_arguments(p)
    p.add_argument(
        "--playbook",
        metavar="SPEC|FILE",
        help="a saved playbook (.json) or settings such as "
        "'segmenter=rfm,churn=signals,care=portfolio' (default: the standard "
        "playbook; 'signals' uses the churn signals the records can feed)",
    )
    p.add_argument("--out", metavar="PATH", help="write the assessments (.csv or .parquet)")
    _add_raw(p)
    p.add_argument(
        "--include-view", action="store_true", help="also write the customer view's columns"
    )
    p.add_argument("--save-playbook", metavar="PATH", help="save the fitted playbook as JSON")

    p = sub.add_parser(
        "report",
        parents=[common],
        help="write the HTML report",
        description="Write a self-contained HTML report of the customer base "
        "of FILE. Transactions after --as-of are tracked as a "
        "holdout period.",
    )
    add_data_arguments(p)
    p.add_argument("--out", metavar="PATH", required=True, help="the .html file to write")
    p.add_argument("--title", default="Customer base report", help="page title")
    p.add_argument("--top", type=int, default=15, help="customers in the churn table")
    p.add_argument("--holdout-end", metavar="DATE", help="last day of the holdout period")
    p.add_argument(
        "--migration-days",
        type=int,
        default=91,
        help="stage migration over this many days (default 91)",
    )
