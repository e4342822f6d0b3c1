"""Shared pieces of the churn detectors: labels, reasons and the score frame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = [
    "check_labels",
    "format_reasons",
    "score_frame",
    "column_values",
    "signal_columns",
]

FloatArray = npt.NDArray[np.float64]
_MAX_SHOWN = 5


def _first(labels: pd.Index, mask: npt.NDArray[np.bool_]) -> tuple[Any, ...]:
    return tuple(labels[mask][:_MAX_SHOWN].tolist())


def check_labels(y: object, view: pd.DataFrame, owner: str) -> npt.NDArray[np.bool_]:
    """Check churn labels against a view and return them as a bool array in view order.

    Parameters
    ----------
    y : pandas.Series
        Whether each customer churned (bool, or 0/1 numbers), indexed by the
        view's customer ids (any order).
    view : pandas.DataFrame
        The view the labels belong to.
    owner : str
        Who reads the labels (for messages).

    Returns
    -------
    numpy.ndarray of bool, shape (n_customers,)
        Aligned with ``view``'s rows.

    Raises
    ------
    SchemaError
        When ``y`` is not a Series, lacks customers of the view, holds
        duplicate ids, missing values or values other than 0/1/True/False.

    Examples
    --------
    >>> view = pd.DataFrame({"T": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="customer_id"))
    >>> check_labels(pd.Series([1, 0], index=["b", "a"]), view, "Demo").tolist()
    [False, True]
    >>> check_labels(pd.Series([True], index=["a"]), view, "Demo")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - y['<index>']: lacks customers of the view (1 row; rows ['b'])
    """
    if not isinstance(y, pd.Series):
        raise SchemaError(
            [
                SchemaFailure(
                    "y",
                    "<labels>",
                    f"is not a pandas Series (got {type(y).__name__}); {owner} needs churn "
                    "labels indexed by customer id",
                )
            ]
        )
    if not y.index.is_unique:
        dup = np.asarray(y.index.duplicated(keep=False))
        raise SchemaError(
            [
                SchemaFailure(
                    "y",
                    "<index>",
                    "has duplicate customer ids",
                    int(dup.sum()),
                    _first(y.index, dup),
                )
            ]
        )
    absent = np.asarray(~view.index.isin(y.index))
    if absent.any():
        raise SchemaError(
            [
                SchemaFailure(
                    "y",
                    "<index>",
                    "lacks customers of the view",
                    int(absent.sum()),
                    _first(view.index, absent),
                )
            ]
        )
    aligned = y.reindex(view.index) if not y.index.equals(view.index) else y
    if pd.api.types.is_bool_dtype(aligned.dtype) and not aligned.isna().any():
        return np.asarray(aligned.to_numpy(dtype=bool), dtype=bool)
    if not pd.api.types.is_numeric_dtype(aligned.dtype) and not pd.api.types.is_bool_dtype(
        aligned.dtype
    ):
        raise SchemaError(
            [SchemaFailure("y", "<labels>", f"is not boolean or 0/1 (dtype {aligned.dtype})")]
        )
    values = aligned.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        raise SchemaError(
            [
                SchemaFailure(
                    "y",
                    "<labels>",
                    "holds values other than True/False (or 1/0), or missing values",
                    int(bad.sum()),
                    _first(view.index, bad),
                    tuple(values[bad][:_MAX_SHOWN].tolist()),
                )
            ]
        )
    return np.asarray(values == 1.0, dtype=bool)


def column_values(view: pd.DataFrame, column: str) -> FloatArray:
    """A numeric (or bool) view column as float64, missing values as NaN.

    Parameters
    ----------
    view : pandas.DataFrame
        The (validated) view.
    column : str
        The column.

    Returns
    -------
    numpy.ndarray of float64, shape (n_customers,)
        A new array (never a view on the caller's data).

    Examples
    --------
    >>> v = pd.DataFrame({"k": [True, False], "n": pd.array([1, None], dtype="Int64")})
    >>> column_values(v, "k").tolist(), column_values(v, "n").tolist()
    ([1.0, 0.0], [1.0, nan])
    """
    series = view[column]
    out = np.array(series.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    return out


_MIX = np.uint64(0x9E3779B97F4A7C15)


def _group_rows(rows: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Group identical rows: each row's group and each group's first row.

    Rows are grouped by a hash of their values (a hash table, no sort); the
    grouping is then checked value by value and, should two different rows
    share a hash, redone exactly with a sort.
    """
    m = rows.shape[0]
    h = np.zeros(m, dtype=np.uint64)
    for j in range(rows.shape[1]):
        h = (h * _MIX) ^ pd.util.hash_array(rows[:, j])
    raw, uniques = pd.factorize(h)
    codes = np.asarray(raw, dtype=np.intp)
    first = np.empty(len(uniques), dtype=np.intp)
    first[codes[::-1]] = np.arange(m - 1, -1, -1, dtype=np.intp)
    if not np.array_equal(rows[first][codes], rows):  # a hash collision: exact grouping
        _, first_exact, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        return np.asarray(inverse, dtype=np.intp).reshape(-1), np.asarray(first_exact, np.intp)
    return codes, first


def format_reasons(
    contributions: FloatArray, names: Sequence[str], *, minimum: float = 0.0, digits: int = 2
) -> list[str]:
    """The ``reasons`` text of each customer: signals that fired, largest first.

    A signal is listed when its contribution exceeds ``minimum``; each entry
    reads ``"name (0.31)"`` and entries are joined with ``"; "``. Equal
    contributions keep the order of ``names``; values are rounded to
    ``digits`` decimals (half to even). A customer with no listed signal
    gets ``""``.

    Parameters
    ----------
    contributions : numpy.ndarray of float, shape (n_customers, n_signals)
        Each signal's contribution for each customer.
    names : sequence of str
        Signal names, one per column.
    minimum : float, default=0.0
        Contributions at or below this are left out.
    digits : int, default=2
        Decimals shown.

    Returns
    -------
    list of str

    Examples
    --------
    >>> format_reasons(np.array([[0.1, 0.3], [0.0, 0.0]]), ["nps", "trend"])
    ['trend (0.30); nps (0.10)', '']
    """
    c = np.asarray(contributions, dtype=np.float64)
    n, k = c.shape
    if n == 0:
        return []
    if k == 0:
        return [""] * n
    out = np.full(n, "", dtype=object)
    active = np.flatnonzero((c > minimum).any(axis=1))  # rows with something to say
    if len(active) == 0:
        empty: list[str] = out.tolist()
        return empty
    sub = c[active]
    order = np.argsort(-sub, axis=1, kind="stable")
    ranked = np.take_along_axis(sub, order, axis=1)
    shown = ranked > minimum
    # every piece "name (value)" comes from a small table: names x distinct rounded values
    scale = 10.0**digits
    units = np.round(ranked[shown] * scale).astype(np.int64)
    if units.size and units.min() >= 0 and units.max() <= 1_000_000:  # a lookup, no sort
        present = np.zeros(int(units.max()) + 1, dtype=bool)
        present[units] = True
        distinct = np.flatnonzero(present)
        which = (np.cumsum(present) - 1)[units]
    else:
        distinct, which = np.unique(units, return_inverse=True)
    values = [f"{u / scale:.{digits}f}" for u in distinct.tolist()]
    table = np.array([f"{name} ({v})" for name in names for v in values], dtype=object)
    # each row's text depends only on its sequence of pieces: write each distinct sequence once
    pieces = np.full(ranked.shape, -1, dtype=np.int64)
    pieces[shown] = order[shown] * len(values) + which.reshape(-1)
    codes, first = _group_rows(pieces)
    texts = np.array(
        ["; ".join(table[p] for p in row if p >= 0) for row in pieces[first].tolist()],
        dtype=object,
    )
    out[active] = texts[codes]
    result: list[str] = out.tolist()
    return result


def signal_columns(names: Sequence[str]) -> tuple[str, ...]:
    """The output column of each signal: ``signal_<name>``.

    Parameters
    ----------
    names : sequence of str
        Signal names.

    Returns
    -------
    tuple of str

    Examples
    --------
    >>> signal_columns(["overdue", "nps_detractor"])
    ('signal_overdue', 'signal_nps_detractor')
    """
    return tuple(f"signal_{name}" for name in names)


def score_frame(
    index: pd.Index,
    risk: FloatArray,
    reasons: list[str],
    signals: Mapping[str, FloatArray],
) -> pd.DataFrame:
    """Assemble a churn detector's output frame.

    Parameters
    ----------
    index : pandas.Index
        The view's index (kept as is).
    risk : numpy.ndarray of float, shape (n_customers,)
        Churn risk; clipped to [0, 1].
    reasons : list of str
        One text per customer.
    signals : mapping of str to numpy.ndarray
        ``{signal name: values}``; columns ``signal_<name>`` in this order.

    Returns
    -------
    pandas.DataFrame
        Columns ``churn_risk`` (float), ``reasons`` (str) and the signals.

    Examples
    --------
    >>> out = score_frame(pd.Index(["a"], name="customer_id"), np.array([0.4]), ["x (0.40)"],
    ...                   {"x": np.array([0.4])})
    >>> out.columns.tolist()
    ['churn_risk', 'reasons', 'signal_x']
    """
    columns: dict[str, Any] = {
        "churn_risk": np.clip(np.asarray(risk, dtype=np.float64), 0.0, 1.0),
        "reasons": pd.array(reasons, dtype="str") if len(reasons) else pd.array([], dtype="str"),
    }
    for name, values in signals.items():
        columns[f"signal_{name}"] = np.asarray(values, dtype=np.float64)
    frame: pd.DataFrame = pd.DataFrame(columns, index=index.copy())
    return frame
