"""Per-customer margin for :func:`crmkit.value.clv` and :func:`crmkit.value.customer_equity`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Constraint, Interval, Predicate
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["MARGIN", "resolve_margin"]

FloatArray = npt.NDArray[np.float64]

#: ``margin``: one share for everyone, a view column's name, or a Series by customer.
MARGIN: list[Constraint] = [
    Interval("real", 0, 1, closed="right"),
    Predicate(lambda v: isinstance(v, str) and bool(v), "a column name (non-empty str)"),
    Predicate(lambda v: isinstance(v, pd.Series), "a Series indexed like the view"),
]


def resolve_margin(margin: Any, view: Any, index: pd.Index, who: str) -> float | FloatArray:
    """The margin as a float or one share per customer, in the view's row order.

    A column name reads that column of ``view``; a Series is aligned to the
    view's index (every customer must be present). Shares must be finite and
    at most 1 (a negative share, a loss-making customer, is allowed).

    Parameters
    ----------
    margin : float, str or Series
        As passed to :func:`~crmkit.value.clv` (already validated).
    view : DataFrame
        The customer view.
    index : Index
        The customers, in the view's order.
    who : str
        The caller, for error messages.

    Returns
    -------
    float or ndarray of shape (n_customers,)

    Raises
    ------
    SchemaError
        For a missing column, customers without a margin, or shares that are
        not finite or above 1, naming the rows.

    Examples
    --------
    >>> view = pd.DataFrame({"m": [0.2, 0.5]}, index=pd.Index(["a", "b"], name="customer_id"))
    >>> resolve_margin("m", view, view.index, "doc").tolist()
    [0.2, 0.5]
    >>> resolve_margin(pd.Series({"b": 0.4, "a": 0.1}), view, view.index, "doc").tolist()
    [0.1, 0.4]
    """
    if not isinstance(margin, (str, pd.Series)):
        return float(margin)
    if isinstance(margin, str):
        if not isinstance(view, pd.DataFrame) or margin not in view.columns:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column=margin,
                        check=f"is missing: it was named as the margin ({who})",
                    )
                ]
            )
        raw = view[margin]
        column = margin
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    else:
        column = str(margin.name) if margin.name is not None else "margin"
        aligned = margin.reindex(index)
        values = pd.to_numeric(aligned, errors="coerce").to_numpy(dtype=np.float64)
        absent = ~np.asarray(index.isin(margin.index))
        if absent.any():
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="argument",
                        column="margin",
                        check=(
                            f"has no value for {int(absent.sum())} customer(s) of the view ({who})"
                        ),
                        n_failing=int(absent.sum()),
                        rows=tuple(np.asarray(index, dtype=object)[absent][:5]),
                    )
                ]
            )
    bad = ~np.isfinite(values) | (values > 1.0)
    if bad.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view" if isinstance(margin, str) else "argument",
                    column=column,
                    check=f"must hold a finite margin share <= 1 for every customer ({who})",
                    n_failing=int(bad.sum()),
                    rows=tuple(np.asarray(index, dtype=object)[bad][:5]),
                    values=tuple(v if math.isfinite(v) else str(v) for v in values[bad][:5]),
                )
            ]
        )
    return values
