"""Customer-similarity recommender: what the customer's nearest look-alikes bought."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crmkit._params import Constraint, Interval
from crmkit.analysis._crosssell import CrossSellRecommender, Ints, top_k_per_row

__all__ = ["CustomerKNNRecommender"]


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
    share a product.

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
        return pool, pool_ids, pool_t, size

    def _row_cost(self, x: sp.csr_array, k: int, prepared: Any) -> Ints:
        pool_t = prepared[2]
        buyers = np.diff(pool_t.indptr)
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        cost = np.bincount(rows, weights=buyers[x.indices], minlength=x.shape[0])
        return cost.astype(np.int64) + 1

    def _score(
        self, x: sp.csr_array, ids: pd.Index, k: int, prepared: Any
    ) -> tuple[sp.csr_array, Any]:
        pool, pool_ids, pool_t, size = prepared
        m, n_pool = x.shape[0], pool.shape[0]
        n_keep = min(int(self.n_neighbors), max(n_pool - 1, 0))
        # shared products of every (target, pool customer) pair that has one
        common = sp.csr_array(x @ pool_t)
        common.sum_duplicates()
        rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(common.indptr))
        cols = np.asarray(common.indices, dtype=np.int64)
        own = pool_ids.get_indexer(ids)
        target_size = np.diff(x.indptr).astype(np.float64)
        sim = common.data / np.sqrt(target_size[rows] * size[cols])
        keep = (cols != own[rows]) & (sim > 0)
        rows, cols, sim, _ = top_k_per_row(
            rows[keep], cols[keep], sim[keep], n_keep, ranked=False
        )
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
        counts = np.asarray(bought_by[rows, products], dtype=np.float64).ravel()
        return [
            f"bought by {int(c)} of {int(u)} similar customers"
            for c, u in zip(counts.tolist(), used[rows].tolist(), strict=True)
        ]
