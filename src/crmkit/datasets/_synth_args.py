"""The argument checks of :func:`crmkit.datasets.make_crm` and its background thread."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pandas as pd

from crmkit._params import Interval, Options, validate_params
from crmkit.data import TIME_UNITS
from crmkit.exceptions import InvalidParameterError

__all__ = ["checked_args", "in_background"]

T = TypeVar("T")


def in_background(*tasks: Callable[[], T]) -> list[Callable[[], T]]:
    """Run ``tasks`` one after another on a second thread (with 2+ cores).

    Each task must draw only from its own generators (or from one no other
    thread uses, in the order of the tasks), so running them alongside other
    work gives the same values as running them alone. NumPy releases the GIL
    in its array loops, sorts and random draws, so the threads overlap.

    Parameters
    ----------
    *tasks : callable
        Functions of no arguments.

    Returns
    -------
    list of callable
        For each task, a function returning its result (waiting for it) or
        raising its exception.

    Examples
    --------
    >>> first, second = in_background(lambda: sum(range(10)), lambda: "done")
    >>> first(), second()
    (45, 'done')
    """
    if (os.cpu_count() or 1) < 2:
        values = [task() for task in tasks]
        return [lambda v=v: v for v in values]  # type: ignore[misc]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crmkit-make-crm")
    futures = [pool.submit(task) for task in tasks]  # one worker: run in this order
    pool.shutdown(wait=False)  # the thread ends with the last task
    return [f.result for f in futures]


def _ts(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{name} must be a date, e.g. '2025-06-30'; got {value!r}"
        ) from exc
    if ts is pd.NaT or isinstance(value, (int, float)):
        raise InvalidParameterError(f"{name} must be a date, e.g. '2025-06-30'; got {value!r}")
    out: pd.Timestamp = ts.normalize()
    return out


def checked_args(
    n_customers: Any, seed: Any, start: Any, as_of: Any, holdout_end: Any, n_prospects: Any,
    time_unit: Any, r: Any, alpha: Any, s: Any, beta: Any, p: Any, q: Any, gamma: Any,
    campaign_uplift: Any,
) -> tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp, float, float]:  # fmt: skip
    """Validate the arguments of :func:`make_crm`: the three dates, alpha and beta.

    Returns
    -------
    tuple
        ``start``, ``as_of``, ``holdout_end`` (days) and ``alpha``, ``beta``.

    Examples
    --------
    >>> checked_args(5, 0, "2023-01-01", "2025-06-30", "2025-12-31", None, "W", 1.2, None,
    ...              1.5, None, 4.0, 3.0, 200.0, 0.25)[3:]
    (3.0, 250.0)
    """
    pos = [Interval("float", 0, None, closed="neither")]
    validate_params("make_crm", {
        "n_customers": n_customers, "seed": seed, "n_prospects": n_prospects,
        "time_unit": time_unit, "r": r, "alpha": alpha, "s": s, "beta": beta, "p": p, "q": q,
        "gamma": gamma, "campaign_uplift": campaign_uplift,
    }, {
        "n_customers": [Interval("int", 1, None)], "seed": [Interval("int", 0, None)],
        "n_prospects": [Interval("int", 0, None), None],
        "time_unit": [Options(frozenset(TIME_UNITS))], "r": pos, "alpha": [*pos, None],
        "s": pos, "beta": [*pos, None], "p": pos, "q": [Interval("float", 1, None, "neither")],
        "gamma": pos, "campaign_uplift": [Interval("float", 0, 1)],
    })  # fmt: skip
    t_start, t_as_of, t_end = (
        _ts(start, "start"),
        _ts(as_of, "as_of"),
        _ts(holdout_end, "holdout_end"),
    )
    if (t_as_of - t_start).days < 180 or t_end <= t_as_of:
        raise InvalidParameterError(
            "make_crm needs start + 180 days <= as_of < holdout_end; got "
            f"start={t_start.date()}, as_of={t_as_of.date()}, holdout_end={t_end.date()}"
        )
    unit = TIME_UNITS[time_unit]
    alpha = 3.0 * 7.0 / unit if alpha is None else float(alpha)
    beta = 250.0 * 7.0 / unit if beta is None else float(beta)
    return t_start, t_as_of, t_end, alpha, beta
