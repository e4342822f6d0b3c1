"""Building the reason texts of segment decisions, vectorised.

A reason holds the customer's own numbers, so almost every customer's text
differs; formatting one Python string per customer is the slow part at a
million customers. Here each distinct displayed number is formatted once
(:func:`number_texts`), constant pieces are picked by code (:func:`pick`),
and the pieces are joined element-wise in one pass (:func:`join_texts`,
through pyarrow when pandas stores strings there).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["format_number", "join_texts", "number_texts", "percent", "pick"]

#: A magnitude at or above the i-th bound shows one decimal fewer: 6 decimals
#: below 0.001, none from 100 on (three significant digits, whole numbers).
_BOUNDS = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
#: 10 ** decimals, exact (a table, not ``pow``, which may differ by path).
_SCALES = np.array([1.0, 10.0, 100.0, 1e3, 1e4, 1e5, 1e6])

Piece = Any  # a str (the same for every customer) or a "str" Series


def _rounded(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values rounded as they are shown, and the decimals shown (NaN and inf kept).

    Only comparisons and correctly rounded arithmetic: the same value rounds
    the same in any array, so a customer's text never depends on the batch.
    """
    magnitude = np.abs(values)
    digits = np.full(len(values), len(_BOUNDS), dtype=np.int64)
    for bound in _BOUNDS:
        digits -= magnitude >= bound
    scale = _SCALES[digits]
    finite = np.isfinite(values)
    with np.errstate(invalid="ignore", over="ignore"):
        rounded = np.where(finite, np.round(values * scale) / scale, values)
    return rounded, digits


def format_number(value: float) -> str:
    """A number as a reason shows it: three significant digits, thousands separated.

    Values of 100 or more are shown whole (``1,240``), smaller ones with
    three significant digits (at most six decimals) and no trailing zeros
    (``41.5``, ``0.25``).

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        ``"missing"`` for NaN, ``"inf"``/``"-inf"`` for infinities.

    Examples
    --------
    >>> format_number(1243.7), format_number(41.03), format_number(0.25), format_number(3.0)
    ('1,244', '41', '0.25', '3')
    """
    rounded, digits = _rounded(np.array([float(value)]))
    return _shown(float(rounded[0]), int(digits[0]))


def _shown(rounded: float, digits: int) -> str:
    """The text of a value already rounded to ``digits`` decimals."""
    if math.isnan(rounded):
        return "missing"
    if math.isinf(rounded):
        return "inf" if rounded > 0 else "-inf"
    text = f"{rounded:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def percent(share: float) -> str:
    """A share in [0, 1] as a percentage without needless decimals.

    Parameters
    ----------
    share : float

    Returns
    -------
    str

    Examples
    --------
    >>> percent(0.2), percent(1 - 0.8), percent(0.125)
    ('20', '20', '12.5')
    """
    return f"{round(100.0 * float(share), 4):g}"


def _str_series(texts: Sequence[str], codes: np.ndarray) -> pd.Series:
    array = pd.array(list(texts), dtype="str").take(np.asarray(codes, dtype=np.intp))
    series: pd.Series = pd.Series(array, copy=False)
    return series


def number_texts(values: Any) -> pd.Series:
    """Each value as :func:`format_number` shows it, formatting each distinct value once.

    Parameters
    ----------
    values : array-like of float, shape (n_customers,)

    Returns
    -------
    pandas.Series
        dtype ``"str"``, default (positional) index.

    Examples
    --------
    >>> number_texts([1243.7, 1243.9, float("nan")]).tolist()
    ['1,244', '1,244', 'missing']
    """
    rounded, _ = _rounded(np.asarray(values, dtype=np.float64))
    codes, uniques = pd.factorize(rounded, use_na_sentinel=False)
    # a rounded value rounds to itself and reads as the value it came from
    again, digits = _rounded(np.asarray(uniques, dtype=np.float64))
    texts = [_shown(u, d) for u, d in zip(again.tolist(), digits.tolist(), strict=True)]
    return _str_series(texts, codes)


def pick(texts: Sequence[str], codes: Any) -> pd.Series:
    """The text of each code: ``texts[codes]`` as a ``"str"`` Series.

    Parameters
    ----------
    texts : sequence of str
        One text per code.
    codes : array-like of int, shape (n_customers,)

    Returns
    -------
    pandas.Series
        dtype ``"str"``, default (positional) index.

    Examples
    --------
    >>> pick(["A", "B"], [1, 0, 1]).tolist()
    ['B', 'A', 'B']
    """
    return _str_series(texts, np.asarray(codes, dtype=np.intp))


def _arrow_join(parts: Sequence[Piece], n: int) -> Any:
    try:
        pa: Any = importlib.import_module("pyarrow")
        pc: Any = importlib.import_module("pyarrow.compute")
    except ImportError:  # pragma: no cover - pyarrow is optional
        return None
    arrays: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            arrays.append(pa.scalar(part, pa.large_string()))
        elif isinstance(part.array, pd.arrays.ArrowStringArray):
            chunked = part.array.__arrow_array__()
            if chunked.type != pa.large_string():
                chunked = chunked.cast(pa.large_string())
            arrays.append(chunked)
        else:
            return None
    if all(isinstance(part, str) for part in parts):
        return None
    joined = pc.binary_join_element_wise(*arrays, pa.scalar("", pa.large_string()))
    return pd.array(joined, dtype="str")


def join_texts(parts: Sequence[Piece], n: int) -> Any:
    """Join text pieces element-wise: literals and ``"str"`` Series of length ``n``.

    Parameters
    ----------
    parts : sequence of str or pandas.Series
        The pieces in order; a str is the same for every customer.
    n : int
        Number of customers.

    Returns
    -------
    pandas.api.extensions.ExtensionArray
        dtype ``"str"``, one text per customer.

    Examples
    --------
    >>> join_texts(["A: ", number_texts([1.5, 2000.0]), " !"], 2).tolist()
    ['A: 1.5 !', 'A: 2,000 !']
    """
    if n == 0:
        return pd.array([], dtype="str")
    fast = _arrow_join(parts, n)
    if fast is not None:
        return fast
    out = pd.Series(pd.array([""] * n, dtype="str"))
    for part in parts:
        out = out + (part if isinstance(part, str) else part.reset_index(drop=True))
    return out.array
