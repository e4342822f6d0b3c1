"""Reason texts of many customers at once: distinct pieces formatted once, joined in C.

Part of the kernel. A reason text holds the customer's own numbers, so
almost every customer's text differs and one Python f-string per customer
is the slow part at a million customers. Here a text column is built from
pieces: a :class:`Coded` piece is a small table of distinct texts and one
code per customer (:func:`coded` for labels, :func:`formatted` for numbers,
each distinct value formatted once); :func:`join_texts` joins the pieces
element-wise in one pass (through pyarrow when pandas stores strings
there, else per customer in Python) into a ``"str"`` array, exactly what
``pd.array([...], dtype="str")`` of the per-customer f-strings gives.

Examples
--------
>>> import numpy as np
>>> from crmkit._text import coded, formatted, join_texts
>>> weeks = formatted(np.array([3.0, 12.5, 3.0]), lambda v: f"{v:g}")
>>> head = coded(np.array([0, 1, 0]), ["new", "old"])
>>> join_texts([head, ": ", weeks, " weeks"], 3).tolist()
['new: 3 weeks', 'old: 12.5 weeks', 'new: 3 weeks']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["Coded", "coded", "fixed", "formatted", "join_texts"]

IntArray = npt.NDArray[np.intp]


class Coded:
    """A text column held as one code per customer into a table of distinct texts.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_customers,)
        Index into ``texts`` of each customer's text.
    texts : sequence of str
        The distinct texts.

    Examples
    --------
    >>> piece = Coded(np.array([1, 0]), ["a", "b"])
    >>> piece.values().tolist()
    ['b', 'a']
    """

    __slots__ = ("codes", "texts")

    def __init__(self, codes: IntArray, texts: Sequence[str]) -> None:
        self.codes = np.asarray(codes, dtype=np.intp)
        self.texts = list(texts)

    def put(self, where: Any, text: str) -> Coded:
        """The same piece with ``text`` for the customers in ``where``.

        Parameters
        ----------
        where : array-like of bool, shape (n_customers,)
        text : str

        Returns
        -------
        Coded

        Examples
        --------
        >>> Coded(np.array([0, 0]), ["x"]).put([False, True], "?").values().tolist()
        ['x', '?']
        """
        codes = np.where(np.asarray(where, dtype=bool), len(self.texts), self.codes)
        return Coded(codes, [*self.texts, text])

    def values(self) -> npt.NDArray[np.object_]:
        """Each customer's text, as an object array.

        Returns
        -------
        numpy.ndarray of object, shape (n_customers,)

        Examples
        --------
        >>> Coded(np.array([0, 0]), ["x"]).values().tolist()
        ['x', 'x']
        """
        table = np.empty(len(self.texts), dtype=object)
        table[:] = self.texts
        out: npt.NDArray[np.object_] = table[self.codes]
        return out


def coded(codes: Any, texts: Sequence[str], where: Any = None) -> Coded:
    """A piece that picks ``texts[code]`` per customer (``""`` outside ``where``).

    Parameters
    ----------
    codes : array-like of int, shape (n_customers,)
        Index into ``texts``.
    texts : sequence of str
        One text per code.
    where : array-like of bool, shape (n_customers,), optional
        Customers that get the piece; the others get ``""``.

    Returns
    -------
    Coded

    Examples
    --------
    >>> coded([1, 0, 1], ["A", "B"], where=[True, True, False]).values().tolist()
    ['B', 'A', '']
    """
    codes = np.asarray(codes, dtype=np.intp)
    if where is None:
        return Coded(codes, texts)
    return Coded(np.where(np.asarray(where, dtype=bool), codes, len(texts)), [*texts, ""])


def formatted(values: Any, fmt: Callable[[float], str], where: Any = None) -> Coded:
    """A piece with ``fmt(value)`` per customer, each distinct value formatted once.

    Values are told apart bit for bit (``-0.0`` apart from ``0.0``, as a
    format writes them), so each customer's text is exactly ``fmt`` of its
    own value, whatever the other customers hold.

    Parameters
    ----------
    values : array-like of float, shape (n_customers,)
        The numbers.
    fmt : callable
        Text of one number (a Python float).
    where : array-like of bool, shape (n_customers,), optional
        Customers that get the piece; the others get ``""`` (their values
        are never formatted).

    Returns
    -------
    Coded

    Examples
    --------
    >>> formatted(np.array([1.0, 2.5, 1.0, np.nan]), "{:.1f}".format).values().tolist()
    ['1.0', '2.5', '1.0', 'nan']
    """
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    mask = None if where is None else np.asarray(where, dtype=bool)
    if mask is not None:
        bits = bits[mask]
    codes, distinct = pd.factorize(bits)
    texts = [fmt(v) for v in np.asarray(distinct, dtype=np.int64).view(np.float64).tolist()]
    if mask is None:
        return Coded(codes, texts)
    full = np.full(len(mask), len(texts), dtype=np.intp)
    full[mask] = codes
    return Coded(full, [*texts, ""])


#: Scaled magnitudes below this are rounded in floating point exactly as a format rounds them
#: (the product's error, under 1e9 * 2**-52, stays far inside :data:`_TIE`).
_EXACT = 1e9
#: Scaled values this close to a rounding tie are formatted by Python instead.
_TIE = 1e-6
#: Up to this many distinct values are all formatted by Python.
_FEW = 4096
#: Exact powers of ten, by decimals.
_POWERS = np.array([10.0**d for d in range(8)])


def _digits(code: int, sign: str) -> str:
    """The text of ``code = (round(|v| * 10**d) * 2 + negative) * 8 + d``."""
    d, rest = code % 8, code // 8
    k, negative = rest // 2, rest % 2
    if d == 0:
        body = str(k)
    else:
        padded = str(k).rjust(d + 1, "0")
        body = f"{padded[:-d]}.{padded[-d:]}"
    return ("-" if negative else sign) + body


def fixed(values: Any, decimals: Any, sign: str = "", where: Any = None) -> Coded:
    """A piece with ``format(v, f"{sign}.{d}f")`` per customer, each distinct value once.

    Few distinct values are formatted by Python. Many are rounded with
    numpy where that is provably the rounding the format does (magnitudes
    below 1e9 after scaling, away from a tie), and only the distinct
    rounded numbers are written; the others (ties, huge values, NaN,
    infinities) are formatted by Python. So each text equals the
    f-string's exactly, ``"-0.00"`` for small negative values included.

    Parameters
    ----------
    values : array-like of float, shape (n_customers,)
        The numbers.
    decimals : int or array-like of int in [0, 7], shape (n_customers,)
        Decimals shown (per customer when an array).
    sign : {"", "+"}, default=""
        ``"+"`` writes a plus sign before non-negative values.
    where : array-like of bool, shape (n_customers,), optional
        Customers that get the piece; the others get ``""``.

    Returns
    -------
    Coded

    Examples
    --------
    >>> fixed(np.array([0.125, 2.0, -0.001, np.nan]), 2).values().tolist()
    ['0.12', '2.00', '-0.00', 'nan']
    >>> fixed(np.array([0.25, 12.0]), np.array([1, 0]), sign="+").values().tolist()
    ['+0.2', '+12']
    """
    v = np.ascontiguousarray(values, dtype=np.float64)
    n = len(v)
    rows = None if where is None else np.flatnonzero(np.asarray(where, dtype=bool))
    bits = v.view(np.int64) if rows is None else v[rows].view(np.int64)
    codes, distinct = pd.factorize(bits)
    per_row = np.ndim(decimals) > 0
    if per_row:  # distinct (value, decimals) pairs
        d = np.broadcast_to(np.asarray(decimals, dtype=np.int64), (n,))
        codes, pairs = pd.factorize(codes * 8 + (d if rows is None else d[rows]))
        x = np.asarray(distinct, dtype=np.int64)[pairs // 8].view(np.float64)
        dx = np.asarray(pairs % 8, dtype=np.int64)
    else:
        x = np.asarray(distinct, dtype=np.int64).view(np.float64)
        dx = np.full(len(x), int(decimals), dtype=np.int64)
    table, texts = _fixed_texts(x, dx, sign)
    full = np.asarray(table, dtype=np.intp)[np.asarray(codes, dtype=np.intp)]
    if rows is None:
        return Coded(full, texts)
    out = np.full(n, len(texts), dtype=np.intp)
    out[rows] = full
    return Coded(out, [*texts, ""])


def _fixed_texts(x: Any, dx: Any, sign: str) -> tuple[IntArray, list[str]]:
    """Text code of each distinct value and the texts (see :func:`fixed`)."""
    if len(x) <= _FEW:
        pairs = zip(x.tolist(), dx.tolist(), strict=True)
        return np.arange(len(x)), [format(a, f"{sign}.{b}f") for a, b in pairs]
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = np.abs(x) * _POWERS[dx]
        whole = np.floor(scaled)
        safe = (scaled < _EXACT) & (np.abs(scaled - whole - 0.5) > _TIE)
        k = np.where(safe, np.floor(scaled + 0.5), 0.0).astype(np.int64)
    key = np.where(safe, (k * 2 + np.signbit(x)) * 8 + dx, -1)
    codes, keys = pd.factorize(key)
    texts = [_digits(c, sign) for c in np.asarray(keys, dtype=np.int64).tolist()]
    table = np.asarray(codes, dtype=np.intp)
    exact = np.flatnonzero(~safe)
    table[exact] = len(texts) + np.arange(len(exact))  # formatted by Python
    texts += [
        format(a, f"{sign}.{b}f")
        for a, b in zip(x[exact].tolist(), dx[exact].tolist(), strict=True)
    ]
    return table, texts


def _arrow() -> tuple[Any, Any] | None:
    """pyarrow and pyarrow.compute when pandas keeps ``"str"`` columns in pyarrow."""
    if getattr(pd.array([], dtype="str").dtype, "storage", None) != "pyarrow":
        return None
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.compute")
    except ImportError:  # pragma: no cover - pandas stores "str" in pyarrow only with it
        return None


#: Adjacent pieces are merged into one while their table of combined texts stays this small.
_MERGED_TEXTS = 1 << 14


def _merged(parts: Sequence[str | Coded]) -> list[str | Coded]:
    """The same texts in fewer pieces: literals folded into neighbours, small tables combined."""
    out: list[str | Coded] = []
    for part in parts:
        prev = out[-1] if out else None
        if isinstance(part, str):
            if isinstance(prev, str):
                out[-1] = prev + part
            elif isinstance(prev, Coded):
                out[-1] = Coded(prev.codes, [t + part for t in prev.texts])
            elif part:
                out.append(part)
        elif isinstance(prev, str):
            out[-1] = Coded(part.codes, [prev + t for t in part.texts])
        elif isinstance(prev, Coded) and len(prev.texts) * len(part.texts) <= _MERGED_TEXTS:
            width = len(part.texts)
            texts = [a + b for a in prev.texts for b in part.texts]
            out[-1] = Coded(prev.codes * width + part.codes, texts)
        else:
            out.append(part)
    return out


def join_texts(parts: Sequence[str | Coded], n: int) -> Any:
    """Join pieces element-wise into one text per customer.

    Parameters
    ----------
    parts : sequence of str or Coded
        The pieces in order; a str is the same for every customer.
    n : int
        Number of customers.

    Returns
    -------
    pandas.api.extensions.ExtensionArray
        dtype ``"str"``, equal to ``pd.array(texts, dtype="str")`` of the
        per-customer joined texts.

    Examples
    --------
    >>> join_texts(["x = ", coded([0, 1], ["1", "22"]), "!"], 2).tolist()
    ['x = 1!', 'x = 22!']
    """
    parts = _merged(parts)
    arrow = _arrow()
    if not parts:
        return pd.array([""] * n, dtype="str")
    if n == 0 or arrow is None:
        columns = [np.full(n, p, dtype=object) if isinstance(p, str) else p.values() for p in parts]
        return pd.array(["".join(row) for row in zip(*columns, strict=True)], dtype="str")
    pa, pc = arrow
    pieces: list[Any] = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(pa.scalar(part, pa.large_string()))
        else:
            table = pa.array(part.texts, pa.large_string())
            pieces.append(table.take(pa.array(part.codes, pa.int64())))
    if len(pieces) == 1 and not isinstance(parts[0], str):
        return pd.array(pieces[0], dtype="str")
    if not any(isinstance(p, Coded) for p in parts):
        pieces.append(pa.array([""] * n, pa.large_string()))
    joined = pc.binary_join_element_wise(*pieces, pa.scalar("", pa.large_string()))
    return pd.array(joined, dtype="str")
