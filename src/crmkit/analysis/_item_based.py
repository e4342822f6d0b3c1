"""Item co-purchase recommender: products often bought together with the customer's ones."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import Constraint, Interval, Options
from crmkit.analysis._crosssell import CrossSellRecommender
from crmkit.analysis._inputs import F
from crmkit.exceptions import InvalidParameterError

__all__ = ["ItemCoPurchaseRecommender"]


def item_similarity(x: F, similarity: str, shrinkage: float) -> F:
    """Product x product similarity from a 0/1 customer x product matrix.

    With ``c_ij`` the customers who bought both products, ``n_i`` those who
    bought ``i`` and ``N`` all customers: cosine ``c_ij / sqrt(n_i n_j)``,
    Jaccard ``c_ij / (n_i + n_j - c_ij)``, lift ``c_ij N / (n_i n_j)``. Each
    is shrunk by ``c_ij / (c_ij + shrinkage)`` so that pairs seen together
    only a few times count less; the diagonal is 0.

    Parameters
    ----------
    x : ndarray of float, shape (n_customers, n_products)
        0/1 purchases.
    similarity : {"cosine", "jaccard", "lift"}
        The measure.
    shrinkage : float
        Pseudo-count of the shrinkage, >= 0.

    Returns
    -------
    ndarray of float, shape (n_products, n_products)
        Symmetric, finite, >= 0.

    Raises
    ------
    InvalidParameterError
        When ``x`` is not a 2-d numeric matrix, ``similarity`` is unknown or
        ``shrinkage`` is not a number >= 0.

    Examples
    --------
    >>> x = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> item_similarity(x, "cosine", 0.0).round(2).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        x = np.empty(0)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise InvalidParameterError(
            "item_similarity needs a finite 2-d 0/1 matrix (customers x products); got "
            f"shape {x.shape}"
        )
    if not isinstance(similarity, str) or similarity not in ("cosine", "jaccard", "lift"):
        raise InvalidParameterError(
            f"similarity must be 'cosine', 'jaccard' or 'lift'; got {similarity!r}"
        )
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, (int, float, np.number)) or not (
        np.isfinite(shrinkage) and shrinkage >= 0
    ):
        raise InvalidParameterError(f"shrinkage must be a number >= 0; got {shrinkage!r}")
    co = x.T @ x
    n_i = np.diag(co).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        if similarity == "cosine":
            sim = co / np.sqrt(np.outer(n_i, n_i))
        elif similarity == "jaccard":
            sim = co / (n_i[:, None] + n_i[None, :] - co)
        else:
            sim = co * x.shape[0] / np.outer(n_i, n_i)
        shrink = co / (co + shrinkage) if shrinkage > 0 else np.ones_like(co)
        sim = sim * shrink
    sim = np.where(np.isfinite(sim), sim, 0.0)
    np.fill_diagonal(sim, 0.0)
    out: F = np.asarray(sim, dtype=np.float64)
    return out


class ItemCoPurchaseRecommender(CrossSellRecommender):
    """Recommend products often bought together with those the customer has.

    The score of a product the customer lacks is the sum of its similarities
    (:func:`item_similarity`: cosine, Jaccard or lift of co-purchase) with
    the products the customer bought; the reason names the product that
    contributes most. A saved model keeps only the product x product
    similarities (no customer data).

    Parameters
    ----------
    similarity : {"cosine", "jaccard", "lift"}, default="cosine"
        Co-purchase measure.
    shrinkage : float, default=5.0
        Pseudo-count shrinking the similarity of rarely co-bought pairs.

    Attributes
    ----------
    products_ : tuple
        Products seen in ``fit``.
    item_counts_ : ndarray of float, shape (n_products,)
        Customers who bought each product.
    n_customers_ : int
        Customers in ``fit``.
    similarity_ : ndarray of float, shape (n_products, n_products)
        The product x product similarities.
    purchases_ : DataFrame
        The fitted 0/1 customer x product matrix (in memory only, not saved).

    References
    ----------
    .. [1] Sarwar, B., Karypis, G., Konstan, J. & Riedl, J. (2001).
       Item-based collaborative filtering recommendation algorithms. WWW '01.
    .. [2] Linden, G., Smith, B. & York, J. (2003). Amazon.com
       recommendations: item-to-item collaborative filtering. IEEE Internet
       Computing 7(1).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3, 4],
    ...                    "product": ["toner", "printer", "toner", "printer", "desk", "chair",
    ...                                "printer"], "amount": [1.0] * 7})
    >>> model = ItemCoPurchaseRecommender().fit(tx)
    >>> model.recommend([4], k=1)[["product", "reason"]]
      product                            reason
    0   toner  often bought with printer (0.23)
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "similarity": [Options(frozenset({"cosine", "jaccard", "lift"}))],
        "shrinkage": [Interval("float", 0, None)],
    }

    def __init__(self, *, similarity: str = "cosine", shrinkage: float = 5.0) -> None:
        self.similarity = similarity
        self.shrinkage = shrinkage

    def _learn(self, x: F) -> None:
        self.similarity_ = item_similarity(x, self.similarity, float(self.shrinkage))

    def _score(self, x: F, ids: pd.Index) -> tuple[F, Any]:
        scores: F = x @ self.similarity_
        return scores, x

    def _explain(self, context: Any, row: int, product: int) -> str:
        basket = np.flatnonzero(context[row] > 0)
        contrib = self.similarity_[basket, product]
        best = int(basket[int(np.argmax(contrib))])
        return f"often bought with {self.products_[best]} ({contrib.max():.2f})"

    def _model_state(self) -> dict[str, Any]:
        return {"similarity_": np.asarray(self.similarity_)}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.similarity_ = np.asarray(state["similarity_"], dtype=np.float64)
