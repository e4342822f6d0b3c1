"""Reading and checking model inputs from a customer view (before any cast)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import first_labels as _labels
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["read_columns", "collapse"]

FloatArray = npt.NDArray[np.float64]


def _values(arr: npt.NDArray[Any], mask: npt.NDArray[np.bool_]) -> tuple[Any, ...]:
    return tuple(arr[mask][:5].tolist())


def read_columns(
    view: pd.DataFrame | Mapping[str, Any],
    columns: Sequence[str],
    *,
    who: str,
    integer: Sequence[str] = (),
    positive: Sequence[str] = (),
    weights: Any = None,
    allow_empty: bool = False,
    index_labels: bool = True,
) -> tuple[dict[str, FloatArray], FloatArray, tuple[Any, ...]]:
    """Read numeric columns of a customer view as float arrays, checking them first.

    Every column must exist, be numeric (bools and strings are refused, never
    cast), finite and ``>= 0``; columns in ``integer`` must hold whole
    numbers; columns in ``positive`` must be ``> 0``; when both ``recency``
    and ``T`` are read, ``recency <= T`` is checked. All problems are
    collected into one :class:`SchemaError`.

    Parameters
    ----------
    view : DataFrame or mapping of str to array-like
        The customer view (or plain arrays).
    columns : sequence of str
        The columns to read.
    who : str
        The caller's name, for messages (e.g. ``"BetaGeo.fit"``).
    integer : sequence of str, default=()
        Columns that must hold whole numbers.
    positive : sequence of str, default=()
        Columns that must be strictly positive.
    weights : array-like or None, default=None
        Optional case weights (finite, ``> 0``), one per row.
    allow_empty : bool, default=False
        Whether zero rows are acceptable.
    index_labels : bool, default=True
        Whether to return the row labels; ``False`` returns ``()`` instead
        (saves turning a large index into a tuple when the caller keeps the
        view's own index).

    Returns
    -------
    arrays : dict of str to ndarray of shape (n_customers,)
        float64 copies.
    weights : ndarray of shape (n_customers,)
        The weights (ones when not given).
    index : tuple
        The row labels (the view's index, or ``range(n)``); ``()`` when
        ``index_labels`` is False.

    Raises
    ------
    SchemaError
        Listing every problem with its column and first rows.
    InvalidParameterError
        When ``view`` is neither a DataFrame nor a mapping (also a
        :class:`TypeError`).

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"frequency": [0, 2], "recency": [0.0, 3.0], "T": [5.0, 2.0]},
    ...                  index=pd.Index(["a", "b"], name="customer_id"))
    >>> read_columns(v, ["frequency", "recency", "T"], who="demo")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - view['recency']: is greater than T (1 row; rows ['b']; values [3.0])
    """
    source, index, n = _source(view, who)
    missing = [c for c in columns if c not in source]
    if missing:
        raise SchemaError(
            [
                SchemaFailure(frame="view", column=c, check=f"is missing (required by {who})")
                for c in missing
            ]
        )
    if n == 0 and not allow_empty:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<frame>",
                    check=f"has no customers; {who} needs at least one",
                )
            ]
        )
    failures: list[SchemaFailure] = []
    out: dict[str, FloatArray] = {}
    for c in columns:
        arr = _numbers(np.atleast_1d(np.asarray(source[c])), c, index, n, failures)
        if arr is not None:
            out[c] = arr
            failures += _value_failures(arr, c, index, integer, positive)
    if "recency" in out and "T" in out and not failures:
        over = out["recency"] > out["T"] * (1 + 1e-12) + 1e-12
        if over.any():
            failures.append(_failure("recency", "is greater than T", index, out["recency"], over))
    w = _weights(weights, n, index, failures)
    if failures:
        raise SchemaError(failures)
    return out, w, (tuple(index) if index_labels else ())


def _source(view: Any, who: str) -> tuple[Any, Any, int]:
    """The view itself (``name in`` and ``[name]`` work alike), its row labels and length."""
    if isinstance(view, pd.DataFrame):
        return view, view.index, len(view)
    if isinstance(view, Mapping):
        lengths = {len(np.atleast_1d(np.asarray(v))) for v in view.values()}
        if len(lengths) != 1:
            raise SchemaError(
                [SchemaFailure(frame="view", column="<frame>", check="columns differ in length")]
            )
        n = lengths.pop()
        return view, range(n), n
    raise InvalidParameterError(
        f"{who} expects a customer view (pandas DataFrame) or a mapping of arrays; "
        f"got {type(view).__name__}"
    )


def _failure(
    column: str, message: str, index: Any, values: npt.NDArray[Any], mask: npt.NDArray[np.bool_]
) -> SchemaFailure:
    return SchemaFailure(
        frame="view",
        column=column,
        check=message,
        n_failing=int(mask.sum()),
        rows=_labels(index, mask),
        values=_values(values, mask),
    )


def _numbers(
    raw: npt.NDArray[Any], column: str, index: Any, n: int, failures: list[SchemaFailure]
) -> FloatArray | None:
    """``raw`` as float64, or None with a failure when it is not numeric (never cast)."""
    if raw.dtype.kind in "iuf":
        return raw.astype(np.float64)
    if raw.dtype.kind == "O":
        bad = np.array(
            [
                not isinstance(v, (int, float, np.integer, np.floating))
                or isinstance(v, (bool, np.bool_))
                for v in raw
            ],
            dtype=bool,
        )
        if not bad.any():
            return raw.astype(np.float64)
        failures.append(_failure(column, "must be numeric", index, raw, bad))
        return None
    failures.append(
        SchemaFailure(
            frame="view",
            column=column,
            check=f"must be numeric, got dtype {raw.dtype}",
            n_failing=n,
            rows=tuple(list(index)[:5]),
            values=tuple(raw[:5].tolist()),
        )
    )
    return None


#: The checks of a finite column: message, whether it applies to the column
#: (given ``integer`` and ``positive``), and the mask of failing rows.
_VALUE_CHECKS: tuple[
    tuple[
        str,
        Callable[[str, Sequence[str], Sequence[str]], bool],
        Callable[[FloatArray], npt.NDArray[np.bool_]],
    ],
    ...,
] = (
    ("is negative", lambda c, integer, positive: True, lambda a: a < 0),
    ("must hold whole numbers", lambda c, integer, positive: c in integer,
     lambda a: a != np.floor(a)),
    ("must be > 0", lambda c, integer, positive: c in positive, lambda a: a <= 0),
)  # fmt: skip


def _value_failures(
    arr: FloatArray, column: str, index: Any, integer: Sequence[str], positive: Sequence[str]
) -> list[SchemaFailure]:
    """What is wrong with the values of one numeric column (see :data:`_VALUE_CHECKS`)."""
    nonfinite = ~np.isfinite(arr)
    if nonfinite.any():
        return [_failure(column, "has NaN or infinite values", index, arr, nonfinite)]
    out = []
    for message, applies, bad in _VALUE_CHECKS:
        if applies(column, integer, positive):
            mask = bad(arr)
            if mask.any():
                out.append(_failure(column, message, index, arr, mask))
    return out


def _weights(weights: Any, n: int, index: Any, failures: list[SchemaFailure]) -> FloatArray:
    """The case weights (ones when not given); problems go to ``failures``."""
    if weights is None:
        return np.ones(max(n, 0), dtype=np.float64)
    w_raw = np.atleast_1d(np.asarray(weights))
    if w_raw.dtype.kind not in "iuf" or len(w_raw) != n:
        failures.append(
            SchemaFailure(
                frame="view",
                column="weights",
                check=f"must be {n} numbers, got {len(w_raw)} of dtype {w_raw.dtype}",
            )
        )
        return np.ones(n)
    w = w_raw.astype(np.float64)
    badw = ~np.isfinite(w) | (w <= 0)
    if badw.any():
        failures.append(_failure("weights", "must be finite and > 0", index, w, badw))
    return w


def collapse(
    arrays: Sequence[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray, npt.NDArray[np.intp]]:
    """Collapse identical rows into weighted unique rows (exact likelihood, fewer rows).

    Parameters
    ----------
    arrays : sequence of ndarray of shape (n,)
        The columns that define identical customers.
    weights : ndarray of shape (n,)
        Case weights.

    Returns
    -------
    unique : list of ndarray of shape (m,)
        The distinct rows, column by column.
    weights : ndarray of shape (m,)
        Summed weights of each distinct row.
    inverse : ndarray of shape (n,)
        For each input row, its distinct row.

    Examples
    --------
    >>> import numpy as np
    >>> u, w, inv = collapse([np.array([1.0, 1.0, 2.0])], np.ones(3))
    >>> u[0].tolist(), w.tolist(), inv.tolist()
    ([1.0, 2.0], [2.0, 1.0], [0, 0, 1])
    """
    if len(arrays[0]) == 0:
        return [a.copy() for a in arrays], weights.copy(), np.zeros(0, dtype=np.intp)
    stacked = np.column_stack(arrays)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    w = np.bincount(inverse, weights=weights, minlength=len(uniq)).astype(np.float64)
    return [uniq[:, j].copy() for j in range(uniq.shape[1])], w, inverse
