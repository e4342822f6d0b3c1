"""Item co-purchase recommender: products often bought together with the customer's ones."""

from __future__ import annotations

from typing import Any, ClassVar, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crmkit._params import Constraint, Interval, Options
from crmkit.analysis._crosssell import CrossSellRecommender, Ints, top_k_per_row
from crmkit.analysis._inputs import F
from crmkit.exceptions import InvalidParameterError, ModelFileError

__all__ = ["ItemCoPurchaseRecommender", "item_similarity"]


def _measure(
    co: Any, n_i: Any, n_j: Any, n_customers: int, similarity: str, shrinkage: float
) -> Any:
    """The similarity of co-purchase counts ``co`` (same operations dense and sparse)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if similarity == "cosine":
            sim = co / np.sqrt(n_i * n_j)
        elif similarity == "jaccard":
            sim = co / (n_i + n_j - co)
        else:
            sim = co * n_customers / (n_i * n_j)
        shrink = co / (co + shrinkage) if shrinkage > 0 else np.ones_like(co)
        sim = sim * shrink
    return np.where(np.isfinite(sim), sim, 0.0)


def _sparse_similarity(x: Any, similarity: str, shrinkage: float) -> sp.csr_array:
    xb = sp.csr_array(x, dtype=np.float64)
    co = sp.csr_array(xb.T @ xb)
    co.sum_duplicates()
    co.sort_indices()
    n = co.diagonal()
    rows = np.repeat(np.arange(co.shape[0], dtype=np.int64), np.diff(co.indptr))
    cols = np.asarray(co.indices, dtype=np.int64)
    sim = _measure(co.data, n[rows], n[cols], int(xb.shape[0]), similarity, shrinkage)
    keep = (rows != cols) & (sim != 0)
    indptr = np.zeros(co.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=co.shape[0]), out=indptr[1:])
    return sp.csr_array(
        (np.asarray(sim[keep], dtype=np.float64), cols[keep], indptr), shape=co.shape
    )


@overload
def item_similarity(x: F, similarity: str, shrinkage: float) -> F: ...
@overload
def item_similarity(x: sp.sparray, similarity: str, shrinkage: float) -> sp.csr_array: ...
def item_similarity(x: Any, similarity: str, shrinkage: float) -> Any:
    """Product x product similarity from a 0/1 customer x product matrix.

    With ``c_ij`` the customers who bought both products, ``n_i`` those who
    bought ``i`` and ``N`` all customers: cosine ``c_ij / sqrt(n_i n_j)``,
    Jaccard ``c_ij / (n_i + n_j - c_ij)``, lift ``c_ij N / (n_i n_j)``. Each
    is shrunk by ``c_ij / (c_ij + shrinkage)`` so that pairs seen together
    only a few times count less; the diagonal is 0.

    A sparse ``x`` (``scipy.sparse``, e.g. from
    :func:`~crmkit.analysis._products.sparse_product_matrix`) gives a sparse
    result holding only the co-purchased pairs (the same numbers); memory then
    grows with those pairs, never with products x products.

    Parameters
    ----------
    x : ndarray or scipy.sparse matrix of float, shape (n_customers, n_products)
        0/1 purchases.
    similarity : {"cosine", "jaccard", "lift"}
        The measure.
    shrinkage : float
        Pseudo-count of the shrinkage, >= 0.

    Returns
    -------
    ndarray or scipy.sparse.csr_array of float, shape (n_products, n_products)
        Symmetric, finite, >= 0 (sparse, without stored zeros, for a sparse
        ``x``).

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
    >>> import scipy.sparse as sp
    >>> item_similarity(sp.csr_array(x), "cosine", 0.0).nnz
    2
    """
    sparse = sp.issparse(x)
    if sparse:
        values = np.asarray(x.data) if hasattr(x, "data") else np.empty(0)
        ok = len(x.shape) == 2 and values.dtype.kind in "biuf" and bool(np.all(np.isfinite(values)))
        shape = tuple(x.shape)
    else:
        try:
            x = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            x = np.empty(0)
        ok = x.ndim == 2 and bool(np.all(np.isfinite(x)))
        shape = x.shape
    if not ok:
        raise InvalidParameterError(
            "item_similarity needs a finite 2-d 0/1 matrix (customers x products); got "
            f"shape {shape}"
        )
    if not isinstance(similarity, str) or similarity not in ("cosine", "jaccard", "lift"):
        raise InvalidParameterError(
            f"similarity must be 'cosine', 'jaccard' or 'lift'; got {similarity!r}"
        )
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, (int, float, np.number)) or not (
        np.isfinite(shrinkage) and shrinkage >= 0
    ):
        raise InvalidParameterError(f"shrinkage must be a number >= 0; got {shrinkage!r}")
    if sparse:
        return _sparse_similarity(x, similarity, float(shrinkage))
    co = x.T @ x
    n_i = np.diag(co).copy()
    sim = _measure(co, n_i[:, None], n_i[None, :], x.shape[0], similarity, float(shrinkage))
    np.fill_diagonal(sim, 0.0)
    out: F = np.asarray(sim, dtype=np.float64)
    return out


class ItemCoPurchaseRecommender(CrossSellRecommender):
    """Recommend products often bought together with those the customer has.

    The score of a product the customer lacks is the sum of its similarities
    (:func:`item_similarity`: cosine, Jaccard or lift of co-purchase) with
    the products the customer bought (each product's ``n_neighbors`` most
    similar products; everything is sparse, nothing products x products or
    customers x products is dense); the reason names the product that
    contributes most. A saved model keeps only the product x product
    similarities (no customer data).

    Parameters
    ----------
    similarity : {"cosine", "jaccard", "lift"}, default="cosine"
        Co-purchase measure.
    shrinkage : float, default=5.0
        Pseudo-count shrinking the similarity of rarely co-bought pairs.
    n_neighbors : int or None, default=50
        Each product keeps only its ``n_neighbors`` most similar products
        (ties: earlier product first), the classic item-based model size
        [1]_: scoring then costs at most ``n_neighbors`` cells per product a
        customer bought, and the saved model at most ``n_neighbors`` values
        per product. ``None`` keeps every co-purchased pair (with 50
        products or fewer, the same).

    Attributes
    ----------
    products_ : tuple
        Products seen in ``fit``.
    item_counts_ : ndarray of float, shape (n_products,)
        Customers who bought each product.
    n_customers_ : int
        Customers in ``fit``.
    similarity_ : scipy.sparse.csr_array of float, shape (n_products, n_products)
        The product x product similarities: row ``i`` holds the products
        most similar to product ``i`` (only co-purchased pairs stored).
    purchases_ : scipy.sparse.csr_array, shape (n_customers, n_products)
        The fitted 0/1 customer x product matrix (in memory only, not saved).
    customer_index_ : Index
        The customer id of each row of ``purchases_`` (in memory only).

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
        "n_neighbors": [Interval("int", 1, None), None],
    }

    def __init__(
        self, *, similarity: str = "cosine", shrinkage: float = 5.0, n_neighbors: int | None = 50
    ) -> None:
        self.similarity = similarity
        self.shrinkage = shrinkage
        self.n_neighbors = n_neighbors

    def _learn(self, x: sp.csr_array) -> None:
        sim = item_similarity(x, self.similarity, float(self.shrinkage))
        if self.n_neighbors is not None:  # each product keeps its most similar products
            n = sim.shape[0]
            rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(sim.indptr))
            cols = np.asarray(sim.indices, dtype=np.int64)
            big = (np.diff(sim.indptr) > int(self.n_neighbors))[rows]  # rows to cut
            top_rows, top_cols, _, _ = top_k_per_row(
                rows[big], cols[big], sim.data[big], int(self.n_neighbors), ranked=False
            )
            keep = ~big
            # positions of the kept cells in the canonical (row-major) matrix
            keep[np.searchsorted(rows * n + cols, top_rows * n + top_cols)] = True
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows[keep], minlength=n), out=indptr[1:])
            sim = sp.csr_array((sim.data[keep], cols[keep], indptr), shape=sim.shape)
        self.similarity_ = sim

    def _row_cost(self, x: sp.csr_array, k: int, prepared: Any) -> Ints:
        degree = np.diff(self.similarity_.indptr)
        rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
        cost = np.bincount(rows, weights=degree[x.indices], minlength=x.shape[0])
        return cost.astype(np.int64) + np.diff(x.indptr)

    def _score(
        self, x: sp.csr_array, ids: pd.Index, k: int, prepared: Any
    ) -> tuple[sp.csr_array, Any]:
        scores = sp.csr_array(x @ self.similarity_)
        return scores, x

    def _explain(self, context: Any, rows: Ints, products: Ints) -> list[str]:
        x: sp.csr_array = context
        if len(rows) == 0:  # scipy gives a sparse result for empty index arrays
            return []
        start, length = x.indptr[rows], np.diff(x.indptr)[rows]
        pair = np.repeat(np.arange(len(rows)), length)
        within = np.arange(int(length.sum())) - np.repeat(np.cumsum(length) - length, length)
        basket = np.asarray(x.indices, dtype=np.int64)[np.repeat(start, length) + within]
        contrib = np.asarray(self.similarity_[basket, products[pair]], dtype=np.float64).ravel()
        # the largest contribution of each pair; ties go to the first basket product
        # (each pair's cells are consecutive, basket order: linear, no sort)
        if len(contrib):
            best = np.zeros(len(rows))
            cells = length > 0
            best[cells] = np.maximum.reduceat(contrib, (np.cumsum(length) - length)[cells])
            (top,) = np.nonzero(contrib == best[pair])
            first = top[np.r_[True, pair[top][1:] != pair[top][:-1]]]
        else:
            first = np.zeros(0, dtype=np.int64)
        names = np.asarray(self.products_, dtype=object)[basket[first]]
        return [
            f"often bought with {n} ({c:.2f})"
            for n, c in zip(names.tolist(), contrib[first].tolist(), strict=True)
        ]

    def _model_state(self) -> dict[str, Any]:
        return {"similarity_": sp.csr_array(self.similarity_)}

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        sim = state["similarity_"]
        n = len(self.products_)
        if not sp.issparse(sim):  # files written before the sparse format: a dense matrix
            sim = np.asarray(sim, dtype=np.float64)
            if sim.shape != (n, n):
                raise ModelFileError(
                    f"field 'state.similarity_': shape {sim.shape}, expected ({n}, {n})"
                )
        sim = sp.csr_array(sim, dtype=np.float64)
        if sim.shape != (n, n):
            raise ModelFileError(
                f"field 'state.similarity_': shape {sim.shape}, expected ({n}, {n}) "
                "(one row and column per product)"
            )
        sim.eliminate_zeros()
        self.similarity_ = sim
