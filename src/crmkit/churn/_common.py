"""Shared pieces of the churn detectors: labels, reasons and the score frame."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.api.extensions import ExtensionArray

from crmkit._checks import SHOWN
from crmkit._checks import first_labels as _first
from crmkit._params import Predicate
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import validate_view

__all__ = [
    "LABELS",
    "check_churn_view",
    "check_labels",
    "format_reasons",
    "reason_codes",
    "reasons_array",
    "score_frame",
    "column_values",
    "signal_columns",
]

FloatArray = npt.NDArray[np.float64]
IntpArray = npt.NDArray[np.intp]
UIntArray = npt.NDArray[np.unsignedinteger[Any]]
_MAX_SHOWN = SHOWN

#: The constraint of a supervised detector's ``fit(view, y)``: labels are required.
LABELS = Predicate(
    lambda v: v is not None,
    "churn labels (a bool Series indexed by customer id; the model learns from them)",
)


def check_churn_view(
    view: object, owner: str, columns: Sequence[str], *, filled: Collection[str] = ()
) -> pd.DataFrame:
    """Check a churn detector's view: its columns present and numeric.

    Every churn detector reads numeric view columns and treats a missing
    value as "no signal", except in the ``filled`` columns (such as ``T``
    and ``recency``) that a summarised view always fills.

    Parameters
    ----------
    view : object
        The customer view (checked to be a DataFrame).
    owner : str
        ``"<Detector>.<method>"``, for messages.
    columns : sequence of str
        The columns the detector reads (its ``requires``).
    filled : collection of str, default=()
        Columns that must not hold missing values.

    Returns
    -------
    pandas.DataFrame
        ``view`` itself.

    Raises
    ------
    SchemaError
        For a missing or non-numeric column, or a missing value where
        ``filled`` forbids it.

    Examples
    --------
    >>> view = pd.DataFrame({"T": [5.0, 3.0], "last_nps": [9.0, None]})
    >>> check_churn_view(view, "Rules.fit", ["T", "last_nps"], filled={"T"}) is view
    True
    >>> check_churn_view(view.drop(columns="T"), "Rules.fit", ["T", "last_nps"])
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - view['T']: is missing...
    """
    cols = list(columns)
    return validate_view(
        view, owner, required=cols, numeric=cols, nullable=[c for c in cols if c not in filled]
    )


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
                    frame="y",
                    column="<labels>",
                    check=f"is not a pandas Series (got {type(y).__name__}); {owner} needs churn "
                    "labels indexed by customer id",
                )
            ]
        )
    if not y.index.is_unique:
        dup = np.asarray(y.index.duplicated(keep=False))
        raise SchemaError(
            [
                SchemaFailure(
                    frame="y",
                    column="<index>",
                    check="has duplicate customer ids",
                    n_failing=int(dup.sum()),
                    rows=_first(y.index, dup),
                )
            ]
        )
    absent = np.asarray(~view.index.isin(y.index))
    if absent.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="y",
                    column="<index>",
                    check="lacks customers of the view",
                    n_failing=int(absent.sum()),
                    rows=_first(view.index, absent),
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
            [
                SchemaFailure(
                    frame="y",
                    column="<labels>",
                    check=f"is not boolean or 0/1 (dtype {aligned.dtype})",
                )
            ]
        )
    values = aligned.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="y",
                    column="<labels>",
                    check="holds values other than True/False (or 1/0), or missing values",
                    n_failing=int(bad.sum()),
                    rows=_first(view.index, bad),
                    values=tuple(values[bad][:_MAX_SHOWN].tolist()),
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


_FAST_TOP = 2**31  # listed values rounding to whole units below this take the fast path
_LOOKUP = 2**22  # direct lookup tables up to this size
_CHUNK = 16384  # rows at a time for elementwise passes


def _packed(n: int, k: int, top: int) -> UIntArray:
    """Zeros, (n, >= k), C order, of the narrowest unsigned type holding ``top``; rows fill
    whole 64-bit words, so ``.view(np.uint64)`` packs each row (equal rows, equal words)."""
    width = next(w for w in (1, 2, 4, 8) if top < 2 ** (8 * w))
    per = 8 // width
    out: UIntArray = np.zeros((n, -(-k // per) * per), dtype=f"u{width}")
    return out


def _fast_codes(c: FloatArray, minimum: float, scale: float, top: int) -> UIntArray:
    """Packed codes (see :func:`_packed`): 0 where ``c <= minimum``, else 1 + ``rint(c * scale)``.

    The listed codes must lie below ``top``; other entries may hold anything.
    """
    n, k = c.shape
    packed = _packed(n, k, top)
    shape = (min(n, _CHUNK), k)
    layout: Literal["C", "F"] = "F" if np.isfortran(c) else "C"
    scaled = np.empty(shape, dtype=np.float64, order=layout)
    listed = np.empty(shape, dtype=bool, order=layout)
    units = np.empty(shape, dtype=packed.dtype, order=layout)
    with np.errstate(invalid="ignore", over="ignore"):  # left out: any value, zeroed below
        for start in range(0, n, _CHUNK):  # cache-sized pieces
            part = c[start : start + _CHUNK]
            m = len(part)
            np.multiply(part, scale, out=scaled[:m])
            np.rint(scaled[:m], out=units[:m], casting="unsafe")  # half to even, as np.round
            np.greater(part, minimum, out=listed[:m])
            units[:m] += 1
            units[:m] *= listed[:m]
            packed[start : start + m, :k] = units[:m]
    return packed


def _words(rows: npt.NDArray[Any], top: int) -> npt.NDArray[np.uint64]:
    """Rows of whole numbers in ``[0, top]`` packed into 64-bit words (equal rows, equal words)."""
    packed = _packed(rows.shape[0], rows.shape[1], top)
    packed[:, : rows.shape[1]] = rows
    return packed.view(np.uint64)


def _group_rows(words: npt.NDArray[np.uint64]) -> tuple[IntpArray, IntpArray]:
    """Each row's group of identical rows and each group's first row (exact: hash tables
    with value checks, one word column at a time)."""
    n = words.shape[0]
    codes, size = np.zeros(n, dtype=np.int64), 1
    for j in range(words.shape[1]):
        raw, uniques = pd.factorize(words[:, j])
        if j:  # pairs of group numbers, below n * n: no overflow
            raw, uniques = pd.factorize((codes * len(uniques) + raw).astype(np.uint64))
        codes, size = np.asarray(raw, dtype=np.int64), len(uniques)
    first = np.empty(size, dtype=np.intp)
    first[codes[::-1]] = np.arange(n - 1, -1, -1, dtype=np.intp)
    return codes.astype(np.intp), first


def _ranked_texts(
    order: npt.NDArray[np.intp],
    ranked: npt.NDArray[np.int64],
    names: Sequence[str],
    values: Sequence[int],
    scale: float,
    digits: int,
) -> list[str]:
    """The text of rows given as columns in listing order and their codes in that order.

    A code is 0 for a signal left out, else 1 + the index of its rounded value
    (in units of ``1 / scale``) in ``values``; listed signals come first.
    """
    base = len(values) + 1
    listed = ranked > 0
    keys = np.where(listed, order * base + ranked, 0)
    if len(names) * base <= _LOOKUP:  # a lookup table, no sort
        present = np.zeros(len(names) * base, dtype=bool)
        present[keys] = True
        ids = np.flatnonzero(present)
        slot = (np.cumsum(present) - 1)[keys]
    else:
        ids, slot = np.unique(keys, return_inverse=True)
    table = np.array(  # each "name (value)" written once
        [f"{names[j]} ({values[v - 1] / scale:.{digits}f})" if v else ""
         for j, v in (divmod(p, base) for p in ids.tolist())],
        dtype=object,
    )  # fmt: skip
    pieces = table[slot.reshape(ranked.shape)]
    count = listed.sum(axis=1)
    out = np.full(len(count), "", dtype=object)
    for m in np.unique(count[count > 0]).tolist():  # rows listing m signals
        rows = np.flatnonzero(count == m)
        out[rows] = ["; ".join(row) for row in pieces[rows, :m].tolist()]
    texts: list[str] = out.tolist()
    return texts


def reason_codes(
    contributions: FloatArray, names: Sequence[str], *, minimum: float = 0.0, digits: int = 2
) -> tuple[list[str], IntpArray]:
    """Each customer's ``reasons`` text, as an index into a short list of texts.

    The texts are those of :func:`format_reasons`; customers sharing a text
    share an index, so a text is written once however many customers have it.

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
    texts : list of str
        The texts (an entry may be used by no customer).
    codes : numpy.ndarray of intp, shape (n_customers,)
        Each customer's text is ``texts[codes[i]]``.

    Examples
    --------
    >>> texts, codes = reason_codes(np.array([[0.1, 0.3], [0.0, 0.0], [0.1, 0.3]]),
    ...                             ["nps", "trend"])
    >>> [texts[i] for i in codes]
    ['trend (0.30); nps (0.10)', '', 'trend (0.30); nps (0.10)']
    """
    c = np.asarray(contributions, dtype=np.float64)
    n, k = c.shape
    if n == 0 or k == 0:
        return [""], np.zeros(n, dtype=np.intp)
    scale = 10.0**digits
    with np.errstate(invalid="ignore", over="ignore"):  # NaN or infinite: the exact path below
        top = float(np.rint(c.max() * scale)) + 1.0  # above every listed value's units
    # Listed values are >= 0 and round to whole units below a bound: a signal's rank follows
    # its units, except between equal units ("ties"), settled below from the exact values.
    fast = minimum >= 0.0 and -_FAST_TOP < top < _FAST_TOP  # (False for NaN)
    values: Sequence[int]
    if fast:
        values = range(max(int(top), 1))
        packed = _fast_codes(c, minimum, scale, len(values))
        codes: npt.NDArray[Any] = packed[:, :k]
    else:  # negative, huge, infinite or NaN values: rank every customer exactly
        shown = c > minimum
        codes = np.zeros((n, k), dtype=np.int64)
        distinct, which = np.unique(
            np.round(c[shown] * scale).astype(np.int64), return_inverse=True
        )
        codes[shown] = which.reshape(-1) + 1
        values = distinct.tolist()
        packed = _words(codes, len(values))
    # customers with the same listed signals and rounded values, whatever their order
    group, first = _group_rows(packed.view(np.uint64))
    heads = np.asarray(codes[first], dtype=np.int64)
    head_order = np.argsort(-heads, axis=1, kind="stable")  # equal: the order of names
    head_ranked = np.take_along_axis(heads, head_order, axis=1)
    same = (head_ranked[:, 1:] == head_ranked[:, :-1]) & (head_ranked[:, 1:] > 0)
    # 0: no tie, the head's order is every member's; 1: one tied pair; 2: rank exactly
    kind = np.minimum(same.sum(axis=1), 2).astype(np.int8) if fast else np.full(len(first), 2)
    untied = np.flatnonzero(kind == 0)
    head_texts = np.full(len(first), "", dtype=object)
    head_texts[untied] = _ranked_texts(
        head_order[untied], head_ranked[untied], names, values, scale, digits
    )
    texts: list[str] = head_texts.tolist()
    row_kind = kind[group]
    pairs = np.flatnonzero(kind == 1)
    if len(pairs):  # columns a < b tie at place `at`; a stable sort puts b first iff c_b > c_a
        at = np.argmax(same[pairs], axis=1)
        slot = np.zeros(len(first), dtype=np.intp)
        slot[pairs] = np.arange(len(pairs))
        rows = np.flatnonzero(row_kind == 1)
        which_pair = slot[group[rows]]
        a, b = head_order[pairs, at][which_pair], head_order[pairs, at + 1][which_pair]
        variant = 2 * which_pair + (c[rows, b] > c[rows, a])
        used = np.flatnonzero(np.bincount(variant, minlength=2 * len(pairs)))
        pair, swap = used // 2, np.flatnonzero(used % 2)
        order = head_order[pairs[pair]]
        place = at[pair[swap]]
        order[swap, place], order[swap, place + 1] = order[swap, place + 1], order[swap, place]
        variant_texts = np.full(2 * len(pairs), "", dtype=object)
        variant_texts[used] = _ranked_texts(
            order, head_ranked[pairs[pair]], names, values, scale, digits
        )
        group[rows] = len(texts) + variant
        texts += variant_texts.tolist()
    rows = np.flatnonzero(row_kind == 2)
    if len(rows):  # rank exactly: equal contributions keep the order of names
        order = np.argsort(-c[rows], axis=1, kind="stable")
        ranked = np.take_along_axis(np.asarray(codes[rows], dtype=np.int64), order, axis=1)
        key = np.concatenate(
            [group[rows, None].astype(np.uint64), _words(np.where(ranked > 0, order, k), k)],
            axis=1,
        )
        sub, sub_first = _group_rows(key)
        group[rows] = len(texts) + sub
        texts += _ranked_texts(order[sub_first], ranked[sub_first], names, values, scale, digits)
    return texts, group


def format_reasons(
    contributions: FloatArray, names: Sequence[str], *, minimum: float = 0.0, digits: int = 2
) -> list[str]:
    """The ``reasons`` text of each customer: signals that fired, largest first.

    A signal is listed when its contribution exceeds ``minimum``; each entry
    reads ``"name (0.31)"`` and entries are joined with ``"; "``. Equal
    contributions keep the order of ``names``; values are rounded to
    ``digits`` decimals (half to even). A customer with no listed signal
    gets ``""``; missing (NaN) contributions are never listed.

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

    See Also
    --------
    reasons_array : The same texts as a pandas string array.

    Examples
    --------
    >>> format_reasons(np.array([[0.1, 0.3], [0.0, 0.0]]), ["nps", "trend"])
    ['trend (0.30); nps (0.10)', '']
    """
    texts, codes = reason_codes(contributions, names, minimum=minimum, digits=digits)
    result: list[str] = np.array(texts, dtype=object)[codes].tolist()
    return result


def reasons_array(
    contributions: FloatArray, names: Sequence[str], *, minimum: float = 0.0, digits: int = 2
) -> ExtensionArray:
    """The texts of :func:`format_reasons` as a pandas ``str`` array, for :func:`score_frame`.

    Each distinct text is converted once, which is much faster than
    converting one Python string per customer.

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
    pandas.api.extensions.ExtensionArray
        dtype ``"str"``, one text per customer.

    Examples
    --------
    >>> reasons_array(np.array([[0.1, 0.3], [0.0, 0.0]]), ["nps", "trend"]).tolist()
    ['trend (0.30); nps (0.10)', '']
    """
    texts, codes = reason_codes(contributions, names, minimum=minimum, digits=digits)
    out: ExtensionArray = pd.array(texts, dtype="str").take(codes)
    return out


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
    reasons: Sequence[str] | ExtensionArray,
    signals: Mapping[str, FloatArray],
) -> pd.DataFrame:
    """Assemble a churn detector's output frame.

    Parameters
    ----------
    index : pandas.Index
        The view's index (kept as is).
    risk : numpy.ndarray of float, shape (n_customers,)
        Churn risk; clipped to [0, 1].
    reasons : list of str or pandas.api.extensions.ExtensionArray
        One text per customer (a list, or a string array such as
        :func:`reasons_array` returns).
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
    block = np.empty((len(index), len(signals)), dtype=np.float64, order="F")
    for j, values in enumerate(signals.values()):  # one copy, laid out as the frame keeps it
        block[:, j] = np.asarray(values, dtype=np.float64)
    frame: pd.DataFrame = pd.DataFrame(
        block, index=index.copy(), columns=[f"signal_{name}" for name in signals], copy=False
    )
    frame.insert(0, "churn_risk", np.clip(np.asarray(risk, dtype=np.float64), 0.0, 1.0))
    text: Any = (
        reasons.astype("str", copy=False)
        if isinstance(reasons, ExtensionArray)
        else pd.array(list(reasons), dtype="str")
    )
    frame.insert(1, "reasons", text)
    return frame
