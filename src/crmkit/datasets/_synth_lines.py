"""Building blocks of the synthetic CRM: latent classes and order lines.

The order lines are the bulk of a large CRM (about 55 per customer), so they
are drawn in chunks of occasions into arrays allocated once: every chunk's
temporaries are small and reused by the allocator, instead of a fresh
line-sized array (and its page faults) per step. Random draws are taken in
the same sequence as one call per quantity would take them, so the lines are
identical to drawing everything at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtri

__all__ = [
    "CHUNK",
    "channels",
    "chunks",
    "copula_classes",
    "date_sorted",
    "day_stamps",
    "normal_scores",
    "order_lines",
    "stable_order",
]

F = npt.NDArray[np.float64]
I = npt.NDArray[np.int64]  # noqa: E741
I8 = npt.NDArray[np.int8]

#: Occasions (or lines) per chunk: temporaries of a few MB that malloc reuses.
CHUNK = 1 << 19


def chunks(n: int, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` of consecutive chunks of ``range(n)``.

    Examples
    --------
    >>> list(chunks(5, 2))
    [(0, 2), (2, 4), (4, 5)]
    """
    return ((a, min(a + size, n)) for a in range(0, n, size))


def day_stamps(start: np.datetime64, day: I) -> npt.NDArray[np.datetime64]:
    """``to_dates(start, day)`` of whole days (``datetime64[ns]``), in integer arithmetic.

    ``day`` is overwritten (it becomes the nanosecond stamps).

    Examples
    --------
    >>> [str(d) for d in day_stamps(np.datetime64("2024-01-01"), np.array([0, 31]))]
    ['2024-01-01T00:00:00.000000000', '2024-02-01T00:00:00.000000000']
    """
    day *= 86_400_000_000_000
    day += start.astype("datetime64[ns]").astype(np.int64)
    out: npt.NDArray[np.datetime64] = day.view("datetime64[ns]")
    return out


def stable_order(key: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """``argsort(key, kind="stable")`` of non-negative keys by one sort of ``key << b | row``.

    Examples
    --------
    >>> stable_order(np.array([3, 1, 3, 0])).tolist()
    [3, 1, 0, 2]
    """
    n = len(key)
    bits = max(int(n - 1).bit_length(), 1)
    if n == 0 or int(key.min()) < 0 or int(key.max()).bit_length() + bits > 62:
        return np.argsort(key, kind="stable")
    packed = (key << bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= (1 << bits) - 1  # in place: no second row-sized array
    return packed.astype(np.intp, copy=False)


def date_sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame.sort_values(["date", "customer_id"], kind="stable", ignore_index=True)``.

    One sort of a packed (day, id) key when the dates are whole days and the
    ids non-negative integers (the synthetic records), else pandas' sort.

    Examples
    --------
    >>> df = pd.DataFrame({"customer_id": [2, 1, 1],
    ...                    "date": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-01"])})
    >>> date_sorted(df)["customer_id"].tolist()
    [1, 1, 2]
    """
    ns = frame["date"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    ids = frame["customer_id"].to_numpy()
    day_ns = 86_400_000_000_000
    no_nat = len(frame) > 0 and int(ns.min()) > np.iinfo(np.int64).min
    if no_nat and ids.dtype.kind == "i" and int(ids.min()) >= 0:
        days = ns - int(ns.min())
        if not (days % day_ns).any():
            days //= day_ns
            days *= int(ids.max()) + 1
            days += ids
            taken: pd.DataFrame = frame.take(stable_order(days)).reset_index(drop=True)
            return taken
    out: pd.DataFrame = frame.sort_values(["date", "customer_id"], kind="stable", ignore_index=True)
    return out


def channels(rng: np.random.Generator, owner: I, size: I, preferred: I, shares: F) -> I8:
    """Each occasion's channel: the customer's preferred one with probability 0.8,
    else one drawn from the channel ``shares`` of its size class.

    All the channel draws come first, then all the 0.8 draws (as two calls of
    ``rng.random(len(owner))`` would take them), in chunks.
    """  # fmt: skip
    cum = np.cumsum(shares, axis=1).T  # the cumulative shares of each size, per channel
    drawn = np.empty(len(owner), dtype=np.int8)  # channels whose cumulative share < draw
    for a, b in chunks(len(owner), 1 << 16):  # temporaries that stay in cache
        draw, sz = rng.random(b - a), size[owner[a:b]]
        count = np.zeros(b - a, dtype=np.int8)
        for cum_share in cum:
            count += draw > cum_share[sz]
        drawn[a:b] = np.minimum(count, 3, out=count)
    for a, b in chunks(len(owner)):  # then whether the usual channel is used
        usual = rng.random(b - a) < 0.8
        np.copyto(drawn[a:b], preferred[owner[a:b]], where=usual, casting="unsafe")
    return drawn


def copula_classes(rng: np.random.Generator, score: F, weight: float, shares: F) -> I:
    """Classes with the given shares, ordered by ``weight * score + noise``."""
    latent = weight * score + np.sqrt(1.0 - weight**2) * rng.standard_normal(len(score))
    cuts = np.quantile(latent, np.cumsum(shares)[:-1]) if len(score) else np.zeros(0)
    return np.asarray(np.searchsorted(cuts, latent), dtype=np.int64)


def normal_scores(x: F) -> F:
    """Normal scores of ``x``: the standard-normal quantile of each value's rank."""
    ranks = np.argsort(np.argsort(x))
    return np.asarray(ndtri((ranks + 0.5) / max(len(x), 1)), dtype=np.float64)


def _stacked_cdf(weights: F) -> F:
    """Each owner's product CDF shifted by its row number, flattened (one search for all)."""
    n = weights.shape[0]
    cum = np.cumsum(weights, axis=1)
    cum[:, -1] = 1.0
    cum += np.arange(n, dtype=np.float64)[:, None]
    return cum.ravel()


def order_lines(
    rng: np.random.Generator, owner: I, day: I, scale: F, extra_lines: F, weights: F, p: float
) -> tuple[npt.NDArray[np.intp], I, I8, F]:
    """Order lines of purchase occasions, in (day, customer) order.

    Each occasion's value is ``Gamma(p, scale)``, split over ``1 +
    Poisson(extra_lines)`` lines by a Dirichlet(2, ..., 2) (lines of at least
    1.00); each line's product is drawn from its owner's ``weights``.
    ``owner`` must come in a few runs sorted by customer (that keeps the
    product search local). The lines are drawn in occasion order and written
    straight to their place in date order.

    Returns
    -------
    order : ndarray of intp, shape (n_occasions,)
        The occasions in (day, customer) order (stable).
    n_lines : ndarray of int64, shape (n_occasions,)
        Lines of each occasion of ``order``.
    product : ndarray of int8, shape (n_lines,)
        Product index of every line, in date order.
    amount : ndarray of float64, shape (n_lines,)
        Amount of every line, in date order.
    """
    value = rng.gamma(p, scale)
    n_lines = rng.poisson(extra_lines)
    n_lines += 1
    order = _date_order(day, owner, max(len(weights), 1))
    k, dest = _placement(n_lines, order)
    parts = list(chunks(len(owner)))
    bounds = np.cumsum([0] + [int(n_lines[a:b].sum()) for a, b in parts]).tolist()
    flat, n_products = _stacked_cdf(weights), weights.shape[1]
    search = _search_rows if bool((flat[1:] >= flat[:-1]).all()) else _search_all
    product = np.empty(bounds[-1], dtype=np.int8)
    for (a, b), lo, hi in zip(parts, bounds, bounds[1:], strict=False):  # all product draws first
        nl = n_lines[a:b]
        own = np.repeat(owner[a:b], nl)
        u = rng.random(hi - lo)
        u += own
        product[_to(dest[a:b], nl)] = search(flat, u, own, n_products)
    amount = np.empty(bounds[-1])
    for (a, b), lo, hi in zip(parts, bounds, bounds[1:], strict=False):  # then the line shares
        nl = n_lines[a:b]
        share = rng.gamma(2.0, 1.0, hi - lo)
        occ = np.repeat(np.arange(b - a), nl)
        share /= np.repeat(np.bincount(occ, weights=share, minlength=b - a), nl)
        share *= np.repeat(value[a:b], nl)
        np.round(share, 2, out=share)
        amount[_to(dest[a:b], nl)] = np.maximum(share, 1.0, out=share)
    return order, k, product, amount


def _date_order(day: I, owner: I, n: int) -> npt.NDArray[np.intp]:
    """``stable_order(day * n + owner)``, the packed key built and sorted in place."""
    m = len(owner)
    bits = max(int(m - 1).bit_length(), 1)
    top = int(day.max()) * n + int(owner.max()) if m else 0
    if m == 0 or int(day.min()) < 0 or int(owner.min()) < 0 or top.bit_length() + bits > 62:
        return stable_order(day * n + owner)
    key = day * (n << bits)  # (day * n + owner) << bits | row
    for a, b in chunks(m):
        low = owner[a:b] << bits
        low |= np.arange(a, b)
        key[a:b] += low
    key.sort()
    key &= (1 << bits) - 1
    return key.astype(np.intp, copy=False)


def _placement(n_lines: I, order: npt.NDArray[np.intp]) -> tuple[I, I]:
    """Lines of each occasion in date order, and each occasion's first line in date order."""
    k = np.empty(len(order), dtype=np.int64)
    dest = np.empty(len(order), dtype=np.int64)
    small = n_lines.astype(np.int8) if int(n_lines.max(initial=0)) < 128 else n_lines
    done = 0
    for a, b in chunks(len(order)):
        idx = order[a:b]
        k[a:b] = small[idx]  # a random gather: from int8, mostly cached
        first = np.cumsum(k[a:b])
        first -= k[a:b]
        first += done
        dest[idx] = first
        done += int(k[a:b].sum())
    return k, dest


def _to(dest: I, nl: I) -> I:
    """Date-order positions of the lines of consecutive occasions (``dest``: their first)."""
    shift = dest - np.cumsum(nl)
    shift += nl
    pos = np.repeat(shift, nl)
    pos += np.arange(len(pos))
    return pos


def _search_all(flat: F, value: F, own: I, k: int) -> I:
    """Each line's product: ``value`` (``u + owner``) searched in all the stacked CDFs."""
    found = np.searchsorted(flat, value, side="right")
    own *= k
    found -= own
    return np.clip(found, 0, k - 1, out=found)


def _search_rows(flat: F, value: F, own: I, k: int) -> I:
    """:func:`_search_all` for a nondecreasing ``flat``, searching only the owners' rows.

    Row ``i`` holds values in ``[i, i + 1]``, so every value of an earlier row is
    at most ``u + owner`` and a later row can only add ties past the last
    product (clipped away): the count within the rows of a piece of lines
    (consecutive owners, a small cached part of ``flat``) is the same.
    """
    found = np.empty(len(value), dtype=np.int64)
    for a, b in chunks(len(value), 8192):
        o = own[a:b]
        lo, hi = int(o.min()), int(o.max()) + 1
        found[a:b] = np.searchsorted(flat[lo * k : hi * k], value[a:b], side="right")
        found[a:b] -= (o - lo) * k
    return np.clip(found, 0, k - 1, out=found)
