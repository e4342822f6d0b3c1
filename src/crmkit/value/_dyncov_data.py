"""Inputs of :class:`~crmkit.value.ParetoNBDDynamic`: the view, the covariate table, purchases.

Turns the customer view (``frequency``, ``recency``, ``T``,
``first_purchase``), a long table of covariates (one row per customer and
period start) and, for the likelihood, the transactions into the arrays of
:mod:`crmkit.value._dyncov_ll`. A period runs from its start to the next
start of the same customer; the last one lasts one time unit. Times are in
time units since the customer's first purchase day, as in ``summarize``.
Bad input raises :class:`~crmkit.exceptions.SchemaError` naming the table,
column, problem and the first customers concerned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.data import TIME_UNITS
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure
from crmkit.value._covariates import Encoding, design_matrix
from crmkit.value._dyncov_ll import Path

__all__ = ["Covariates", "CustomerRows", "fail", "purchase_sums", "read_covariates", "read_view"]

FloatArray = npt.NDArray[np.float64]

_VIEW_COLUMNS = ("frequency", "recency", "T", "first_purchase")
_TOL = 1e-9


def fail(frame: str, column: str, check: str, rows: Sequence[Any] = ()) -> SchemaError:
    """A :class:`SchemaError` for one failed check (``rows``: the first customers concerned).

    Examples
    --------
    >>> fail("view", "T", "is negative", ["a"]).failures[0].n_failing
    1
    """
    labels = tuple(rows)
    return SchemaError(
        [
            SchemaFailure(
                frame=frame, column=column, check=check, n_failing=len(labels), rows=labels[:5]
            )
        ]
    )


@attrs.frozen
class CustomerRows:
    """The view's columns as arrays, customers in the view's order.

    Parameters
    ----------
    index : Index
        Customer ids.
    x, tx, T : ndarray of shape (n_customers,)
        ``frequency``, ``recency`` and ``T``.
    birth : ndarray of shape (n_customers,)
        First purchase day (``datetime64[ns]``).

    Examples
    --------
    >>> view = pd.DataFrame({"frequency": [1], "recency": [1.0], "T": [2.0],
    ...                      "first_purchase": pd.to_datetime(["2024-01-01"])}, index=["a"])
    >>> read_view(view, "W", "doc").T.tolist()
    [2.0]
    """

    index: pd.Index
    x: FloatArray
    tx: FloatArray
    T: FloatArray
    birth: npt.NDArray[np.datetime64]


def read_view(view: Any, time_unit: str, who: str) -> CustomerRows:
    """Check and read the view (see :class:`CustomerRows`)."""
    if not isinstance(view, pd.DataFrame):
        raise InvalidParameterError(
            f"{who}: view must be a pandas DataFrame indexed by customer id, "
            f"got {type(view).__name__}"
        )
    for col in _VIEW_COLUMNS:
        if col not in view.columns:
            raise fail("view", col, f"is missing ({who})")
    if len(view) == 0:
        raise fail("view", "<view>", f"has no customers ({who})")
    if not view.index.is_unique:
        dup = view.index[view.index.duplicated()]
        raise fail("view", "<index>", f"has duplicated customer ids ({who})", list(dup))
    arrays = []
    for col in ("frequency", "recency", "T"):
        try:
            values = np.asarray(view[col], dtype=np.float64)
        except (TypeError, ValueError):
            raise fail("view", col, f"must be numeric ({who})") from None
        bad = ~np.isfinite(values) | (values < 0)
        if col == "frequency":
            bad |= values != np.round(values)
        if bad.any():
            raise fail("view", col, f"must be finite and >= 0 ({who})", list(view.index[bad]))
        arrays.append(values)
    x, tx, T = arrays
    bad = tx > T + _TOL
    if bad.any():
        raise fail("view", "recency", f"exceeds T ({who})", list(view.index[bad]))
    try:
        birth = pd.to_datetime(view["first_purchase"]).dt.normalize()
    except (TypeError, ValueError):
        raise fail("view", "first_purchase", f"must hold dates ({who})") from None
    if birth.isna().any():
        raise fail(
            "view",
            "first_purchase",
            f"has missing dates ({who})",
            list(view.index[np.asarray(birth.isna())]),
        )
    unit = TIME_UNITS[time_unit]
    if "last_purchase" in view.columns:  # the time unit must be the view's
        span = (pd.to_datetime(view["last_purchase"]).dt.normalize() - birth).dt.days / unit
        bad = np.abs(np.asarray(span, dtype=np.float64) - tx) > 1e-6
        if bad.any():
            raise fail(
                "view",
                "recency",
                f"does not match last_purchase - first_purchase in time unit {time_unit!r}: "
                f"was the view summarised with another time unit? ({who})",
                list(view.index[bad]),
            )
    return CustomerRows(view.index, x, tx, T, np.asarray(birth, dtype="datetime64[ns]"))


@attrs.frozen
class Covariates:
    """The covariate table read against a view: periods in customer time, sorted.

    Parameters
    ----------
    cust : ndarray of shape (n_rows,)
        Customer position in the view of each row.
    start, end : ndarray of shape (n_rows,)
        Period bounds in the customer's time units.
    frame : DataFrame
        The rows (same order), for the design matrices.

    Examples
    --------
    >>> view = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [1.5],
    ...                      "first_purchase": pd.to_datetime(["2024-01-01"])}, index=["a"])
    >>> cov = pd.DataFrame({"customer_id": ["a", "a"], "period": ["2024-01-01", "2024-01-08"],
    ...                     "promo": [0.0, 1.0]})
    >>> rows = read_view(view, "W", "doc")
    >>> c = read_covariates(cov, rows, "customer_id", "period", "W", "doc")
    >>> c.path(rows, [Encoding("promo")], [], np.zeros(1), rows.T, "doc").hi.tolist()
    [1.0, 1.5]
    """

    cust: npt.NDArray[np.intp]
    start: FloatArray
    end: FloatArray
    frame: pd.DataFrame

    def path(
        self,
        rows: CustomerRows,
        purchase: Sequence[Encoding],
        dropout: Sequence[Encoding],
        w0: FloatArray,
        w1: FloatArray,
        who: str,
    ) -> Path:
        """The pieces covering ``[w0, w1]`` of each customer (refused if not covered)."""
        n = len(rows.index)
        need = w1 > w0 + _TOL
        first = np.full(n, np.inf)
        last = np.full(n, -np.inf)
        np.minimum.at(first, self.cust, self.start)
        np.maximum.at(last, self.cust, self.end)
        short = need & ((first > w0 + _TOL) | (last < w1 - _TOL))
        if short.any():
            raise fail(
                "covariates",
                "<periods>",
                f"do not cover each customer's time from the first purchase (or T) to the end "
                f"of the window needed ({who})",
                list(rows.index[short]),
            )
        lo = np.maximum(self.start, w0[self.cust])
        hi = np.minimum(self.end, w1[self.cust])
        keep = hi > lo
        sub = self.frame.iloc[np.flatnonzero(keep)]
        return Path(
            n,
            self.cust[keep],
            lo[keep],
            hi[keep],
            design_matrix(sub, purchase, who),
            design_matrix(sub, dropout, who),
        )


def read_covariates(
    covariates: Any,
    rows: CustomerRows,
    id_column: str,
    period_column: str,
    time_unit: str,
    who: str,
) -> Covariates:
    """Check the long covariate table and place its periods in customer time."""
    if not isinstance(covariates, pd.DataFrame):
        raise InvalidParameterError(
            f"{who}: covariates must be a pandas DataFrame (one row per customer and period), "
            f"got {type(covariates).__name__}"
        )
    for col in (id_column, period_column):
        if col not in covariates.columns:
            raise fail("covariates", col, f"is missing ({who})")
    try:
        start = pd.to_datetime(covariates[period_column])
    except (TypeError, ValueError):
        raise fail("covariates", period_column, f"must hold dates ({who})") from None
    if start.isna().any():
        raise fail(
            "covariates",
            period_column,
            f"has missing dates ({who})",
            list(covariates.index[np.asarray(start.isna())]),
        )
    dup = covariates.duplicated([id_column, period_column])
    if dup.any():
        raise fail(
            "covariates",
            period_column,
            f"repeats a period of a customer ({who})",
            list(covariates.loc[dup, id_column]),
        )
    pos = rows.index.get_indexer(pd.Index(covariates[id_column]))
    mine = np.flatnonzero(pos >= 0)  # rows of other customers are ignored
    pos = pos[mine]
    days = np.asarray(start, dtype="datetime64[ns]")[mine] - rows.birth[pos]
    c = np.asarray(days / np.timedelta64(1, "D"), dtype=np.float64) / TIME_UNITS[time_unit]
    order = np.lexsort((c, pos))
    pos, c = pos[order], c[order]
    nxt = np.append(c[1:], np.inf)
    same = np.append(pos[1:] == pos[:-1], False)
    end = np.where(same, nxt, c + 1.0)
    frame = covariates.iloc[mine[order]]
    return Covariates(np.asarray(pos, dtype=np.intp), c, end, frame)


def purchase_sums(
    transactions: Any,
    rows: CustomerRows,
    cov: Covariates,
    purchase: Sequence[Encoding],
    id_column: str,
    date_column: str,
    time_unit: str,
    who: str,
) -> FloatArray:
    """Sum of the purchase covariate rows at each customer's repeat purchase days.

    Repeat purchases are the distinct purchase days after the first, up to
    ``T`` (as ``summarize`` counts ``frequency``); their number must equal
    the view's ``frequency``.
    """
    n = len(rows.index)
    k = sum(len(e.names()) for e in purchase)
    if k == 0:
        return np.zeros((n, 0))
    if not isinstance(transactions, pd.DataFrame):
        raise InvalidParameterError(
            f"{who}: transactions (a DataFrame with {id_column!r} and {date_column!r}) are "
            "needed to place the repeat purchases among the purchase covariates"
        )
    for col in (id_column, date_column):
        if col not in transactions.columns:
            raise fail("transactions", col, f"is missing ({who})")
    pos = rows.index.get_indexer(pd.Index(transactions[id_column]))
    mine = pos >= 0
    try:
        day = pd.to_datetime(transactions[date_column]).dt.normalize()
    except (TypeError, ValueError):
        raise fail("transactions", date_column, f"must hold dates ({who})") from None
    days = np.asarray(day, dtype="datetime64[ns]")[mine] - rows.birth[pos[mine]]
    t = np.asarray(days / np.timedelta64(1, "D"), dtype=np.float64) / TIME_UNITS[time_unit]
    frame = pd.DataFrame({"cust": pos[mine], "t": t}).drop_duplicates()
    frame = frame[(frame["t"] > _TOL) & (frame["t"] <= rows.T[frame["cust"]] + _TOL)]
    counts = np.bincount(frame["cust"], minlength=n)
    bad = counts != rows.x
    if bad.any():
        raise fail(
            "transactions",
            date_column,
            f"give repeat purchase days (distinct days after the first, up to T) that do not "
            f"match the view's frequency ({who})",
            list(rows.index[bad]),
        )
    if len(frame) == 0:
        return np.zeros((n, k))
    periods = pd.DataFrame({"cust": cov.cust, "t": cov.start, "row": np.arange(len(cov.cust))})
    hit = pd.merge_asof(
        frame.sort_values("t"),
        periods.sort_values("t"),
        on="t",
        by="cust",
        direction="backward",
    )
    unmatched = hit["row"].isna().to_numpy()
    row = np.where(unmatched, 0, hit["row"].fillna(0).to_numpy()).astype(np.intp)
    missing = unmatched | (cov.end[row] < hit["t"].to_numpy() - _TOL)
    if missing.any():
        raise fail(
            "covariates",
            "<periods>",
            f"do not cover a repeat purchase ({who})",
            list(rows.index[hit["cust"].to_numpy()[missing]]),
        )
    z = design_matrix(cov.frame.iloc[row], purchase, who)
    out = np.zeros((n, k))
    np.add.at(out, hit["cust"].to_numpy(), z)
    return out
