"""The canonical form of a fit's data: distinct rows in a fixed order, with summed weights.

A fit must be a function of the multiset of customers, not of the order in
which a database returned them. Floating-point sums depend on the order of
their terms, and so do an optimiser's path and its stopping point; the value
models therefore collapse their input to :func:`canonical_rows` before any
arithmetic: identical customers become one weighted row and the distinct rows
come in an order fixed by their values alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["canonical_rows"]

FloatArray = npt.NDArray[np.float64]

#: Odd 64-bit multiplier (golden ratio) that mixes the columns of a row into one key.
_MIX = np.uint64(0x9E3779B97F4A7C15)


def _row_keys(cols: Sequence[FloatArray]) -> npt.NDArray[np.uint64]:
    """One 64-bit key per row from the bit patterns of its values (equal rows, equal keys)."""
    key = np.zeros(len(cols[0]), dtype=np.uint64)
    for col in cols:
        bits = np.ascontiguousarray(col).view(np.uint64)
        key = (key * _MIX) ^ bits
        key ^= key >> np.uint64(29)
    return key


def _group_starts(sorted_cols: Sequence[FloatArray]) -> npt.NDArray[np.intp]:
    n = len(sorted_cols[0])
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for col in sorted_cols:
        new[1:] |= col[1:] != col[:-1]
    return np.flatnonzero(new)


def canonical_rows(
    arrays: Sequence[npt.ArrayLike], weights: npt.ArrayLike
) -> tuple[list[FloatArray], FloatArray]:
    """Collapse weighted rows to distinct rows in an order that depends on the values only.

    Rows are ordered by a 64-bit key computed from their values (ties, i.e.
    identical rows, by weight), identical rows are merged and their weights
    summed in that order. The result is therefore bit-identical for any
    permutation of the input rows: sums over it, and a fit on it, do not
    depend on row order. Should two different rows share a key (a
    collision, about one chance in ``2**64`` per pair), the rows are sorted
    lexicographically instead, which is canonical too. ``-0.0`` is read as
    ``0.0``.

    Parameters
    ----------
    arrays : sequence of array-like of shape (n,)
        The columns that define a customer (finite floats).
    weights : array-like of shape (n,)
        Case weights (finite, > 0).

    Returns
    -------
    unique : list of ndarray of shape (m,)
        The distinct rows, column by column, in canonical order.
    weights : ndarray of shape (m,)
        The summed weight of each distinct row.

    Examples
    --------
    >>> import numpy as np
    >>> cols, w = canonical_rows([np.array([2.0, 1.0, 2.0])], np.ones(3))
    >>> again, w2 = canonical_rows([np.array([1.0, 2.0, 2.0])], np.ones(3))
    >>> cols[0].tolist() == again[0].tolist(), sorted(zip(cols[0].tolist(), w.tolist()))
    (True, [(1.0, 1.0), (2.0, 2.0)])
    """
    cols = [np.asarray(a, dtype=np.float64) + 0.0 for a in arrays]  # + 0.0: -0.0 -> 0.0
    w = np.asarray(weights, dtype=np.float64)
    if len(w) == 0:
        return [c.copy() for c in cols], w.copy()
    key = _row_keys(cols)
    uniform = bool(np.all(w == w[0]))
    order = np.argsort(key, kind="stable") if uniform else np.lexsort((w, key))
    sorted_cols = [c[order] for c in cols]
    sorted_key = key[order]
    starts = _group_starts([*sorted_cols])
    # rows with one key must be one group: else two distinct rows share a key
    key_starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    if len(key_starts) != len(starts):
        order = np.lexsort((w, *cols[::-1]))
        sorted_cols = [c[order] for c in cols]
        starts = _group_starts(sorted_cols)
    summed = np.add.reduceat(w[order], starts).astype(np.float64)
    return [c[starts] for c in sorted_cols], summed
