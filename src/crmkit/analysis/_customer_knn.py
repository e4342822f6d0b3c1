"""Customer-similarity recommender: what the customer's nearest look-alikes bought."""

from __future__ import annotations

import itertools
import math
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from crmkit._params import Constraint, Interval
from crmkit.analysis._crosssell import CrossSellRecommender, Ints, top_k_per_row
from crmkit.analysis._inputs import F

__all__ = ["CustomerKNNRecommender"]

Masks = npt.NDArray[np.uint64]
#: The search over distinct baskets is used when the catalogue has at most 64
#: products and the pool at most this share of distinct baskets.
MAX_BASKET_SHARE = 0.5
#: (target basket, pool basket) pairs compared at once by that search.
BASKET_BLOCK = 262_144  # small enough for the CPU cache


def _masks(x: sp.csr_array) -> Masks:
    """Each row's products as the bits of one integer (at most 64 products, canonical rows)."""
    bits = np.left_shift(np.uint64(1), np.asarray(x.indices, dtype=np.uint64))
    total = np.concatenate([np.zeros(1, np.uint64), np.cumsum(bits, dtype=np.uint64)])
    out: Masks = total[x.indptr[1:]] - total[x.indptr[:-1]]  # exact modulo 2**64
    return out


def _expand(starts: Ints, lengths: Ints) -> Ints:
    """The indices ``starts[i] .. starts[i] + lengths[i] - 1`` of every ``i``, concatenated."""
    offsets = np.cumsum(lengths) - lengths
    out: Ints = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
    return out


Found = tuple[list[Ints], list[Ints], list[F]]
#: (target, mask) lookups generated at once by the enumeration of near baskets.
ENUM_BLOCK = 1_048_576
#: A target is looked up level by level while that takes at most this share of
#: the pool's distinct baskets in lookups (a lookup costs a few scanned pairs).
NEAR_SHARE = 0.25


def _similarity_table(base: int) -> F:
    """Similarity of every (target size, shared, pool size), as the full search computes it."""
    size, shared, other = np.meshgrid(np.arange(base), np.arange(base), np.arange(base),
                                      indexing="ij")  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        table = shared.astype(np.float64) / np.sqrt(size.astype(np.float64) * other)
    table = np.where((shared > 0) & (size > 0) & (other > 0), table, 0.0)
    out: F = table.reshape(base, base * base)
    return out


def _levels(a: int, n_p: int, table: F) -> list[tuple[float, list[tuple[int, int]]]]:
    """The possible (removed, added) product counts of a basket of ``a`` products,
    grouped by similarity (descending, > 0 only)."""
    base = n_p + 1
    by_sim: dict[float, list[tuple[int, int]]] = {}
    for s in range(1, a + 1):
        for p in range(s, s + n_p - a + 1):
            by_sim.setdefault(float(table[a, s * base + p]), []).append((a - s, p - s))
    return sorted(((v, c) for v, c in by_sim.items() if v > 0), key=lambda vc: -vc[0])


def _combo_bits(positions: Ints, r: int) -> Masks:
    """Per row of ``positions`` (bit numbers), the masks of every ``r`` of them."""
    n, m = positions.shape
    if r == 0:
        return np.zeros((n, 1), dtype=np.uint64)
    combos = np.array(list(itertools.combinations(range(m), r)), dtype=np.int64).reshape(-1, r)
    bits = np.left_shift(np.uint64(1), positions.astype(np.uint64))
    out: Masks = bits[:, combos].sum(axis=2, dtype=np.uint64)
    return out.reshape(n, len(combos))


def _near(targets: Masks, a: int, n_p: int, baskets: Masks, counts: Ints, need: int,
          table: F, found: Found) -> Ints:  # fmt: skip
    """Candidates of the targets of size ``a`` from the pool baskets near them.

    The pool baskets are looked up level by level of similarity (all baskets
    of a level: every way to drop and add products), until the levels hold
    ``need`` pool customers; the candidates (target, basket, similarity) are
    appended to ``found``. Returns the targets for which that would cost
    more lookups than there are pool baskets (left to the scan).
    """
    idx = np.arange(len(targets))
    bits = ((targets[:, None] >> np.arange(n_p, dtype=np.uint64)) & np.uint64(1)).astype(bool)
    held = np.zeros(len(targets), dtype=np.int64)
    spent = 0
    for sim, moves in _levels(a, n_p, table):
        cost = sum(math.comb(a, r) * math.comb(n_p - a, q) for r, q in moves)
        if spent + cost > NEAR_SHARE * len(baskets):
            return idx
        spent += cost
        inside = np.nonzero(bits[idx])[1].reshape(len(idx), a)
        outside = np.nonzero(~bits[idx])[1].reshape(len(idx), n_p - a)
        for r, q in moves:
            dropped, added = _combo_bits(inside, r), _combo_bits(outside, q)
            width = dropped.shape[1] * added.shape[1]
            step = max(1, ENUM_BLOCK // width)
            for lo in range(0, len(idx), step):
                rows = idx[lo : lo + step]
                masks = (targets[rows, None] ^ dropped[lo : lo + step])[:, :, None]
                masks = (masks | added[lo : lo + step, None, :]).reshape(-1)
                at = np.minimum(np.searchsorted(baskets, masks), len(baskets) - 1)
                (hit,) = np.nonzero(baskets[at] == masks)
                row, g = rows[hit // width], at[hit]
                found[0].append(row)
                found[1].append(g)
                found[2].append(np.full(len(hit), sim))
                held += np.bincount(row, weights=counts[g], minlength=len(held)).astype(np.int64)
        idx = idx[held[idx] < need]
        if len(idx) == 0:
            break
    return np.zeros(0, dtype=np.int64)


def _scan(targets: Masks, baskets: Masks, counts: Ints, need: int, table: F,
          found: Found) -> None:  # fmt: skip
    """Candidates of ``targets`` from the shared products with every pool basket."""
    n_g, base = len(baskets), table.shape[0]
    t_size = np.bitwise_count(targets).astype(np.int64)
    g_size = np.bitwise_count(baskets).astype(np.int32)
    order = np.argsort(-table, axis=1, kind="stable")
    step = max(1, BASKET_BLOCK // n_g)
    weight = np.tile(counts.astype(np.float64), min(step, len(targets)))
    for lo in range(0, len(targets), step):
        hi = min(lo + step, len(targets))
        common = np.bitwise_count(targets[lo:hi, None] & baskets[None, :])
        cell = np.multiply(common, base, dtype=np.int32)
        cell += g_size
        cell += np.arange(hi - lo, dtype=np.int32)[:, None] * (base * base)
        cell = cell.ravel()
        count = np.bincount(
            cell, weights=weight[: len(cell)], minlength=(hi - lo) * base * base
        ).reshape(hi - lo, base * base)
        level = order[t_size[lo:hi]]
        held = np.cumsum(np.take_along_axis(count, level, axis=1), axis=1)
        last = np.minimum((held < need).sum(axis=1), base * base - 1)
        sim_of = table[t_size[lo:hi]]
        bound = sim_of[np.arange(hi - lo), level[np.arange(hi - lo), last]]
        wanted = ((sim_of >= bound[:, None]) & (sim_of > 0)).ravel()
        (at,) = np.nonzero(wanted[cell])
        r, g = np.divmod(at, n_g)
        found[0].append(r + lo)
        found[1].append(g)
        found[2].append(sim_of.ravel()[cell[at]])


class _Baskets:
    """The pool's distinct baskets, and for every distinct target basket the pool
    baskets that can hold its nearest neighbours.

    A target's similarity to a pool basket depends only on the sizes of both and
    on the products they share, so the pool customers are counted by
    (shared, pool basket size): the most similar levels that hold ``n_keep +
    1`` customers (one may be the target itself) hold every neighbour, and
    their pool baskets are the candidates; of each, only the first ``n_keep +
    1`` customers in pool order can be chosen (ties go to the earlier
    customer). The candidate customers thus hold the neighbours the full
    search finds, with the same similarities.

    The baskets of the most similar levels are first looked up directly
    (every basket that drops and adds a few of the target's products): on a
    large base the nearest neighbours are near, so a target costs a bounded
    number of lookups. Targets whose levels would take more lookups than
    there are pool baskets are compared with every pool basket instead.
    """

    def __init__(self, x: sp.csr_array, pool: sp.csr_array, n_keep: int) -> None:
        baskets, group, counts = np.unique(_masks(pool), return_inverse=True, return_counts=True)
        self.members: Ints = np.argsort(group, kind="stable").astype(np.int64)
        self.start: Ints = (np.cumsum(counts) - counts).astype(np.int64)
        self.take: Ints = np.minimum(counts, n_keep + 1).astype(np.int64)
        self.targets: Masks = np.unique(_masks(x))
        n_p = x.shape[1]
        table = _similarity_table(n_p + 1)
        t_size = np.bitwise_count(self.targets).astype(np.int64)
        near: Found = ([], [], [])
        rest = [np.zeros(0, dtype=np.int64)]
        for a in np.unique(t_size[t_size > 0]).tolist():
            (of_size,) = np.nonzero(t_size == a)
            before = len(near[0])
            left = _near(self.targets[of_size], a, n_p, baskets, counts, n_keep + 1, table, near)
            for i in range(before, len(near[0])):
                near[0][i] = of_size[near[0][i]]
            rest.append(of_size[left])
        scanned = np.sort(np.concatenate(rest))
        found: Found = ([], [], [])
        if len(scanned):
            _scan(self.targets[scanned], baskets, counts, n_keep + 1, table, found)
        row = np.concatenate([np.zeros(0, np.int64), *near[0]]).astype(np.int64)
        keep = ~np.isin(row, scanned)  # the scan replaces what was found near those
        row = np.concatenate([row[keep], *(scanned[r] for r in found[0])]).astype(np.int64)
        group_of = np.concatenate([np.zeros(0, np.int64), *near[1]])[keep]
        group_of = np.concatenate([group_of, *found[1]]).astype(np.int64)
        sim = np.concatenate([np.concatenate([np.zeros(0), *near[2]])[keep], *found[2]])
        order = np.lexsort((group_of, row))
        row = row[order]
        self.group: Ints = group_of[order]
        self.sim: F = sim[order]
        n_t = len(self.targets)
        self.ptr: Ints = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=n_t))])
        cost = np.bincount(row, weights=self.take[self.group], minlength=n_t)
        self.cost: Ints = cost.astype(np.int64)

    def basket_of(self, x: sp.csr_array) -> Ints:
        """The distinct target basket of each row of ``x`` (rows of the targets)."""
        out: Ints = np.searchsorted(self.targets, _masks(x)).astype(np.int64)
        return out

    def candidates(self, x: sp.csr_array) -> tuple[Ints, Ints, F]:
        """Candidate (row, pool customer, similarity) cells of the target rows ``x``."""
        basket = self.basket_of(x)
        lengths = self.ptr[basket + 1] - self.ptr[basket]
        pair = _expand(self.ptr[basket], lengths)
        group = self.group[pair]
        take = self.take[group]
        rows = np.repeat(np.repeat(np.arange(x.shape[0], dtype=np.int64), lengths), take)
        cols = self.members[_expand(self.start[group], take)]
        return rows, cols, np.repeat(self.sim[pair], take)


def _group_baskets(x: sp.csr_array, pool: sp.csr_array, n_keep: int) -> _Baskets | None:
    """The search over distinct baskets where it pays (few products, repeated baskets)."""
    if x.shape[1] > 64 or n_keep == 0 or x.shape[0] == 0 or pool.shape[0] == 0:
        return None
    for m in (x, pool):
        if not m.has_canonical_format or not np.all(m.data == 1):
            return None
    if len(np.unique(_masks(pool))) > MAX_BASKET_SHARE * pool.shape[0]:
        return None
    return _Baskets(x, pool, n_keep)


class CustomerKNNRecommender(CrossSellRecommender):
    """Recommend what the customer's most similar customers bought.

    Customers are compared by the cosine of their 0/1 product vectors; the
    ``n_neighbors`` most similar other customers (similarity > 0) vote, each
    with its similarity as weight, and a product's score is the weighted
    share of neighbours who bought it. Customers with no product in common
    with anybody get no recommendations. Among customers equally similar to
    the last neighbour, those earlier in customer-id order are taken, so
    the result never depends on the order of the records.

    The neighbours are looked up among the customers given to ``fit`` (kept
    in memory only: a saved model holds no customer data, so after loading,
    the customers passed to ``recommend(data=...)`` serve as their own
    neighbours). A customer is never its own neighbour.

    The search is sparse: only customers sharing a product are ever
    compared, in blocks of bounded size, so memory never grows with
    customers x customers and time grows with the pairs of customers who
    share a product. On a small catalogue (at most 64 products) where the
    customers hold at most half as many distinct baskets, nearly every pair
    shares a product; there the distinct baskets are compared instead, and
    the neighbours are drawn from the few most similar baskets (same
    neighbours, same scores, exactly). Those baskets are first looked up
    directly, from the most similar level down (the target's basket with a
    few products dropped or added): on a large base the neighbours are near,
    so time grows about linearly with the customers; only targets whose
    neighbours are far are compared with every distinct basket.

    Parameters
    ----------
    n_neighbors : int, default=30
        Neighbours per customer.

    Attributes
    ----------
    products_ : tuple
        Products seen in ``fit``.
    item_counts_ : ndarray of float, shape (n_products,)
        Customers who bought each product.
    n_customers_ : int
        Customers in ``fit``.
    purchases_ : scipy.sparse.csr_array, shape (n_customers, n_products)
        The fitted 0/1 customer x product matrix: the neighbour pool (in
        memory only, not saved).
    customer_index_ : Index
        The customer id of each row of ``purchases_`` (in memory only).

    References
    ----------
    .. [1] Resnick, P., Iacovou, N., Suchak, M., Bergstrom, P. & Riedl, J.
       (1994). GroupLens: an open architecture for collaborative filtering of
       netnews. CSCW '94.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 3, 3],
    ...                    "product": ["toner", "paper", "ink", "toner", "paper", "desk", "chair"],
    ...                    "amount": [1.0] * 7})
    >>> CustomerKNNRecommender(n_neighbors=2).fit(tx).recommend([2])[["product", "reason"]]
      product                             reason
    0     ink  bought by 1 of 1 similar customers
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "n_neighbors": [Interval("int", 1, None)],
    }

    def __init__(self, *, n_neighbors: int = 30) -> None:
        self.n_neighbors = n_neighbors

    def _prepare(self, x: sp.csr_array, ids: pd.Index) -> Any:
        if hasattr(self, "purchases_"):
            pool: sp.csr_array = self.purchases_
            pool_ids = pd.Index(self.customer_index_)
        else:
            pool, pool_ids = x, pd.Index(ids)
        pool_t = sp.csr_array(pool.T)  # products x pool customers
        pool_t.sort_indices()
        size = np.diff(pool.indptr).astype(np.float64)
        n_keep = min(int(self.n_neighbors), max(pool.shape[0] - 1, 0))
        return pool, pool_ids, pool_t, size, _group_baskets(x, pool, n_keep)

    def _row_cost(self, x: sp.csr_array, k: int, prepared: Any) -> Ints:
        grouped: _Baskets | None = prepared[4]
        if grouped is not None:
            return grouped.cost[grouped.basket_of(x)] + 1
        pool_t = prepared[2]
        buyers = np.diff(pool_t.indptr)
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        cost = np.bincount(rows, weights=buyers[x.indices], minlength=x.shape[0])
        return cost.astype(np.int64) + 1

    def _score(
        self, x: sp.csr_array, ids: pd.Index, k: int, prepared: Any
    ) -> tuple[sp.csr_array, Any]:
        pool, pool_ids, pool_t, size, grouped = prepared
        m, n_pool = x.shape[0], pool.shape[0]
        n_keep = min(int(self.n_neighbors), max(n_pool - 1, 0))
        if grouped is not None:
            rows, cols, sim = grouped.candidates(x)
        else:
            # shared products of every (target, pool customer) pair that has one
            common = sp.csr_array(x @ pool_t)
            common.sum_duplicates()
            rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(common.indptr))
            cols = np.asarray(common.indices, dtype=np.int64)
            target_size = np.diff(x.indptr).astype(np.float64)
            sim = common.data / np.sqrt(target_size[rows] * size[cols])
        own = pool_ids.get_indexer(ids)
        keep = (cols != own[rows]) & (sim > 0)
        rows, cols, sim, _ = top_k_per_row(rows[keep], cols[keep], sim[keep], n_keep, ranked=False)
        if grouped is not None:  # the order of the full search: columns rise in a row
            order = np.lexsort((cols, rows))
            rows, cols, sim = rows[order], cols[order], sim[order]
        weights = sp.csr_array((sim, (rows, cols)), shape=(m, n_pool))
        chosen = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(m, n_pool))
        total = np.bincount(rows, weights=sim, minlength=m)
        votes = sp.csr_array(weights @ pool)
        votes.sum_duplicates()
        vote_rows = np.repeat(np.arange(m), np.diff(votes.indptr))
        scores = sp.csr_array(
            (votes.data / total[vote_rows], votes.indices, votes.indptr), shape=votes.shape
        )
        bought_by = sp.csr_array(chosen @ pool)
        used = np.bincount(rows, minlength=m)
        return scores, (bought_by, used)

    def _explain(self, context: Any, rows: Ints, products: Ints) -> list[str]:
        bought_by, used = context
        if len(rows) == 0:  # scipy gives a sparse result for empty index arrays
            return []
        counts = np.asarray(bought_by[rows, products], dtype=np.float64).ravel()
        return [
            f"bought by {int(c)} of {int(u)} similar customers"
            for c, u in zip(counts.tolist(), used[rows].tolist(), strict=True)
        ]
