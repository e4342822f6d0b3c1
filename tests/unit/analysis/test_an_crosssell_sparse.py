"""The sparse recommenders (issue #18) equal the old dense algorithms, whatever the row order."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from crmkit._persist import load
from crmkit.analysis import (
    CustomerKNNRecommender,
    ItemCoPurchaseRecommender,
    PopularityRecommender,
    item_similarity,
    product_matrix,
)
from crmkit.analysis._crosssell import row_blocks, top_k_per_row
from crmkit.analysis._products import sparse_product_matrix
from tests.unit.analysis._dense_reference import dense_recommend


def _tx(
    seed: int, n_customers: int = 160, n_products: int = 35, n_lines: int = 900
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, n_products + 1) ** 0.8
    product = rng.choice(n_products, n_lines, p=popularity / popularity.sum())
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in rng.integers(0, n_customers, n_lines)],
            "product": [f"p{j:02d}" for j in product],
            # a few refunds: lines that are no purchase
            "amount": np.where(rng.random(n_lines) < 0.05, -3.0, rng.gamma(2.0, 20.0, n_lines)),
        }
    )


def _same(got: pd.DataFrame, want_more: pd.DataFrame, k: int, exact: bool = True) -> None:
    """``got`` (top ``k``) equals the dense top ``k`` (``want_more`` holds the top ``k + 1``).

    Scores must agree to 1e-12; products and reasons wherever the dense
    order is not decided by rounding (scores that differ by less than 1e-12
    are equal terms added in another order: their order is rounding noise;
    with ``exact=False`` exactly equal dense scores count as such too: the
    neighbour votes are added in another order).
    """
    assert got.columns.tolist() == ["customer_id", "product", "score", "rank", "reason"]
    got = got.reset_index(drop=True)
    want_more = want_more.reset_index(drop=True)
    want = want_more.loc[want_more["rank"] <= k].reset_index(drop=True)
    for column in ("customer_id", "rank"):
        assert got[column].tolist() == want[column].tolist(), column
    np.testing.assert_allclose(got["score"], want["score"], rtol=1e-12, atol=0)
    tied = np.zeros(len(want), dtype=bool)
    for _, group in want_more.groupby("customer_id", sort=False):
        scores = group["score"].to_numpy()
        gap = np.abs(np.diff(scores))
        close = ((gap > 0) | (not exact)) & (gap <= 1e-12 * np.abs(scores[1:]))
        mark = np.r_[close, False] | np.r_[False, close]
        keep = group["rank"].to_numpy() <= k
        tied[want.index[want["customer_id"] == group["customer_id"].iloc[0]]] = mark[keep]
    for column in ("product", "reason"):
        assert got.loc[~tied, column].tolist() == want.loc[~tied, column].tolist(), column
    assert tied.mean() < (0.1 if exact else 0.35)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    ("cls", "kind", "params"),
    [
        (PopularityRecommender, "popularity", {}),
        (ItemCoPurchaseRecommender, "item", {"similarity": "cosine", "shrinkage": 5.0}),
        (ItemCoPurchaseRecommender, "item", {"similarity": "jaccard", "shrinkage": 0.0}),
        (ItemCoPurchaseRecommender, "item", {"similarity": "lift", "shrinkage": 2.0}),
        (CustomerKNNRecommender, "knn", {"n_neighbors": 1000}),
    ],
)
def test_sparse_equals_the_dense_algorithm(
    seed: int, cls: type, kind: str, params: dict[str, object]
) -> None:
    tx = _tx(seed)
    exact = kind != "knn"
    model = cls(**params).fit(tx)
    _same(model.recommend(k=4), dense_recommend(kind, tx, k=5, **params), 4, exact)
    some = ["c010", "c003", "c150", "c042"]
    _same(model.recommend(some, k=7), dense_recommend(kind, tx, some, k=8, **params), 7, exact)
    other = _tx(seed + 10, n_products=40)  # new customers, products unknown to the model
    _same(
        model.recommend(k=3, data=other),
        dense_recommend(kind, tx, k=4, data=other, **params),
        3,
        exact,
    )
    restored = cls.from_dict(json.loads(json.dumps(model.to_dict())))
    _same(
        restored.recommend(k=3, data=other),
        dense_recommend(kind, tx, k=4, data=other, pool_from_targets=True, **params),
        3,
        exact,
    )


@pytest.mark.parametrize("seed", [0, 3])
def test_knn_equals_dense_where_the_neighbours_are_unambiguous(seed: int) -> None:
    tx = _tx(seed)
    n = 4
    want = dense_recommend("knn", tx, k=6, n_neighbors=n)
    got = CustomerKNNRecommender(n_neighbors=n).fit(tx).recommend(k=5)
    x = product_matrix(tx, "binary").to_numpy(dtype=float)
    unit = x / np.sqrt(x.sum(axis=1, keepdims=True))
    sim = unit @ unit.T
    np.fill_diagonal(sim, -1.0)
    ordered = -np.sort(-sim, axis=1)
    # the n-th and (n+1)-th similarity differ (or the (n+1)-th is 0): one neighbour set
    clear = (ordered[:, n - 1] - ordered[:, n] > 1e-12) | (ordered[:, n] <= 0)
    ids = product_matrix(tx, "binary").index[clear]
    assert len(ids) > 30
    _same(got[got["customer_id"].isin(ids)], want[want["customer_id"].isin(ids)], 5)


@pytest.mark.parametrize("cls", [PopularityRecommender, ItemCoPurchaseRecommender,
                                 CustomerKNNRecommender])  # fmt: skip
def test_row_order_never_changes_the_recommendations(cls: type) -> None:
    tx = _tx(5)
    shuffled = tx.sample(frac=1.0, random_state=1).reset_index(drop=True)
    params = {"n_neighbors": 3} if cls is CustomerKNNRecommender else {}
    a = cls(**params).fit(tx).recommend(k=6)
    b = cls(**params).fit(shuffled).recommend(k=6)
    pd.testing.assert_frame_equal(a, b)


def test_item_similarity_sparse_equals_dense() -> None:
    x = product_matrix(_tx(4), "binary").to_numpy(dtype=float)
    for similarity in ("cosine", "jaccard", "lift"):
        for shrinkage in (0.0, 3.0):
            dense = item_similarity(x, similarity, shrinkage)
            sparse = item_similarity(sp.csr_array(x), similarity, shrinkage)
            assert sp.issparse(sparse) and sparse.nnz == np.count_nonzero(dense)
            np.testing.assert_array_equal(sparse.toarray(), dense)
    with pytest.raises(Exception, match="finite 2-d"):
        item_similarity(sp.csr_array(np.array([[np.nan, 1.0]])), "cosine", 0.0)


def test_sparse_product_matrix_equals_the_dense_one() -> None:
    tx = _tx(6).assign(quantity=lambda f: np.where(f["amount"] > 0, 2.0, -1.0))
    for values in ("count", "binary", "revenue", "quantity"):
        dense = product_matrix(tx, values)
        pm = sparse_product_matrix(tx, values)
        np.testing.assert_array_equal(pm.matrix.toarray(), dense.to_numpy(dtype=float))
        assert pm.customers.tolist() == dense.index.tolist()
        assert pm.products.tolist() == dense.columns.tolist()
        assert pm.matrix.has_canonical_format and not np.any(pm.matrix.data == 0)
        as_sparse = product_matrix(tx, values, sparse=True)
        pd.testing.assert_frame_equal(as_sparse.sparse.to_dense(), dense, check_dtype=True)


def test_blocks_and_top_k_helpers() -> None:
    assert row_blocks(np.array([5, 5, 5]), budget=100) == [(0, 3)]
    assert row_blocks(np.array([], dtype=np.int64)) == []
    assert row_blocks(np.array([7, 0, 0, 7]), budget=7) == [(0, 3), (3, 4)]
    rows, cols, values, rank = top_k_per_row(
        np.array([0, 0, 0, 2]), np.array([3, 1, 2, 0]), np.array([1.0, 1.0, 2.0, 0.5]), 2
    )
    assert (rows.tolist(), cols.tolist(), rank.tolist()) == ([0, 0, 2], [2, 1, 0], [1, 2, 1])
    assert values.tolist() == [2.0, 1.0, 0.5]
    # against a full sort, with many ties at the cut
    rng = np.random.default_rng(0)
    r = np.sort(rng.integers(0, 50, 3000))
    c = rng.permutation(3000)
    v = rng.integers(1, 6, 3000).astype(float)
    got = top_k_per_row(r, c, v, 7)
    order = np.lexsort((c, -v, r))
    ranks = np.concatenate([np.arange(1, n + 1) for n in np.bincount(r)])
    want = ranks <= 7
    assert got[1].tolist() == c[order][want].tolist() and got[3].tolist() == ranks[want].tolist()
    # the same cells with the columns of each row ascending (canonical CSR)
    canonical = np.lexsort((c, r))
    again = top_k_per_row(r[canonical], c[canonical], v[canonical], 7)
    assert again[1].tolist() == got[1].tolist() and again[3].tolist() == got[3].tolist()
    per_row = np.arange(int(r.max()) + 1) % 4  # a limit per row, 0 keeps nothing
    some = top_k_per_row(r[canonical], c[canonical], v[canonical], per_row)
    assert np.all(np.bincount(some[0], minlength=len(per_row)) <= per_row)
    assert set(zip(some[0].tolist(), some[1].tolist(), strict=True)) == {
        (int(row), int(col))
        for row, col, rank in zip(r[order], c[order], ranks, strict=True)
        if rank <= per_row[row]
    }
    assert top_k_per_row(r, c, v, 0)[0].size == 0
    loose = top_k_per_row(r[canonical], c[canonical], v[canonical], per_row, ranked=False)
    assert np.all(np.diff(loose[0]) >= 0) and not loose[3].any()  # row order, no ranks
    assert set(zip(loose[0].tolist(), loose[1].tolist(), strict=True)) == set(
        zip(some[0].tolist(), some[1].tolist(), strict=True)
    )


def test_saved_item_model_is_sparse_and_old_dense_files_still_load(tmp_path: object) -> None:
    tx = _tx(7)
    model = ItemCoPurchaseRecommender().fit(tx)
    doc = model.to_dict()
    stored = doc["state"]["__dict__"]["similarity_"]
    assert set(stored) == {"__csr__", "shape"}
    assert len(stored["__csr__"][0]["__ndarray__"]) == model.similarity_.nnz
    path = tmp_path / "item.json"  # type: ignore[operator]
    model.save(path)
    again = load(path)
    pd.testing.assert_frame_equal(again.recommend(data=tx), model.recommend())
    # the format of earlier crmkit versions: a dense products x products array
    dense = model.similarity_.toarray()
    doc["state"]["__dict__"]["similarity_"] = {
        "__ndarray__": dense.ravel().tolist(), "dtype": "<f8", "shape": list(dense.shape)
    }
    old = ItemCoPurchaseRecommender.from_dict(json.loads(json.dumps(doc)))
    pd.testing.assert_frame_equal(old.recommend(data=tx), model.recommend())


@pytest.mark.parametrize("n_neighbors", [1, 3, 8])
def test_item_model_keeps_each_products_most_similar(n_neighbors: int) -> None:
    tx = _tx(8)
    x = product_matrix(tx, "binary").to_numpy(dtype=float)
    full = item_similarity(x, "jaccard", 1.0)
    want = np.zeros_like(full)
    for i, row in enumerate(full):
        order = np.lexsort((np.arange(len(row)), -row))  # highest first, ties: lower column
        best = order[:n_neighbors]
        best = best[row[best] > 0]
        want[i, best] = row[best]
    model = ItemCoPurchaseRecommender(similarity="jaccard", shrinkage=1.0, n_neighbors=n_neighbors)
    got = model.fit(tx).similarity_
    assert got.has_canonical_format
    np.testing.assert_array_equal(got.toarray(), want)
    recs = model.recommend(k=3)
    scores = product_matrix(tx, "binary").to_numpy(dtype=float) @ want
    ids = product_matrix(tx, "binary").index
    row = ids.get_indexer(recs["customer_id"])
    col = pd.Index(model.products_).get_indexer(recs["product"])
    np.testing.assert_allclose(recs["score"], scores[row, col], rtol=1e-12)
    unlimited = ItemCoPurchaseRecommender(n_neighbors=None).fit(tx).similarity_
    np.testing.assert_array_equal(unlimited.toarray(), item_similarity(x, "cosine", 5.0))
