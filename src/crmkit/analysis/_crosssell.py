"""Cross-sell recommenders: the shared machinery and the popularity baseline.

Seed 002 asks where cross-sell potential is unused; seed 000 notes that the
more different products a customer buys, the longer the relationship lasts.
A recommender learns from who bought what (:func:`product_matrix`) and
proposes, for each customer, products the customer has not bought yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from crmkit._estimator import BaseEstimator, check_is_fitted
from crmkit._params import Constraint
from crmkit._persist import Persistable
from crmkit.analysis._inputs import F, check_int
from crmkit.analysis._products import sparse_product_matrix
from crmkit.data import CustomerData
from crmkit.exceptions import NotFittedError, SchemaError, SchemaFailure

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CrossSellRecommender", "PopularityRecommender", "row_blocks", "top_k_per_row"]

_COLUMNS = ["customer_id", "product", "score", "rank", "reason"]
Ints = npt.NDArray[np.int64]
#: Candidate (customer, product) cells scored at once: bounds the memory of
#: ``recommend`` (a few hundred MB) whatever the number of customers.
BLOCK_CELLS = 4_000_000


def row_blocks(cost: Ints, budget: int = BLOCK_CELLS) -> list[tuple[int, int]]:
    """Split rows into consecutive blocks whose summed ``cost`` stays within ``budget``.

    Parameters
    ----------
    cost : ndarray of int, shape (n_rows,)
        Work (cells) per row, >= 0.
    budget : int, default=BLOCK_CELLS
        Most work per block; a single row costing more gets a block of its own.

    Returns
    -------
    list of (start, stop)
        Covering ``range(n_rows)`` in order.

    Examples
    --------
    >>> row_blocks(np.array([3, 3, 3, 9, 1]), budget=6)
    [(0, 2), (2, 3), (3, 4), (4, 5)]
    """
    blocks: list[tuple[int, int]] = []
    n = len(cost)
    total = np.concatenate([[0], np.cumsum(np.asarray(cost, dtype=np.int64))])
    start = 0
    while start < n:
        stop = int(np.searchsorted(total, total[start] + budget, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        blocks.append((start, stop))
        start = stop
    return blocks


def _column_sorted(rows: Ints, cols: Ints) -> bool:
    """Whether the columns rise within each row (canonical CSR order)."""
    return len(rows) < 2 or bool(np.all((np.diff(cols) > 0) | (np.diff(rows) > 0)))


def _cut(rows: Ints, cols: Ints, values: F, k: Ints) -> npt.NDArray[np.bool_]:
    """A superset of each row's ``k`` best cells, linear time, ties settled by column.

    A row with more than ``k`` cells is split into ``k`` chunks; the smallest
    of the chunk maxima, ``low``, is at most the row's ``k``-th largest value,
    so the top ``k`` are among the cells >= ``low``. When fewer than ``k``
    cells are above ``low``, the ``k``-th value is ``low`` itself and only the
    first cells equal to it (lowest columns) are needed: long runs of equal
    values never survive.
    """
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    counts = np.diff(np.r_[starts, len(rows)])
    k = k[rows[starts]]
    big = counts > k
    per_row = np.where(big, k, 1)  # chunks per row (a small row: one, kept whole)
    chunk_row = np.repeat(np.arange(len(starts)), per_row)
    j = np.arange(len(chunk_row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    bounds = starts[chunk_row] + (j * counts[chunk_row]) // per_row[chunk_row]
    maxima = np.maximum.reduceat(values, bounds)
    low = np.minimum.reduceat(maxima, np.cumsum(per_row) - per_row)
    low[~big] = -np.inf
    low_cell = np.repeat(low, counts)
    above = values > low_cell
    n_above = np.add.reduceat(above.astype(np.int64), starts)
    need = np.repeat(np.where(n_above < k, k - n_above, 0), counts)  # cells equal to low
    equal = np.flatnonzero((values == low_cell) & (need > 0))
    if len(equal):
        if not _column_sorted(rows, cols):
            equal = equal[np.lexsort((cols[equal], rows[equal]))]
        eq_rows = rows[equal]
        first = np.flatnonzero(np.r_[True, eq_rows[1:] != eq_rows[:-1]])
        nth = np.arange(len(equal)) - np.repeat(first, np.diff(np.r_[first, len(equal)]))
        above[equal[nth < need[equal]]] = True
    return above


def top_k_per_row(
    rows: Ints, cols: Ints, values: F, k: int | Ints, *, ranked: bool = True
) -> tuple[Ints, Ints, F, Ints]:
    """The ``k`` best cells of every row: highest value first, ties by lower column.

    Each row is first cut below a lower bound of its ``k``-th largest value
    (the smallest maximum of ``k`` chunks of the row: linear time, no loop
    per row, no long runs of ties kept); only the few survivors are then
    fully ordered.

    Parameters
    ----------
    rows : ndarray of int
        Row of each candidate cell, non-decreasing (row order), >= 0.
    cols : ndarray of int
        Column of each cell (each cell at most once).
    values : ndarray of float
        Their scores.
    k : int or ndarray of int
        Cells kept per row (0 keeps none), or one count per row index.
    ranked : bool, default=True
        ``False``: return the same cells in row order only (ranks 0), which
        skips sorting the rows that keep all their remaining cells.

    Returns
    -------
    rows, cols, values, rank : ndarray
        The kept cells sorted by row, then rank (1 = best).

    Examples
    --------
    >>> r, c, v, rank = top_k_per_row(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]),
    ...                               np.array([0.2, 0.9, 0.2, 0.5]), 2)
    >>> r.tolist(), c.tolist(), rank.tolist()
    ([0, 0, 1], [1, 0, 0], [1, 2, 1])
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    empty = np.zeros(0, dtype=np.int64)
    n_rows = int(rows[-1]) + 1 if len(rows) else 0
    limit = (
        np.broadcast_to(np.asarray(k, dtype=np.int64), (n_rows,))
        if np.ndim(k) == 0
        else (np.asarray(k, dtype=np.int64))
    )
    if len(rows) == 0:
        return empty, empty, np.zeros(0), empty
    cells = limit[rows] > 0
    rows, cols, values = rows[cells], cols[cells], values[cells]
    if len(rows):
        for _ in range(6):  # each pass tightens the bound; stop once it stops paying
            keep = _cut(rows, cols, values, limit)
            before = len(rows)
            rows, cols, values = rows[keep], cols[keep], values[keep]
            if len(rows) > 0.8 * before:
                break
    if not ranked and len(rows):
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        counts = np.diff(np.r_[starts, len(rows)])
        whole = np.repeat(counts <= limit[rows[starts]], counts)  # keep these as they are
        rest = np.flatnonzero(~whole)
        keep = whole.copy()
        if len(rest):  # rank only the rows still holding more than their k cells
            r, c, v = rows[rest], cols[rest], values[rest]
            order = np.lexsort((-v, r) if _column_sorted(r, c) else (c, -v, r))
            r = r[order]
            first = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            rank = np.arange(len(r)) - np.repeat(first, np.diff(np.r_[first, len(r)])) + 1
            keep[rest[order[rank <= limit[r]]]] = True
        return rows[keep], cols[keep], values[keep], np.zeros(int(keep.sum()), dtype=np.int64)
    # a stable sort keeps the columns' order among equal values of a row
    order = np.lexsort((-values, rows) if _column_sorted(rows, cols) else (cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    first = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else empty
    rank = np.arange(len(rows)) - np.repeat(first, np.diff(np.r_[first, len(rows)])) + 1
    kept = rank <= limit[rows]
    return rows[kept], cols[kept], values[kept], rank[kept].astype(np.int64)


def _owned(owned: Ints, cell: Ints, n_cells: int) -> npt.NDArray[np.bool_]:
    """Which ``cell`` keys are among the ``owned`` keys (of ``n_cells`` possible)."""
    if n_cells <= 4 * (len(owned) + len(cell)) + 1024:  # a dense mark: linear
        mark = np.zeros(n_cells, dtype=bool)
        mark[owned] = True
        out: npt.NDArray[np.bool_] = mark[cell]
        return out
    owned = np.sort(owned)
    at = np.minimum(np.searchsorted(owned, cell), max(len(owned) - 1, 0))
    return owned[at] == cell if len(owned) else np.zeros(len(cell), dtype=bool)


def _coords(x: sp.csr_array) -> tuple[Ints, Ints]:
    rows = np.repeat(np.arange(x.shape[0], dtype=np.int64), np.diff(x.indptr))
    return rows, np.asarray(x.indices, dtype=np.int64)


class CrossSellRecommender(BaseEstimator, Persistable):
    """Base of the cross-sell recommenders: ``fit`` on purchases, ``recommend`` new products.

    Subclasses implement ``_learn(x)`` (learn from the sparse 0/1 customer
    x product matrix), ``_prepare(x, ids)`` (what scoring all targets
    shares), ``_score(x_block, ids_block, k, prepared)`` (a sparse matrix of
    the candidate scores of a block of customers, and a context),
    ``_row_cost(x, k, prepared)`` (candidate cells per customer, to size the
    blocks)
    and ``_explain(context, rows, products)`` (the reason texts). Nothing of
    size customers x products or customers x customers is ever dense.

    A product counts as bought when the customer has a line of it with a
    positive amount. Saved models hold no customer data: the fitted purchase
    matrix (``purchases_``) lives only in memory, so a loaded model needs
    ``data=`` in :meth:`recommend`.

    Attributes
    ----------
    products_ : tuple
        The products seen in ``fit``, in matrix column order.
    item_counts_ : ndarray of float, shape (n_products,)
        Customers who bought each product.
    n_customers_ : int
        Customers in ``fit``.
    purchases_ : scipy.sparse.csr_array, shape (n_customers, n_products)
        The fitted 0/1 customer x product matrix (in memory only, not saved).
    customer_index_ : Index
        The customer id of each row of ``purchases_`` (in memory only).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3], "product": ["a", "b", "a", "c"],
    ...                    "amount": [1.0, 1.0, 1.0, 1.0]})
    >>> PopularityRecommender().fit(tx).recommend([2], k=1)[["product", "rank"]]
      product  rank
    0       b     1
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    def fit(self, data: CustomerData | pd.DataFrame) -> Self:
        """Learn from who bought what.

        Parameters
        ----------
        data : CustomerData or DataFrame
            Validated records or a transactions frame with ``customer_id``,
            ``product`` and ``amount``.

        Returns
        -------
        self

        Raises
        ------
        SchemaError
            When the transactions lack those columns or products.
        InvalidParameterError
            For a bad hyperparameter.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1, 2], "product": ["a", "a"], "amount": [1.0, 2.0]})
        >>> PopularityRecommender().fit(tx).item_counts_.tolist()
        [2.0]
        """
        self._validate_params()
        pm = sparse_product_matrix(data, "binary")
        x = pm.matrix
        self.products_ = tuple(pm.products.tolist())
        self.item_counts_ = np.bincount(x.indices, minlength=x.shape[1]).astype(np.float64)
        self.n_customers_ = int(x.shape[0])
        self.purchases_ = x
        self.customer_index_ = pm.customers
        self._learn(x)
        return self

    def _learn(self, x: sp.csr_array) -> None:
        """Learn the model from the sparse 0/1 matrix (hook)."""

    def _prepare(self, x: sp.csr_array, ids: pd.Index) -> Any:
        """What scoring all target customers ``x`` (ids ``ids``) shares (hook)."""
        return None

    def _row_cost(self, x: sp.csr_array, k: int, prepared: Any) -> Ints:
        """Candidate cells each customer row needs when scored (hook, for blocking)."""
        return np.full(x.shape[0], x.shape[1], dtype=np.int64)

    def _score(
        self, x: sp.csr_array, ids: pd.Index, k: int, prepared: Any
    ) -> tuple[sp.csr_array, Any]:
        """Sparse scores of a block of customers (only candidates stored) and a context."""
        raise NotImplementedError

    def _explain(self, context: Any, rows: Ints, products: Ints) -> list[str]:
        """One reason per recommended (block row, product) pair."""
        raise NotImplementedError

    def _targets(self, data: CustomerData | pd.DataFrame | None) -> tuple[sp.csr_array, pd.Index]:
        if data is None:
            if not hasattr(self, "purchases_"):
                raise NotFittedError(
                    f"This {type(self).__name__} was loaded from a file, which holds no "
                    "customer data: pass the customers' purchases with recommend(data=...)"
                )
            return self.purchases_, self.customer_index_
        pm = sparse_product_matrix(data, "binary")
        position = pd.Index(self.products_).get_indexer(pm.products)
        rows, cols = _coords(pm.matrix)
        new_cols = position[cols]
        known = new_cols >= 0
        matrix = sp.csr_array(
            (pm.matrix.data[known], (rows[known], new_cols[known])),
            shape=(pm.matrix.shape[0], len(self.products_)),
        )
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix, pm.customers

    def recommend(
        self,
        customer_ids: Any = None,
        k: int = 5,
        *,
        data: CustomerData | pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The top ``k`` products each customer has not bought yet.

        Customers are scored in blocks of bounded size from sparse matrices:
        memory stays bounded and time grows with the customers asked for.

        Parameters
        ----------
        customer_ids : list-like or a single id, optional
            Customers to recommend for; default every customer of the
            purchases used.
        k : int, default=5
            Recommendations per customer (fewer when fewer products score
            above 0).
        data : CustomerData or DataFrame, optional
            Purchases to recommend from; default those given to ``fit``
            (required after loading a saved model). Products unknown to the
            model are ignored.

        Returns
        -------
        DataFrame
            Columns ``customer_id``, ``product``, ``score`` (higher is
            better, > 0), ``rank`` (1 = best) and ``reason``; customers in the
            order asked, ranks ascending. Products the customer already
            bought are never recommended; ties keep the product order.

        Raises
        ------
        NotFittedError
            Before ``fit``, or without ``data`` after loading.
        SchemaError
            For customer ids without purchases in the data.
        InvalidParameterError
            For ``k < 1``.

        Examples
        --------
        >>> import pandas as pd
        >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "amount": [1.0] * 5,
        ...                    "product": ["a", "b", "a", "b", "a"]})
        >>> model = PopularityRecommender().fit(tx)
        >>> model.recommend(k=1)
           customer_id product     score  rank                        reason
        0            3       b  0.666667     1  bought by 67% of customers
        """
        check_is_fitted(self, "products_")
        k = check_int(k, "k", f"{type(self).__name__}.recommend")
        x, ids = self._targets(data)
        if customer_ids is not None:
            if isinstance(customer_ids, (str, bytes)) or not np.iterable(customer_ids):
                customer_ids = [customer_ids]
            wanted = pd.Index(pd.unique(np.asarray(list(customer_ids), dtype=object)))
            position = ids.get_indexer(wanted)
            unknown = wanted[position < 0]
            if len(unknown):
                raise SchemaError(
                    [
                        SchemaFailure(
                            frame="customer_ids",
                            column="customer_id",
                            check="has customers without purchases of known products in the data",
                            n_failing=len(unknown),
                            rows=(),
                            values=tuple(unknown[:5].tolist()),
                        )
                    ]
                )
            x, ids = x[position], ids[position]
        k = min(k, x.shape[1])
        parts: list[tuple[Ints, Ints, F, Ints, list[str]]] = []
        prepared = self._prepare(x, ids)
        for start, stop in row_blocks(self._row_cost(x, k, prepared)):
            block = x[start:stop]
            scores, context = self._score(block, ids[start:stop], k, prepared)
            scores = sp.csr_array(scores)
            rows, cols = _coords(scores)
            values = np.asarray(scores.data, dtype=np.float64)
            ok = (values > 0) & np.isfinite(values)
            # the k best not yet bought lie among the k + (bought) best of a row
            basket = np.diff(block.indptr).astype(np.int64)
            rows, cols, values, _ = top_k_per_row(
                rows[ok], cols[ok], values[ok], k + basket, ranked=False
            )
            b_rows, b_cols = _coords(block)
            n_p = x.shape[1]
            bought = _owned(b_rows * n_p + b_cols, rows * n_p + cols, (stop - start) * n_p)
            rows, cols, values, rank = top_k_per_row(
                rows[~bought], cols[~bought], values[~bought], k
            )
            parts.append((rows + start, cols, values, rank, self._explain(context, rows, cols)))
        rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        product_idx = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        out = pd.DataFrame(
            {
                "customer_id": ids[rows],
                "product": np.asarray(self.products_, dtype=object)[product_idx],
                "score": np.concatenate([p[2] for p in parts]) if parts else np.zeros(0),
                "rank": np.concatenate([p[3] for p in parts]) if parts else np.zeros(0, np.int64),
                "reason": [r for p in parts for r in p[4]],
            },
            columns=_COLUMNS,
        )
        result: pd.DataFrame = out
        return result

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "products_"):
            return None
        return {
            "products_": tuple(self.products_),
            "item_counts_": np.asarray(self.item_counts_),
            "n_customers_": int(self.n_customers_),
            **self._model_state(),
        }

    def _model_state(self) -> dict[str, Any]:
        return {}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.products_ = tuple(state["products_"])
        self.item_counts_ = np.asarray(state["item_counts_"], dtype=np.float64)
        self.n_customers_ = int(state["n_customers_"])
        for key, value in state.items():
            if key not in ("products_", "item_counts_", "n_customers_"):
                setattr(self, key, value)


class PopularityRecommender(CrossSellRecommender):
    """Baseline: recommend the products most customers have bought.

    Score of a product = share of the fitted customers who bought it; every
    customer gets the most popular products they lack. Any smarter
    recommender should beat it.

    Attributes
    ----------
    products_ : tuple
        Products seen in ``fit``.
    item_counts_ : ndarray of float, shape (n_products,)
        Customers who bought each product.
    n_customers_ : int
        Customers in ``fit``.
    purchases_ : scipy.sparse.csr_array, shape (n_customers, n_products)
        The fitted 0/1 customer x product matrix (in memory only, not saved).
    customer_index_ : Index
        The customer id of each row of ``purchases_`` (in memory only).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 2, 3], "product": ["a", "a", "b", "c"],
    ...                    "amount": [5.0, 5.0, 5.0, 5.0]})
    >>> PopularityRecommender().fit(tx).recommend([3], k=2)[["product", "score"]]
      product     score
    0       a  0.666667
    1       b  0.333333
    """

    def __init__(self) -> None:
        pass

    def _row_cost(self, x: sp.csr_array, k: int, prepared: Any) -> Ints:
        cost: Ints = np.minimum(np.diff(x.indptr) + k, x.shape[1]).astype(np.int64)
        return cost

    def _score(
        self, x: sp.csr_array, ids: pd.Index, k: int, prepared: Any
    ) -> tuple[sp.csr_array, Any]:
        # the k + (bought) most popular products hold every customer's top k
        share = self.item_counts_ / max(self.n_customers_, 1)
        order = np.argsort(-share, kind="stable")
        length = self._row_cost(x, k, prepared)
        indptr = np.concatenate([[0], np.cumsum(length)])
        within = np.arange(indptr[-1]) - np.repeat(indptr[:-1], length)
        cols = order[within]
        scores = sp.csr_array((share[cols], cols, indptr), shape=x.shape)
        return scores, share

    def _explain(self, context: Any, rows: Ints, products: Ints) -> list[str]:
        used = np.unique(products)  # format each product's share once
        texts = np.empty(len(context), dtype=object)
        texts[used] = [f"bought by {v:.0%} of customers" for v in context[used].tolist()]
        out: list[str] = texts[products].tolist()
        return out
