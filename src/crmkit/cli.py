"""The ``crmkit`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["main", "demo_report"]


def _rule(title: str) -> str:
    return f"\n{title}\n{'-' * len(title)}"


def demo_report(n_customers: int = 2000, seed: int = 0, plan_out: str | None = None) -> str:
    """Build the demo CRM, summarise it and return a readable overview.

    Parameters
    ----------
    n_customers : int, default=2000
        Size of the synthetic customer base.
    seed : int, default=0
        Random seed (same seed, same report).
    plan_out : str, optional
        Write the account plan (Markdown) to this file.

    Returns
    -------
    str
        The overview printed by ``crmkit demo``.

    Examples
    --------
    >>> text = demo_report(n_customers=300, seed=1)
    >>> "customers" in text and "top 10% of customers" in text
    True
    >>> "churn" in text.lower() and "account plan" in text.lower()
    True
    """
    from crmkit.data import summarize
    from crmkit.datasets import make_crm

    crm = make_crm(n_customers=n_customers, seed=seed)
    view = summarize(crm.data)
    lines = [f"crmkit demo: a synthetic B2B customer base (seed {seed}), as of "
             f"{crm.as_of.date()}"]
    revenue = view["revenue"].to_numpy(dtype=float)
    ordered = np.sort(revenue)[::-1]
    top = max(1, int(np.ceil(0.1 * len(ordered))))
    share80 = int(np.searchsorted(np.cumsum(ordered) / ordered.sum(), 0.8) + 1)
    lines.append(_rule("The customer base"))
    lines.append(f"customers               {len(view):>12,}")
    lines.append(f"revenue to date         {revenue.sum():>12,.0f}")
    lines.append(f"repeat buyers           {int((view['frequency'] > 0).sum()):>12,}")
    lines.append(f"top 10% of customers    {ordered[:top].sum() / ordered.sum():>12.1%} of revenue")
    lines.append(f"80% of revenue from     {share80 / len(ordered):>12.1%} of customers")
    if "industry" in view.columns:
        lines.append(_rule("Customers and revenue by industry"))
        by = view.groupby("industry", observed=True)["revenue"].agg(["size", "sum"])
        by["share"] = by["sum"] / by["sum"].sum()
        for name, row in by.sort_values("sum", ascending=False).iterrows():
            lines.append(f"{name!s:<22} {int(row['size']):>6,} customers {row['share']:>7.1%}")
    lines.append(_rule("Five customers"))
    cols = [c for c in ("frequency", "recency", "T", "monetary_value", "revenue",
                        "purchase_trend", "last_nps") if c in view.columns]
    unit, long = {"D": ("d", "days"), "W": ("wk", "weeks"), "M": ("mo", "months")}[
        crm.data.time_unit]
    names = {"frequency": "repeat buys", "recency": f"recency ({unit})", "T": f"T ({unit})",
             "monetary_value": "mean spend", "purchase_trend": "trend", "last_nps": "last NPS"}
    with pd.option_context("display.width", 100, "display.precision", 2):
        lines.append(view[cols].head(5).rename(columns=names).to_string())
    lines.append(f"recency: {long} from the first to the last purchase; T: {long} since the "
                 "first purchase;\nmean spend: per repeat purchase, revenue: to date (currency "
                 "units)")
    from crmkit.compose import demo_sections

    lines.append("")
    lines.append(demo_sections(crm, plan_out=plan_out))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    from crmkit._cli import OneLineParser, add_commands

    parser = OneLineParser(
        prog="crmkit", description="Customer relationship management analytics."
    )
    parser.add_argument("--verbose", action="store_true", help="show full error details")
    common = OneLineParser(add_help=False)
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show full error details")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", parents=[common], help="run the main job on bundled demo data")
    demo.add_argument("--customers", type=int, default=2000, help="demo size (default 2000)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--plan-out", metavar="PATH", dest="plan_out",
                      help="write the account plan (Markdown) to this file")
    add_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``crmkit`` command.

    Subcommands: ``demo``, ``summarize FILE``, ``fit FILE --model bgnbd
    --out model.json``, ``assess FILE --playbook SPEC|FILE --out
    assessments.csv`` and ``report FILE --out report.html`` (``crmkit
    SUBCOMMAND --help`` lists the options). Bad files, columns, dates and
    arguments give a one-line ``crmkit: error: ...`` and exit code 2
    (``--verbose`` adds the details); long steps show a progress indicator
    when the output is a terminal.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit code: 0 on success, 2 for bad input (a one-line error), 1 for
        an unexpected error.

    Examples
    --------
    >>> main(["demo", "--customers", "200"])  # doctest: +ELLIPSIS
    crmkit demo: ...
    0
    >>> main(["summarize", "no-such-file.csv"])
    2
    """
    from crmkit._cli import COMMANDS, ArgumentError, execute

    try:
        args = _parser().parse_args(argv)
    except ArgumentError as exc:
        print(f"crmkit: error: {exc} (see crmkit --help)", file=sys.stderr)
        return 2
    if args.command == "demo":
        return execute(lambda _progress: demo_report(n_customers=args.customers, seed=args.seed,
                                                     plan_out=args.plan_out),
                       verbose=args.verbose)
    run = COMMANDS[args.command]
    return execute(lambda progress: run(args, progress), verbose=args.verbose)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
