"""Customer-similarity recommender: what the customer's nearest look-alikes bought."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import Constraint, Interval
from crmkit.analysis._crosssell import CrossSellRecommender
from crmkit.analysis._inputs import F

__all__ = ["CustomerKNNRecommender"]

_BLOCK = 1024


def _unit_rows(x: F) -> F:
    norm = np.sqrt((x * x).sum(axis=1, keepdims=True))
    out: F = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return out


class CustomerKNNRecommender(CrossSellRecommender):
    """Recommend what the customer's most similar customers bought.

    Customers are compared by the cosine of their 0/1 product vectors; the
    ``n_neighbors`` most similar other customers (similarity > 0) vote, each
    with its similarity as weight, and a product's score is the weighted
    share of neighbours who bought it. Customers with no product in common
    with anybody get no recommendations.

    The neighbours are looked up among the customers given to ``fit`` (kept
    in memory only: a saved model holds no customer data, so after loading,
    the customers passed to ``recommend(data=...)`` serve as their own
    neighbours). A customer is never its own neighbour.

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
    purchases_ : DataFrame
        The fitted 0/1 customer x product matrix: the neighbour pool (in
        memory only, not saved).

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

    def _score(self, x: F, ids: pd.Index) -> tuple[F, Any]:
        if hasattr(self, "purchases_"):
            pool_frame: pd.DataFrame = self.purchases_
        else:
            pool_frame = pd.DataFrame(x, index=ids)
        pool = pool_frame.to_numpy(dtype=np.float64)
        pool_unit = _unit_rows(pool)
        position = pd.Index(pool_frame.index).get_indexer(ids)
        k = min(int(self.n_neighbors), max(len(pool) - 1, 0))
        m = x.shape[0]
        scores = np.zeros_like(x)
        neigh = np.full((m, k), -1, dtype=np.int64)
        weights = np.zeros((m, k))
        target_unit = _unit_rows(x)
        for start in range(0, m, _BLOCK):
            stop = min(start + _BLOCK, m)
            sim = target_unit[start:stop] @ pool_unit.T
            own = position[start:stop]
            has_own = own >= 0
            sim[np.flatnonzero(has_own), own[has_own]] = -np.inf
            if k == 0:
                continue
            idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            w = np.take_along_axis(sim, idx, axis=1)
            w = np.where(w > 0, w, 0.0)
            total = w.sum(axis=1, keepdims=True)
            votes = np.zeros((stop - start, x.shape[1]))
            for j in range(k):
                votes += w[:, j : j + 1] * pool[idx[:, j]]
            scores[start:stop] = np.divide(votes, total, out=np.zeros_like(votes), where=total > 0)
            neigh[start:stop] = np.where(w > 0, idx, -1)
            weights[start:stop] = w
        return scores, (pool, neigh)

    def _explain(self, context: Any, row: int, product: int) -> str:
        pool, neigh = context
        used = neigh[row][neigh[row] >= 0]
        bought = int(pool[used, product].sum())
        return f"bought by {bought} of {len(used)} similar customers"
