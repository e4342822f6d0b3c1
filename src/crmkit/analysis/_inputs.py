"""Input checks shared by the customer-base analyses."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import SHOWN as _SHOWN
from crmkit._checks import as_values, check_fraction, check_int
from crmkit._checks import first_labels as _first
from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError, SchemaFailure

__all__ = [
    "F",
    "as_values",
    "apply_negative_policy",
    "check_fraction",
    "check_int",
    "frame_of",
    "rank_groups",
    "require_columns",
    "view_values",
]

F = npt.NDArray[np.float64]


def apply_negative_policy(
    x: F, index: pd.Index, negative: str, owner: str, name: str = "values"
) -> F:
    """Refuse or clip negative values (refunds, loss-making customers).

    Parameters
    ----------
    x : ndarray of float
        Finite values.
    index : Index
        Their customer ids (for messages).
    negative : {"raise", "clip"}
        ``"raise"``: a :class:`SchemaError` naming the negative rows;
        ``"clip"``: set them to 0 and warn with :class:`DataWarning`.
    owner, name : str
        Function and column names for messages.

    Returns
    -------
    ndarray of float
        ``x`` itself or a clipped copy.

    Raises
    ------
    SchemaError
        For negative values under ``"raise"``.
    InvalidParameterError
        For another ``negative`` option.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     apply_negative_policy(np.array([2.0, -1.0]), pd.RangeIndex(2), "clip", "demo").tolist()
    [2.0, 0.0]
    """
    if negative not in ("raise", "clip"):
        raise InvalidParameterError(
            f"The 'negative' parameter of {owner} must be one of {{'clip', 'raise'}}. "
            f"Got {negative!r} instead."
        )
    neg = x < 0
    if not neg.any():
        return x
    if negative == "raise":
        raise SchemaError(
            [
                SchemaFailure(
                    frame="values",
                    column=name,
                    check=f"has negative values; {owner} measures non-negative value "
                    "(pass negative='clip' to count loss-makers and refunds as 0)",
                    n_failing=int(neg.sum()),
                    rows=_first(index, neg),
                    values=tuple(x[neg][:_SHOWN].tolist()),
                )
            ]
        )
    warnings.warn(
        f"{owner}: {int(neg.sum())} negative {name} (total {float(x[neg].sum()):.6g}) clipped to 0",
        DataWarning,
        stacklevel=3,
    )
    out: F = np.where(neg, 0.0, x)
    return out


def view_values(view: object, column: str, owner: str) -> tuple[F, pd.Index]:
    """A numeric, complete column of a customer view (or a Series) as floats.

    Parameters
    ----------
    view : DataFrame or Series
        Customer view indexed by customer id, or the values themselves.
    column : str
        Column to read from a DataFrame.
    owner : str
        Function name for messages.

    Returns
    -------
    values : ndarray of float
    index : Index

    Raises
    ------
    SchemaError
        For a missing or non-numeric column, missing or infinite values,
        duplicate customer ids or an empty view.

    Examples
    --------
    >>> v = pd.DataFrame({"revenue": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="customer_id"))
    >>> view_values(v, "revenue", "demo")[0].tolist()
    [1.0, 2.0]
    """
    if isinstance(view, pd.DataFrame):
        from crmkit.plugins import validate_view

        validate_view(view, owner, required=(column,), numeric=(column,), min_customers=1)
        if pd.api.types.is_bool_dtype(view[column].dtype):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view", column=column, check=f"is boolean; {owner} needs numbers"
                    )
                ]
            )
        x = view[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return x, view.index
    return as_values(view, owner)


def require_columns(frame: pd.DataFrame, kind: str, columns: Iterable[str], owner: str) -> None:
    """Raise one :class:`SchemaError` listing every missing column.

    Parameters
    ----------
    frame : DataFrame
        The records.
    kind : str
        Record kind (for messages).
    columns : iterable of str
        Needed columns.
    owner : str
        Function name for messages.

    Raises
    ------
    SchemaError
        Listing the missing columns.
    InvalidParameterError
        When ``frame`` is not a DataFrame (also a :class:`TypeError`).

    Examples
    --------
    >>> require_columns(pd.DataFrame({"a": [1]}), "transactions", ["a"], "demo")
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError(
            f"{owner} expects {kind} as a DataFrame; got {type(frame).__name__}"
        )
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise SchemaError(
            [
                SchemaFailure(frame=kind, column=c, check=f"is missing (required by {owner})")
                for c in missing
            ]
        )


def frame_of(data: object, kind: str, owner: str, required: Iterable[str] = ()) -> pd.DataFrame:
    """The records of ``kind`` from CustomerData, or a frame given directly.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Validated records, or the records of ``kind`` with canonical column
        names.
    kind : str
        Record kind, e.g. ``"transactions"``.
    owner : str
        Function name for messages.
    required : iterable of str, default=()
        Columns that must be present.

    Returns
    -------
    DataFrame
        The caller's frame itself (never modified by the analyses).

    Raises
    ------
    SchemaError
        When the records are absent or lack a required column.

    Examples
    --------
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
    >>> frame_of(tx, "transactions", "demo", ["customer_id"]).shape
    (1, 3)
    """
    if isinstance(data, CustomerData):
        frame = data.get(kind)
        if frame is None:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame=kind,
                        column="<frame>",
                        check=f"is missing; {owner} needs {kind} records",
                    )
                ]
            )
    elif isinstance(data, pd.DataFrame):
        frame = data
    else:
        raise SchemaError(
            [
                SchemaFailure(
                    frame=kind,
                    column="<frame>",
                    check=f"got a {type(data).__name__}; {owner} needs CustomerData or a "
                    f"pandas DataFrame of {kind}",
                )
            ]
        )
    require_columns(frame, kind, required, owner)
    return frame


def _label_ranks(labels: pd.Index) -> npt.NDArray[np.int64]:
    """Each label's position in the sorted labels (as text when types mix)."""
    try:
        order = np.asarray(labels.argsort(kind="stable"))
    except TypeError:
        order = np.asarray(labels.astype(str).argsort(kind="stable"))
    ranks = np.empty(len(labels), dtype=np.int64)
    ranks[order] = np.arange(len(labels), dtype=np.int64)
    return ranks


def rank_groups(x: F, q: int, ties: pd.Index | None = None) -> npt.NDArray[np.int64]:
    """Split customers into ``q`` groups of (nearly) equal size by value, 0 = top.

    Customers are ordered by decreasing value; ties are ordered by ``ties``
    (e.g. the customer ids, so that the groups never depend on row order),
    else keep their input order (a stable sort). Consecutive ranks fill the
    groups; the first ``n % q`` groups hold one customer more than the rest
    (as :func:`numpy.array_split` splits), so sizes differ by at most one.

    Parameters
    ----------
    x : ndarray of float, Series or list, shape (n,)
        Values, ``n >= q`` (finite unless given as a float ndarray, which is
        taken as it is).
    q : int
        Number of groups.
    ties : pandas Index, optional
        Labels, one per value, ordering tied values (ascending).

    Returns
    -------
    ndarray of int64, shape (n,)
        Each customer's group.

    Raises
    ------
    InvalidParameterError
        For a ``q`` that is not an int >= 1.
    SchemaError
        For values that are not one finite number per customer.

    Examples
    --------
    >>> rank_groups(np.array([1.0, 5.0, 3.0, 2.0]), 2).tolist()
    [1, 0, 0, 1]
    >>> rank_groups(np.array([2.0, 2.0, 1.0]), 2, ties=pd.Index(["b", "a", "c"])).tolist()
    [0, 0, 1]
    """
    q = check_int(q, "q", "rank_groups")
    if not (isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype == np.float64):
        x, _ = as_values(x, "rank_groups")
    n = len(x)
    if ties is None:
        order = np.argsort(-x, kind="stable")
    else:
        order = np.lexsort((_label_ranks(ties), -x))
    sizes = np.full(q, n // q, dtype=np.int64)
    sizes[: n % q] += 1
    group_of_rank = np.repeat(np.arange(q, dtype=np.int64), sizes)
    out = np.empty(n, dtype=np.int64)
    out[order] = group_of_rank
    return out
