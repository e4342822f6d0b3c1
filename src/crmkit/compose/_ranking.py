"""The customers most at risk: ranked by churn risk, ties broken by the value at risk.

Many customers can share one churn risk (every one-time buyer of the same
age has the same history summary). A top-risk list then needs a second key
that matters to the business, the expected value at risk
(``clv x churn_risk``), and figures shown with enough digits that equal
numbers mean equal histories.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from crmkit._params import Interval, Predicate, validate_params
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure
from crmkit.plugins import validate_view

__all__ = ["distinguishing_digits", "format_risk", "top_risks"]

_REAL = Predicate(
    lambda v: isinstance(v, numbers.Real) and not isinstance(v, bool), "a real number"
)


def top_risks(result: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` customers at the highest churn risk, ties broken by value at risk.

    Order: ``churn_risk`` descending, then ``value_at_risk`` (``clv *
    churn_risk``, when there is a ``clv``) descending, then customer id, so
    the list never depends on row order.

    Parameters
    ----------
    result : pandas.DataFrame
        A playbook assessment with ``churn_risk`` (and ``clv``).
    n : int
        Rows returned.

    Returns
    -------
    pandas.DataFrame
        The top rows of ``result`` with a ``value_at_risk`` column added
        (when there is a ``clv``).

    Raises
    ------
    SchemaError
        When ``churn_risk`` is missing.

    Examples
    --------
    >>> r = pd.DataFrame({"churn_risk": [0.9, 0.9, 0.2], "clv": [10.0, 50.0, 99.0]},
    ...                  index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> top_risks(r, 2).index.tolist()
    ['b', 'a']
    """
    validate_params("top_risks", {"n": n}, {"n": [Interval("int", 0, None)]})
    if isinstance(result, pd.DataFrame) and "churn_risk" not in result.columns:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="assessment",
                    column="churn_risk",
                    check="is missing: the playbook has no churn step",
                )
            ]
        )
    numeric = ["churn_risk"] + (["clv"] if "clv" in getattr(result, "columns", ()) else [])
    frame = validate_view(
        result, "top_risks", required=["churn_risk"], numeric=numeric, nullable=numeric
    )
    keys = ["churn_risk"]
    if "clv" in result.columns:
        risk = result["churn_risk"].to_numpy(dtype=np.float64)
        frame = result.assign(value_at_risk=result["clv"].to_numpy(dtype=np.float64) * risk)
        keys.append("value_at_risk")
    order = np.lexsort(
        [pd.Index(frame.index).argsort().argsort()]
        + [-np.nan_to_num(frame[k].to_numpy(dtype=np.float64), nan=-np.inf) for k in keys[::-1]]
    )
    top: pd.DataFrame = frame.iloc[order[: max(int(n), 0)]]
    return top


def format_risk(risk: float, digits: int, *, percent: bool = False) -> str:
    """A risk as text with ``digits`` decimals; near-certain risks as ``1 − gap``.

    A risk that rounds to 1 (or to 100 %) without being 1 is written as one
    minus the remaining chance (``"1 − 3.2e-07"``), so that two customers
    whose risks differ never read alike.

    Parameters
    ----------
    risk : float
        The risk, in [0, 1].
    digits : int
        Decimals (of the share, or of the percentage with ``percent``).
    percent : bool, default=False
        Write a percentage.

    Returns
    -------
    str

    Examples
    --------
    >>> format_risk(0.8312, 2), format_risk(0.8312, 1, percent=True)
    ('0.83', '83.1%')
    >>> format_risk(1 - 3.2e-7, 4), format_risk(1.0, 4)
    ('1 − 3.2e-07', '1.0000')
    """
    validate_params(
        "format_risk",
        {"risk": risk, "digits": digits, "percent": percent},
        {"risk": [_REAL], "digits": [Interval("int", 0, 15)], "percent": [bool]},
    )
    x = float(risk)
    if not np.isfinite(x):
        return "–"
    scale = 100.0 if percent else 1.0
    if x < 1.0 and round(x * scale, digits) >= scale:
        return f"1 − {1.0 - x:.1e}"
    return f"{x:.{digits}%}" if percent else f"{x:.{digits}f}"


def distinguishing_digits(values: pd.Series | np.ndarray, *, start: int = 2, most: int = 6) -> int:
    """Fewest decimals (from ``start``, at most ``most``) that keep distinct values distinct.

    Parameters
    ----------
    values : pandas.Series or numpy.ndarray of float
        The numbers to show.
    start : int, default=2
        Decimals shown at least.
    most : int, default=6
        Decimals shown at most.

    Returns
    -------
    int

    Examples
    --------
    >>> distinguishing_digits(np.array([0.3341, 0.3344, 0.5]))
    4
    >>> distinguishing_digits(np.array([0.25, 0.25]))
    2
    """
    validate_params(
        "distinguishing_digits",
        {"start": start, "most": most},
        {"start": [Interval("int", 0, 15)], "most": [Interval("int", 0, 15)]},
    )
    if start > most:
        raise InvalidParameterError(
            f"distinguishing_digits: 'start' ({start}) must not exceed 'most' ({most})"
        )
    v = _numbers(values)
    v = v[np.isfinite(v)]
    distinct = len(np.unique(v))
    for digits in range(start, most + 1):
        if len(np.unique(np.round(v, digits))) == distinct:
            return digits
    return most


def _numbers(values: object) -> np.ndarray:
    """``values`` as a 1-d float array, or an :class:`InvalidParameterError`."""
    if isinstance(values, (str, bytes, dict)) or values is None:
        kind = type(values).__name__
        raise InvalidParameterError(
            f"distinguishing_digits: 'values' must be a series or array of numbers; got {kind}"
        )
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"distinguishing_digits: 'values' must be a series or array of numbers ({exc})"
        ) from None
    if v.ndim != 1:
        raise InvalidParameterError(
            f"distinguishing_digits: 'values' must be one-dimensional; got {v.ndim} dimensions"
        )
    return v
