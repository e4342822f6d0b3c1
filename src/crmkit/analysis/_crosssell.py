"""Cross-sell recommenders: the shared machinery and the popularity baseline.

Seed 002 asks where cross-sell potential is unused; seed 000 notes that the
more different products a customer buys, the longer the relationship lasts.
A recommender learns from who bought what (:func:`product_matrix`) and
proposes, for each customer, products the customer has not bought yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._estimator import BaseEstimator, check_is_fitted
from crmkit._params import Constraint
from crmkit._persist import Persistable
from crmkit.analysis._inputs import F, check_int
from crmkit.analysis._products import product_matrix
from crmkit.data import CustomerData
from crmkit.exceptions import NotFittedError, SchemaError, SchemaFailure

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CrossSellRecommender", "PopularityRecommender"]

_COLUMNS = ["customer_id", "product", "score", "rank", "reason"]


class CrossSellRecommender(BaseEstimator, Persistable):
    """Base of the cross-sell recommenders: ``fit`` on purchases, ``recommend`` new products.

    Subclasses implement ``_learn(matrix)`` (learn from the 0/1 customer x
    product matrix), ``_score(matrix, ids)`` (a score per customer and
    product, and a context) and ``_explain(context, row, product)`` (the
    reason text).

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
    purchases_ : DataFrame
        The fitted 0/1 customer x product matrix (in memory only, not saved).

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
        matrix = product_matrix(data, "binary")
        self.products_ = tuple(matrix.columns.tolist())
        x = matrix.to_numpy(dtype=np.float64)
        self.item_counts_ = x.sum(axis=0)
        self.n_customers_ = int(x.shape[0])
        self.purchases_ = matrix
        self._learn(x)
        return self

    def _learn(self, x: F) -> None:
        """Learn the model from the 0/1 matrix (hook)."""

    def _score(self, x: F, ids: pd.Index) -> tuple[F, Any]:
        raise NotImplementedError

    def _explain(self, context: Any, row: int, product: int) -> str:
        raise NotImplementedError

    def _targets(self, data: CustomerData | pd.DataFrame | None) -> pd.DataFrame:
        if data is None:
            if not hasattr(self, "purchases_"):
                raise NotFittedError(
                    f"This {type(self).__name__} was loaded from a file, which holds no "
                    "customer data: pass the customers' purchases with recommend(data=...)"
                )
            matrix: pd.DataFrame = self.purchases_
            return matrix
        given = product_matrix(data, "binary")
        result: pd.DataFrame = given.reindex(
            columns=pd.Index(self.products_, name="product"), fill_value=0
        )
        return result

    def recommend(
        self,
        customer_ids: Any = None,
        k: int = 5,
        *,
        data: CustomerData | pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """The top ``k`` products each customer has not bought yet.

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
        matrix = self._targets(data)
        if customer_ids is not None:
            if isinstance(customer_ids, (str, bytes)) or not np.iterable(customer_ids):
                customer_ids = [customer_ids]
            wanted = pd.Index(pd.unique(np.asarray(list(customer_ids), dtype=object)))
            unknown = wanted.difference(matrix.index, sort=False)
            if len(unknown):
                raise SchemaError(
                    [
                        SchemaFailure(
                            "customer_ids",
                            "customer_id",
                            "has customers without purchases of known products in the data",
                            len(unknown),
                            (),
                            tuple(unknown[:5].tolist()),
                        )
                    ]
                )
            matrix = matrix.loc[wanted]
        x = matrix.to_numpy(dtype=np.float64)
        scores, context = self._score(x, matrix.index)
        scores = np.where((x > 0) | ~np.isfinite(scores), 0.0, scores)
        n_products = scores.shape[1]
        top = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, n_products)]
        top_scores = np.take_along_axis(scores, top, axis=1)
        rows, cols = np.nonzero(top_scores > 0)
        product_idx = top[rows, cols]
        out = pd.DataFrame(
            {
                "customer_id": matrix.index[rows],
                "product": np.asarray(self.products_, dtype=object)[product_idx],
                "score": top_scores[rows, cols],
                "rank": (cols + 1).astype(np.int64),
                "reason": [
                    self._explain(context, int(r), int(p))
                    for r, p in zip(rows, product_idx, strict=True)
                ],
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
    purchases_ : DataFrame
        The fitted 0/1 customer x product matrix (in memory only, not saved).

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

    def _score(self, x: F, ids: pd.Index) -> tuple[F, Any]:
        share = self.item_counts_ / max(self.n_customers_, 1)
        return np.broadcast_to(share, x.shape).copy(), share

    def _explain(self, context: Any, row: int, product: int) -> str:
        return f"bought by {context[product]:.0%} of customers"
