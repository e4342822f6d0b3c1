"""The numeric core of ``summarize``: per-customer purchase statistics with numpy.

One sort of a packed (customer, day) key, then segment reductions; no Python
loops over customers. Money in whole micro-units sums exactly in any order, so
its totals come straight from the rows (``bincount``) and only the packed keys
are sorted (int32 where they fit); integer ids in a compact range are looked up
in a table of the range instead of hashed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["factorize_sorted", "purchase_stats", "stable_order"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def stable_order(key: IntArray) -> npt.NDArray[np.intp]:
    """``argsort(key, kind="stable")``, via one ``np.sort`` of a key packed with row numbers.

    Parameters
    ----------
    key : ndarray of int64, shape (n,)
        Non-negative keys.

    Returns
    -------
    ndarray of intp, shape (n,)
        The stable sorting permutation (ties keep their row order).

    Examples
    --------
    >>> import numpy as np
    >>> stable_order(np.array([3, 1, 3, 0])).tolist()
    [3, 1, 0, 2]
    """
    n = len(key)
    row_bits = max(int(n - 1).bit_length(), 1)
    kmax = int(key.max()) if n else 0
    if kmax.bit_length() + row_bits <= 62:
        packed = (key << row_bits) | np.arange(n, dtype=np.int64)
        packed.sort()
        packed &= (1 << row_bits) - 1  # in place: no second row-sized array
        return packed.astype(np.intp, copy=False)
    return np.argsort(key, kind="stable")


def factorize_sorted(values: pd.Series) -> tuple[IntArray, Any]:
    """``pd.factorize(values, sort=True)``; integers in a compact range by a table look-up.

    Parameters
    ----------
    values : Series of shape (n,)
        Values without nulls (e.g. validated customer ids).

    Returns
    -------
    codes : ndarray of int64, shape (n,)
        Each value's position among the sorted distinct values.
    uniques : Index
        The sorted distinct values (the same dtype and values as pandas gives).

    Examples
    --------
    >>> import pandas as pd
    >>> codes, uniques = factorize_sorted(pd.Series([30, 10, 30, 20]))
    >>> codes.tolist(), uniques.tolist()
    ([2, 0, 2, 1], [10, 20, 30])
    """
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(values):
        raw = values.to_numpy()
        lo, hi = int(raw.min()), int(raw.max())
        # a table of the id range (no larger than the rows): no hashing, no sort
        if hi < 2**63 and hi - lo < len(raw) + (1 << 16):
            if raw.dtype == np.int64:
                shifted = np.subtract(raw, lo)
            else:
                shifted = raw.astype(np.int64)
                shifted -= lo
            present = np.bincount(shifted, minlength=hi - lo + 1) > 0
            distinct = pd.Index((np.flatnonzero(present) + lo).astype(dtype), copy=False)
            if present.all():  # every id of the range: the offsets are the codes
                return shifted, distinct
            lookup = np.cumsum(present, dtype=np.int64)
            lookup -= 1
            codes: IntArray = lookup[shifted]
            return codes, distinct
    found, uniques = pd.factorize(values, sort=True)
    return found.astype(np.int64, copy=False), uniques


def _canonical_ties(
    order: npt.NDArray[np.intp], pstart: IntArray, amount: FloatArray, extra: FloatArray | None
) -> None:
    """Within each run of equal keys, put rows in (amount, extra) order, in place.

    Sums over a run then never depend on the input's row order. Only runs of
    three rows or more are re-sorted: a sum of two numbers is the same in
    either order. The rows are put in amount order by one float sort, then
    in run order by one sort of packed integers; only rows that tie on
    (run, amount) are then ordered by ``extra``.
    """
    sizes = np.diff(np.append(pstart, len(order)))
    multi = sizes > 2
    if not multi.any():
        return
    idx = np.flatnonzero(np.repeat(multi, sizes))
    sub = order[idx]
    run = np.repeat(np.arange(int(multi.sum()), dtype=np.int64), sizes[multi])
    m = len(sub)
    bits = max(int(m - 1).bit_length(), 1)
    if 2 * bits > 62:  # too many rows to pack (run, position) into one integer
        keys = (amount[sub], run) if extra is None else (extra[sub], amount[sub], run)
        order[idx] = sub[np.lexsort(keys)]
        return
    by_amount = np.argsort(amount[sub])  # ties in amount are ordered below (by extra)
    packed = (run[by_amount] << bits) | np.arange(m, dtype=np.int64)
    packed.sort()
    perm = by_amount[packed & ((1 << bits) - 1)]
    del packed, by_amount
    if extra is not None:
        a_sorted = amount[sub[perm]]
        r_sorted = run[perm]
        tie = (r_sorted[1:] == r_sorted[:-1]) & (a_sorted[1:] == a_sorted[:-1])
        if tie.any():
            tied = np.zeros(m, dtype=bool)
            tied[1:] |= tie
            tied[:-1] |= tie
            at = np.flatnonzero(tied)
            group = np.cumsum(np.append(True, ~tie[at[:-1]]))
            within = perm[at]
            perm[at] = within[np.lexsort((extra[sub[within]], group))]
    order[idx] = sub[perm]


def _exact_in_any_order(values: FloatArray | None, codes: IntArray, n_customers: int) -> bool:
    """Whether every partial sum of ``values`` within a customer is exact, in any order.

    True for whole numbers (e.g. money in integer micro-units) whose absolute
    total per customer stays below 2**52: every partial sum of a customer's
    rows is then a representable integer.
    """
    if values is None or len(values) == 0:
        return True
    if not np.array_equal(np.floor(values), values):
        return False
    totals = np.bincount(codes, weights=np.abs(values), minlength=n_customers)
    return bool(totals.max(initial=0.0) < 2.0**52)


def _bounded(values: FloatArray | None, codes: IntArray, n_rows: IntArray) -> bool:
    """Whether whole-number ``values`` total below 2**52 in absolute value per customer.

    A bound from the largest magnitude times the most rows of a customer
    decides most inputs in two passes; otherwise the totals are summed.
    """
    if values is None or len(values) == 0:
        return True
    top = max(abs(float(values.max())), abs(float(values.min())))
    if top * float(n_rows.max(initial=0)) < 2.0**52:
        return True
    if np.isnan(top):
        return False
    totals = np.bincount(codes, weights=np.abs(values), minlength=len(n_rows))
    return bool(totals.max(initial=0.0) < 2.0**52)


def _period_keys(
    codes: IntArray, offset: npt.NDArray[Any], bits: int, n_customers: int
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], BoolArray]:
    """The distinct ``code << bits | offset`` keys, ascending (int32 when they fit).

    Also returns the two row-sized work buffers (the sorted keys and a mask),
    free for the caller to reuse.
    """
    dtype = np.int32 if n_customers << bits <= 2**31 else np.int64
    key = np.left_shift(codes, bits, dtype=dtype)
    key |= offset
    key.sort()
    new = np.empty(len(key), dtype=bool)
    new[0] = True
    np.not_equal(key[1:], key[:-1], out=new[1:])
    return key[new], key, new


def _customer_periods(
    p_key: npt.NDArray[Any], bits: int, dmin: int, as_of_day: int, n_customers: int
) -> dict[str, Any]:
    """Per-customer statistics of the sorted distinct ``customer << bits | day - dmin`` keys.

    Each customer's periods are a run of ``p_key``, found by binary search:
    the work follows the number of customers, not of periods.
    """
    low = (1 << bits) - 1
    base = np.left_shift(np.arange(n_customers, dtype=np.int64), bits).astype(p_key.dtype)
    cstart = np.searchsorted(p_key, base)
    cend = np.append(cstart[1:], len(p_key))
    first_day = (p_key[cstart] & low).astype(np.int64) + dmin
    n_periods = cend - cstart
    # purchase trend: repeat periods in the later vs earlier half of [first, as_of], i.e.
    # with 2 * day >= first + as_of (exact, no halves): day >= ceil((first + as_of) / 2)
    mid_off = (first_day + as_of_day + 1) // 2 - dmin
    n_late = cend - np.searchsorted(p_key, base + np.clip(mid_off, 0, low).astype(p_key.dtype))
    n_late[mid_off > low] = 0  # the half starts after the last purchase day
    n_late -= first_day - dmin >= mid_off  # the first period is no repeat
    return {
        "cstart": cstart,
        "n_periods": n_periods,
        "first_day": first_day,
        "last_day": (p_key[cend - 1] & low).astype(np.int64) + dmin,
        "n_late": n_late,
        "n_early": n_periods - 1 - n_late,
    }


def _sums_by_sort(
    key: IntArray,
    codes: IntArray,
    amount: FloatArray,
    extra: FloatArray | None,
    n_rows: IntArray,
) -> tuple[IntArray, dict[str, FloatArray], IntArray]:
    """Sorted distinct keys, their sums of ``amount``/``extra`` and run starts, by a row sort.

    Rows are summed in a canonical order (key, amount, extra) unless every
    partial sum is exact.
    """
    order = stable_order(key)
    ks = key[order]
    starts_mask = np.empty(len(ks), dtype=bool)
    starts_mask[0] = True
    np.not_equal(ks[1:], ks[:-1], out=starts_mask[1:])
    pstart = np.flatnonzero(starts_mask)
    n_customers = len(n_rows)
    if not (
        _exact_in_any_order(amount, codes, n_customers)
        and _exact_in_any_order(extra, codes, n_customers)
    ):
        _canonical_ties(order, pstart, amount, extra)  # float sums: one order for all inputs
    sums = {"amount": np.add.reduceat(amount[order], pstart)}
    if extra is not None:
        sums["extra"] = np.add.reduceat(extra[order], pstart)
    return ks[pstart], sums, pstart


def purchase_stats(
    codes: IntArray,
    day: npt.NDArray[np.int32] | IntArray,
    amount: FloatArray,
    n_customers: int,
    as_of_day: int,
    extra: FloatArray | None = None,
    *,
    whole: bool = False,
) -> dict[str, Any]:
    """Per-customer purchase statistics from row-level arrays.

    Parameters
    ----------
    codes : ndarray of int64, shape (n_rows,)
        Customer codes ``0 .. n_customers-1`` (every code present).
    day : ndarray of int32 or int64, shape (n_rows,)
        Purchase day (days since the epoch).
    amount : ndarray of float64, shape (n_rows,)
        Amounts.
    n_customers : int
        Number of customers.
    as_of_day : int
        The analysis day (days since the epoch), ``>= day.max()``.
    extra : ndarray of float64, shape (n_rows,), optional
        Another per-row amount (e.g. margin) to total per customer.
    whole : bool, default=False
        Whether ``amount`` and ``extra`` are known to hold whole numbers and
        no negative zero (e.g. integer micro-units): their totals are then
        summed per customer without sorting the rows, when exact.

    Returns
    -------
    dict of str to ndarray of shape (n_customers,)
        ``n_periods``, ``first_day``, ``last_day``, ``revenue``,
        ``first_amount`` (spend on the first purchase day), ``n_rows``,
        ``n_late``/``n_early`` (repeat purchase days in the later/earlier half
        of ``[first_day, as_of_day]``); ``extra`` (its totals) when given.
        Rows are summed in a canonical order (customer, day, amount,
        ``extra``), so every total is the same bit for bit whatever the row
        order of the input; whole-number amounts (e.g. integer micro-units)
        with an absolute total below 2**52 per customer sum exactly in any
        order and skip that sort.

    Examples
    --------
    >>> import numpy as np
    >>> s = purchase_stats(np.array([0, 0, 0, 1]), np.array([5, 5, 9, 7]),
    ...                    np.array([1.0, 2.0, 4.0, 8.0]), 2, 10)
    >>> s["n_periods"].tolist(), s["first_amount"].tolist(), s["revenue"].tolist()
    ([2, 1], [3.0, 8.0], [7.0, 8.0])
    """
    dmin = int(day.min())
    bits = (int(day.max()) - dmin).bit_length()  # (customer, day - dmin) packed in bits
    n_rows = np.bincount(codes, minlength=n_customers)
    out: dict[str, Any] = {}
    if whole and _bounded(amount, codes, n_rows) and _bounded(extra, codes, n_rows):
        # exact integer sums: totals per customer straight from the rows; only the
        # distinct (customer, day) keys are sorted (no row permutation, no gathers)
        offset = np.subtract(day, dmin, dtype=np.int32)
        p_key, buffer, on_first = _period_keys(codes, offset, bits, n_customers)
        periods = _customer_periods(p_key, bits, dmin, as_of_day, n_customers)
        del p_key
        # rows on the customer's first day, in the buffers of the sort (no new row arrays)
        first = (periods["first_day"] - dmin).astype(buffer.dtype)
        np.take(first, codes, out=buffer, mode="clip")  # codes are in range: no buffering
        np.equal(buffer, offset, out=on_first)
        del buffer, offset
        first_amount = np.bincount(codes[on_first], weights=amount[on_first], minlength=n_customers)
        revenue = np.bincount(codes, weights=amount, minlength=n_customers)
        if extra is not None:
            out["extra"] = np.bincount(codes, weights=extra, minlength=n_customers)
    else:
        key = np.left_shift(codes, bits, dtype=np.int64)
        key += day
        key -= dmin
        p_key, sums, _ = _sums_by_sort(key, codes, amount, extra, n_rows)
        del key
        periods = _customer_periods(p_key, bits, dmin, as_of_day, n_customers)
        cstart = periods["cstart"]
        revenue = np.add.reduceat(sums["amount"], cstart)
        first_amount = sums["amount"][cstart]
        if extra is not None:
            out["extra"] = np.add.reduceat(sums["extra"], cstart)
    periods.pop("cstart")
    return (
        out
        | periods
        | {
            "revenue": revenue,
            "first_amount": first_amount,
            "n_rows": n_rows,
        }
    )


def count_duplicates(codes: IntArray, stamp_ns: IntArray, amount: FloatArray) -> int:
    """Rows that repeat an earlier row's customer, exact timestamp and amount.

    A 64-bit mix of the three values is sorted; rows whose mix equals their
    neighbour's are then compared exactly, so hash collisions never count.

    Parameters
    ----------
    codes : ndarray of int64, shape (n_rows,)
        Customer codes.
    stamp_ns : ndarray of int64, shape (n_rows,)
        Timestamps in nanoseconds.
    amount : ndarray of float64, shape (n_rows,)
        Amounts.

    Returns
    -------
    int
        Number of rows that duplicate another (a pair counts once).

    Examples
    --------
    >>> import numpy as np
    >>> count_duplicates(np.array([0, 0, 1]), np.array([5, 5, 5]), np.array([1.0, 1.0, 1.0]))
    1
    """
    if len(codes) < 2:
        return 0
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    stamp_ns = np.ascontiguousarray(stamp_ns, dtype=np.int64)
    amount = np.ascontiguousarray(amount, dtype=np.float64)
    n, step = len(codes), 1 << 16
    ms = np.empty(n, dtype=np.uint64)  # the only row-sized buffer: mixes made in cache-sized blocks
    for a in range(0, n, step):
        _mix(codes[a : a + step], stamp_ns[a : a + step], amount[a : a + step], ms[a : a + step])
    ms.sort()
    repeated = ms[1:][ms[1:] == ms[:-1]]
    if len(repeated) == 0:
        return 0
    # verify the few candidate rows exactly (a hash collision never counts). A bitmap
    # of the candidates' low mix bits (small enough to stay in cache) filters the rows
    # (their mixes made again, block by block); only those that pass are binary-searched.
    candidates = np.unique(repeated)
    del ms, repeated
    bits = min(max((16 * len(candidates)).bit_length(), 16), 30)
    mask = np.uint64((1 << bits) - 1)
    seen = np.zeros(1 << bits, dtype=bool)
    seen[(candidates & mask).astype(np.intp)] = True
    found, mix = [], np.empty(min(n, step), dtype=np.uint64)
    for a in range(0, n, step):
        m = _mix(codes[a : a + step], stamp_ns[a : a + step], amount[a : a + step], mix[: n - a])
        maybe = np.flatnonzero(seen[(m & mask).astype(np.intp)])
        at = np.minimum(np.searchsorted(candidates, m[maybe]), len(candidates) - 1)
        found.append(a + maybe[candidates[at] == m[maybe]])
    rows = np.concatenate(found)
    table = pd.DataFrame({"c": codes[rows], "t": stamp_ns[rows], "a": amount[rows].view(np.uint64)})
    return int(table.duplicated().sum())


def _mix(codes: IntArray, stamp_ns: IntArray, amount: FloatArray, out: npt.NDArray[Any]) -> Any:
    """A 64-bit mix of each row's customer, timestamp and amount, written to ``out``."""
    u64 = np.uint64
    out = out[: len(codes)]
    with np.errstate(over="ignore"):  # wrap-around multiplication
        np.multiply(codes.view(u64), u64(0x9E3779B97F4A7C15), out=out)
        out ^= stamp_ns.view(u64) * u64(0xC2B2AE3D27D4EB4F)
        out ^= amount.view(u64) * u64(0x165667B19E3779F9)
    return out


def distinct_per_customer(codes: IntArray, values: pd.Series, n_customers: int) -> IntArray:
    """Number of distinct non-null ``values`` per customer code.

    Parameters
    ----------
    codes : ndarray of int64, shape (n_rows,)
        Customer codes (rows with a negative code are skipped).
    values : Series of shape (n_rows,)
        Values (e.g. products); nulls are not counted.
    n_customers : int
        Number of customers.

    Returns
    -------
    ndarray of int64, shape (n_customers,)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> distinct_per_customer(np.array([0, 0, 1]), pd.Series(["x", "x", None]), 2).tolist()
    [1, 0]
    >>> distinct_per_customer(np.array([0, -1, 1]), pd.Series(["x", "y", "z"]), 2).tolist()
    [1, 1]
    """
    if isinstance(values.dtype, pd.CategoricalDtype):  # its codes: no hashing of the rows
        vcodes, width = values.cat.codes.to_numpy(), len(values.cat.categories)
    else:
        found, uniq = pd.factorize(values)
        vcodes, width = found, len(uniq)
    if len(codes) and vcodes.min() >= 0 and codes.min() >= 0:  # no row to skip
        pair = np.multiply(codes, width, dtype=np.int64)
        pair += vcodes
    else:
        ok = (vcodes >= 0) & (codes >= 0)
        if not ok.any():
            return np.zeros(n_customers, dtype=np.int64)
        pair = codes[ok].astype(np.int64) * width + vcodes[ok]
    cells = n_customers * width
    if cells <= max(4 * len(pair), 1 << 22):
        # a bitmap of seen (customer, value) cells: linear, at most 4 bytes a row
        seen = np.zeros(cells, dtype=bool)
        seen[pair] = True
        out: IntArray = seen.reshape(n_customers, width).sum(axis=1, dtype=np.int64)
        return out
    # many customers x many values: one sort of the pair codes (n log n)
    pair.sort()
    keep = np.empty(len(pair), dtype=bool)
    keep[0] = True
    np.not_equal(pair[1:], pair[:-1], out=keep[1:])
    firsts = pair[keep]
    return np.bincount(firsts // width, minlength=n_customers).astype(np.int64)
