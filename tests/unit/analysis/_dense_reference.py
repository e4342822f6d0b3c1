"""The dense cross-sell algorithms crmkit used before the sparse rewrite (issue #18).

Kept only as a test oracle: the sparse recommenders must give the same
recommendations (scores equal to 1e-12) on data small enough to be dense.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit.analysis import item_similarity, product_matrix


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norm = np.sqrt((x * x).sum(axis=1, keepdims=True))
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


def _knn_scores(x: np.ndarray, pool: np.ndarray, position: np.ndarray, n_neighbors: int) -> Any:
    pool_unit = _unit_rows(pool)
    k = min(n_neighbors, max(len(pool) - 1, 0))
    sim = _unit_rows(x) @ pool_unit.T
    has_own = position >= 0
    sim[np.flatnonzero(has_own), position[has_own]] = -np.inf
    scores = np.zeros_like(x)
    neigh = np.full((len(x), k), -1)
    if k:
        idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        w = np.take_along_axis(sim, idx, axis=1)
        w = np.where(w > 0, w, 0.0)
        total = w.sum(axis=1, keepdims=True)
        votes = np.zeros_like(x)
        for j in range(k):
            votes += w[:, j : j + 1] * pool[idx[:, j]]
        scores = np.divide(votes, total, out=np.zeros_like(votes), where=total > 0)
        neigh = np.where(w > 0, idx, -1)
    return scores, neigh


def dense_recommend(
    kind: str,
    fit_tx: pd.DataFrame,
    customer_ids: Any = None,
    k: int = 5,
    *,
    data: pd.DataFrame | None = None,
    pool_from_targets: bool = False,
    **params: Any,
) -> pd.DataFrame:
    """Recommendations of the old dense implementation of ``kind``."""
    fitted = product_matrix(fit_tx, "binary")
    products = fitted.columns
    fx = fitted.to_numpy(dtype=np.float64)
    counts = fx.sum(axis=0)
    if data is None:
        matrix = fitted
    else:
        matrix = product_matrix(data, "binary").reindex(columns=products, fill_value=0)
    if customer_ids is not None:
        matrix = matrix.loc[pd.Index(pd.unique(np.asarray(list(customer_ids), dtype=object)))]
    x = matrix.to_numpy(dtype=np.float64)
    if kind == "popularity":
        share = counts / max(len(fx), 1)
        scores = np.broadcast_to(share, x.shape).copy()
        reason = lambda r, p: f"bought by {share[p]:.0%} of customers"  # noqa: E731
    elif kind == "item":
        sim = item_similarity(fx, params.get("similarity", "cosine"), params.get("shrinkage", 5.0))
        scores = x @ sim

        def reason(r: int, p: int) -> str:
            basket = np.flatnonzero(x[r] > 0)
            contrib = sim[basket, p]
            best = int(basket[int(np.argmax(contrib))])
            return f"often bought with {products[best]} ({contrib.max():.2f})"
    else:
        pool_frame = matrix if pool_from_targets else fitted
        pool = pool_frame.to_numpy(dtype=np.float64)
        position = pd.Index(pool_frame.index).get_indexer(matrix.index)
        scores, neigh = _knn_scores(x, pool, position, params.get("n_neighbors", 30))

        def reason(r: int, p: int) -> str:
            used = neigh[r][neigh[r] >= 0]
            return f"bought by {int(pool[used, p].sum())} of {len(used)} similar customers"
    scores = np.where((x > 0) | ~np.isfinite(scores), 0.0, scores)
    top = np.argsort(-scores, axis=1, kind="stable")[:, : min(k, scores.shape[1])]
    top_scores = np.take_along_axis(scores, top, axis=1)
    rows, cols = np.nonzero(top_scores > 0)
    product_idx = top[rows, cols]
    return pd.DataFrame(
        {
            "customer_id": matrix.index[rows],
            "product": np.asarray(products, dtype=object)[product_idx],
            "score": top_scores[rows, cols],
            "rank": (cols + 1).astype(np.int64),
            "reason": [reason(int(r), int(p)) for r, p in zip(rows, product_idx, strict=True)],
        }
    )
