"""The customer kNN search over distinct baskets finds what the full search finds (issue #18).

On a small catalogue many customers share a basket; :class:`CustomerKNNRecommender`
then compares distinct baskets and draws the neighbours from them. Its
recommendations must equal, exactly, those of the search over every pair of
customers sharing a product (forced here with ``MAX_BASKET_SHARE``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import pytest

import crmkit.analysis._customer_knn as knn
from crmkit.analysis import CustomerKNNRecommender
from crmkit.analysis._products import sparse_product_matrix
from crmkit.datasets import make_crm


def _records(n: int, seed: int) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tx: pd.DataFrame = make_crm(n, seed=seed).data.transactions
    return tx


def _both(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[], pd.DataFrame]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    monkeypatch.setattr(knn, "MAX_BASKET_SHARE", 1.0)  # always over distinct baskets
    grouped = run()
    monkeypatch.setattr(knn, "MAX_BASKET_SHARE", 0.0)  # never: every pair sharing a product
    full = run()
    return grouped, full


@pytest.mark.parametrize(("seed", "n_neighbors"), [(0, 30), (1, 5), (2, 1), (3, 200)])
def test_basket_search_equals_the_full_search_on_make_crm(
    monkeypatch: pytest.MonkeyPatch, seed: int, n_neighbors: int
) -> None:
    tx = _records(1500, seed)
    model = CustomerKNNRecommender(n_neighbors=n_neighbors).fit(tx)
    grouped, full = _both(monkeypatch, lambda: model.recommend(k=5))
    assert len(full) > 1000
    pd.testing.assert_frame_equal(grouped, full, check_exact=True)
    some = full["customer_id"].drop_duplicates().sample(40, random_state=seed).tolist()
    grouped, full = _both(monkeypatch, lambda: model.recommend(some, k=3))
    pd.testing.assert_frame_equal(grouped, full, check_exact=True)


def test_basket_search_with_other_data_and_after_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    tx = _records(1200, 4)
    model = CustomerKNNRecommender(n_neighbors=10).fit(tx)
    # the fitted customers with some lines dropped: their own basket differs from the pool's
    other = tx.sample(frac=0.7, random_state=3)
    unknown = pd.DataFrame({"customer_id": [-1], "product": ["a product never fitted"]})
    other = pd.concat([other, unknown.assign(amount=5.0)], ignore_index=True)  # an empty row
    grouped, full = _both(monkeypatch, lambda: model.recommend(k=4, data=other))
    pd.testing.assert_frame_equal(grouped, full, check_exact=True)
    restored = CustomerKNNRecommender.from_dict(json.loads(json.dumps(model.to_dict())))
    grouped, full = _both(monkeypatch, lambda: restored.recommend(k=4, data=other))
    pd.testing.assert_frame_equal(grouped, full, check_exact=True)


def test_many_identical_baskets_ties_go_to_the_earlier_customer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 40 customers share {a, b}; 6 customers {a, b, c} or {a, b, d}: ties everywhere
    lines = [(f"s{i:02d}", p) for i in range(40) for p in "ab"]
    lines += [(f"t{i}", p) for i in range(3) for p in "abc"]
    lines += [(f"u{i}", p) for i in range(3) for p in "abd"]
    lines += [("v0", "c"), ("v0", "d"), ("w0", "e"), ("w0", "a")]
    tx = pd.DataFrame(lines, columns=["customer_id", "product"]).assign(amount=1.0)
    for n_neighbors in (1, 3, 4, 39, 40, 41, 45):
        model = CustomerKNNRecommender(n_neighbors=n_neighbors).fit(tx)
        grouped, full = _both(monkeypatch, partial(model.recommend, k=3))
        pd.testing.assert_frame_equal(grouped, full, check_exact=True)
    # s05 {a, b}: its 3 nearest are other {a, b} customers, who bought nothing new;
    # v0 {c, d}: the six {a, b, c}/{a, b, d} customers tie, the first three by id are t0-t2;
    # w0 {a, e}: the 40 {a, b} customers tie, s00-s02 are taken
    got = CustomerKNNRecommender(n_neighbors=3).fit(tx).recommend(["s05", "v0", "w0"], k=2)
    assert got["customer_id"].tolist() == ["v0", "v0", "w0"]
    assert got["product"].tolist() == ["a", "b", "b"]
    assert got["score"].tolist() == [1.0, 1.0, 1.0]
    assert set(got["reason"]) == {"bought by 3 of 3 similar customers"}


def test_the_basket_search_is_chosen_only_where_it_pays() -> None:
    tx = _records(10_000, 5)  # under half as many distinct baskets as customers
    x = sparse_product_matrix(tx, "binary").matrix
    assert knn._group_baskets(x, x, 30) is not None  # 20 products, repeated baskets
    assert knn._group_baskets(x, x, 0) is None
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(
        {
            "customer_id": rng.integers(0, 300, 3000),
            "product": rng.integers(0, 200, 3000),
            "amount": 1.0,
        }
    )
    w = sparse_product_matrix(wide, "binary").matrix
    assert knn._group_baskets(w, w, 30) is None  # over 64 products


def test_near_baskets_lookup_equals_the_full_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup of near baskets (level by level) settles most targets; the scan the rest."""
    tx = _records(3000, 5)
    settled: list[int] = []
    near = knn._near

    def counting(targets: np.ndarray, *args: object) -> np.ndarray:
        left: np.ndarray = near(targets, *args)
        settled.append(len(targets) - len(left))
        return left

    monkeypatch.setattr(knn, "_near", counting)
    model = CustomerKNNRecommender(n_neighbors=30).fit(tx)
    grouped, full = _both(monkeypatch, lambda: model.recommend(k=5))
    assert sum(settled) > 0  # the lookup was used, not only the scan
    pd.testing.assert_frame_equal(grouped, full, check_exact=True)
    monkeypatch.setattr(knn, "_near", lambda targets, *args: np.arange(len(targets)))
    scanned, _ = _both(monkeypatch, lambda: model.recommend(k=5))
    pd.testing.assert_frame_equal(scanned, full, check_exact=True)


def test_customers_with_nothing_to_recommend_get_an_empty_frame() -> None:
    from crmkit.analysis import ItemCoPurchaseRecommender

    tx = pd.DataFrame(
        {"customer_id": [1, 1, 2, 2, 3], "product": ["a", "b", "a", "b", "c"], "amount": 1.0}
    )
    for model in (CustomerKNNRecommender(n_neighbors=1), ItemCoPurchaseRecommender()):
        got = model.fit(tx).recommend([3], k=3)
        assert got.empty
        assert list(got.columns) == ["customer_id", "product", "score", "rank", "reason"]
