"""Product matrix, cross-sell recommenders and their hold-out evaluation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crmkit._persist import load
from crmkit.analysis import (
    CustomerKNNRecommender,
    ItemCoPurchaseRecommender,
    PopularityRecommender,
    hit_rate,
    item_similarity,
    new_purchases,
    product_matrix,
)
from crmkit.datasets._synthetic import SyntheticCRM
from crmkit.exceptions import (
    DataWarning,
    InvalidParameterError,
    NotFittedError,
    SchemaError,
)

RECOMMENDERS = [PopularityRecommender, ItemCoPurchaseRecommender, CustomerKNNRecommender]


@pytest.fixture
def tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c", "c", "d", "d", "e"],
            "product": [
                "toner",
                "printer",
                "paper",
                "toner",
                "printer",
                "desk",
                "chair",
                "desk",
                "lamp",
                "printer",
            ],
            "amount": [10.0, 400.0, 5.0, 12.0, 380.0, 200.0, 90.0, 210.0, 40.0, 420.0],
            "quantity": [1.0, 1.0, 5.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0],
        }
    )


def test_product_matrix_values(tx: pd.DataFrame) -> None:
    refund = pd.concat(
        [
            tx,
            pd.DataFrame(
                {
                    "customer_id": ["e"],
                    "product": ["printer"],
                    "amount": [-420.0],
                    "quantity": [-1.0],
                }
            ),
        ],
        ignore_index=True,
    )
    count = product_matrix(refund)
    assert count.index.name == "customer_id" and count.columns.name == "product"
    assert count.columns.tolist() == ["chair", "desk", "lamp", "paper", "printer", "toner"]
    assert count.loc["e", "printer"] == 1  # the refund line is no purchase
    revenue = product_matrix(refund, values="revenue")
    assert revenue.loc["e", "printer"] == 0.0
    assert revenue.loc["a", "printer"] == 400.0
    quantity = product_matrix(refund, values="quantity")
    assert quantity.loc["a", "paper"] == 5.0
    binary = product_matrix(tx, values="binary")
    assert set(np.unique(binary.to_numpy())) == {0, 1}
    expected = pd.crosstab(tx["customer_id"], tx["product"])
    np.testing.assert_array_equal(product_matrix(tx).to_numpy(), expected.to_numpy())


def test_product_matrix_bad_input(tx: pd.DataFrame) -> None:
    with pytest.raises(SchemaError, match=r"transactions\['product'\]: is missing"):
        product_matrix(tx.drop(columns="product"))
    with pytest.raises(InvalidParameterError, match="'values'"):
        product_matrix(tx, values="margin")
    holes = tx.astype({"product": object})
    holes.loc[2, "product"] = None
    with pytest.warns(DataWarning, match="1 transaction lines without a product"):
        out = product_matrix(holes)
    assert "paper" not in out.columns
    with pytest.raises(SchemaError):
        product_matrix([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", RECOMMENDERS)
def test_recommendations_exclude_bought_products(cls: type, tx: pd.DataFrame) -> None:
    before = tx.copy()
    model = cls().fit(tx)
    recs = model.recommend(k=3)
    pd.testing.assert_frame_equal(tx, before)
    assert recs.columns.tolist() == ["customer_id", "product", "score", "rank", "reason"]
    bought = set(zip(tx["customer_id"], tx["product"], strict=True))
    assert not any(
        (c, p) in bought for c, p in zip(recs["customer_id"], recs["product"], strict=True)
    )
    assert (recs["score"] > 0).all()
    assert (
        recs.groupby("customer_id")["rank"]
        .apply(lambda r: r.tolist() == list(range(1, len(r) + 1)))
        .all()
    )
    assert recs.groupby("customer_id").size().max() <= 3
    for _, group in recs.groupby("customer_id"):
        assert group["score"].is_monotonic_decreasing
    assert recs["reason"].str.len().min() > 0


def test_item_co_purchase_logic(tx: pd.DataFrame) -> None:
    model = ItemCoPurchaseRecommender(shrinkage=0.0).fit(tx)
    recs = model.recommend(["e"], k=2)
    # e bought a printer; a and b, who bought printers, bought toner (both) and paper (one)
    assert recs["product"].tolist() == ["toner", "paper"]
    assert recs["reason"].iloc[0].startswith("often bought with printer")
    x = product_matrix(tx, values="binary").to_numpy(dtype=float)
    sim = item_similarity(x, "cosine", 0.0)
    co = x.T @ x
    n = np.diag(co)
    i, j = 4, 5  # printer, toner
    assert sim[i, j] == pytest.approx(co[i, j] / np.sqrt(n[i] * n[j]))
    assert np.allclose(sim, sim.T) and np.all(np.diag(sim) == 0)
    lift = item_similarity(x, "lift", 0.0)
    assert lift[i, j] == pytest.approx(co[i, j] * 5 / (n[i] * n[j]))
    jac = item_similarity(x, "jaccard", 0.0)
    assert jac[i, j] == pytest.approx(co[i, j] / (n[i] + n[j] - co[i, j]))
    shrunk = item_similarity(x, "cosine", 2.0)
    assert shrunk[i, j] == pytest.approx(sim[i, j] * co[i, j] / (co[i, j] + 2.0))


def test_customer_knn_logic(tx: pd.DataFrame) -> None:
    model = CustomerKNNRecommender(n_neighbors=1).fit(tx)
    recs = model.recommend(["b", "c"])
    # b's nearest other customer is a (never b itself): a's paper; c's is d: the lamp
    assert recs["product"].tolist() == ["paper", "lamp"]
    assert recs["reason"].tolist() == ["bought by 1 of 1 similar customers"] * 2
    assert recs["score"].tolist() == [1.0, 1.0]


def test_popularity_scores_are_shares(tx: pd.DataFrame) -> None:
    recs = PopularityRecommender().fit(tx).recommend(["c"], k=10)
    shares = product_matrix(tx, values="binary").mean()
    expected = shares.drop(["desk", "chair"]).sort_values(ascending=False, kind="stable")
    assert recs["product"].tolist() == expected.index.tolist()
    np.testing.assert_allclose(recs["score"], expected.to_numpy())


@pytest.mark.parametrize("cls", RECOMMENDERS)
def test_save_load_keeps_no_customer_data(cls: type, tx: pd.DataFrame, tmp_path: object) -> None:
    model = cls().fit(tx)
    text = json.dumps(model.to_dict())
    assert '"a"' not in text and "purchases_" not in text
    restored = cls.from_dict(model.to_dict())
    with pytest.raises(NotFittedError, match="holds no customer data"):
        restored.recommend()
    if cls is not CustomerKNNRecommender:  # kNN needs its pool: after loading, data is the pool
        pd.testing.assert_frame_equal(restored.recommend(data=tx), model.recommend())
    path = tmp_path / "model.json"  # type: ignore[operator]
    model.save(path)
    again = load(path)
    assert type(again) is cls
    assert again.recommend(data=tx, k=2).shape[1] == 5


def test_recommend_errors(tx: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        PopularityRecommender().recommend()
    model = ItemCoPurchaseRecommender().fit(tx)
    with pytest.raises(SchemaError, match="without purchases") as err:
        model.recommend(["a", "zz"])
    assert err.value.failures[0].values == ("zz",)
    with pytest.raises(InvalidParameterError, match="'k'"):
        model.recommend(k=0)
    pd.testing.assert_frame_equal(model.recommend("e"), model.recommend(["e"]))
    with pytest.raises(InvalidParameterError, match="similarity"):
        ItemCoPurchaseRecommender(similarity="pearson").fit(tx)
    with pytest.raises(InvalidParameterError, match="n_neighbors"):
        CustomerKNNRecommender(n_neighbors=0).fit(tx)


def test_new_purchases_and_hit_rate() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "product": ["a", "b", "a", "c", "a", "a", "d"],
            "amount": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-02",
                    "2024-03-01",
                    "2024-03-02",
                    "2024-01-05",
                    "2024-04-01",
                    "2024-03-03",
                ]
            ),
        }
    )
    actual = new_purchases(tx, as_of="2024-02-01")
    # customer 1's c is new; 2 only re-bought a; 3 is a new customer, not a cross-sell
    assert actual[["customer_id", "product"]].values.tolist() == [[1, "c"]]
    assert new_purchases(tx, as_of="2024-02-01", end="2024-03-01").empty
    recs = pd.DataFrame({"customer_id": [1, 1], "product": ["d", "c"], "rank": [1, 2]})
    assert hit_rate(recs, actual, k=2) == 1.0
    assert hit_rate(recs, actual, k=1) == 0.0
    with pytest.raises(SchemaError, match="is empty"):
        hit_rate(recs, actual.iloc[:0])
    with pytest.raises(SchemaError, match="rank"):
        hit_rate(recs.drop(columns="rank"), actual)


def test_recommenders_beat_popularity_on_synthetic_crm(crm: SyntheticCRM) -> None:
    """Acceptance: hit rate @5 on the purchases after as_of of products not bought before."""
    actual = new_purchases(crm.frames["transactions"], crm.as_of, crm.holdout_end)
    targets = pd.unique(actual["customer_id"])
    assert len(targets) > 100
    rates = {}
    for cls in RECOMMENDERS:
        recs = cls().fit(crm.data).recommend(targets, k=5)
        rates[cls.__name__] = hit_rate(recs, actual, k=5)
    print("hit rate @5:", {k: round(v, 3) for k, v in rates.items()})
    baseline = rates["PopularityRecommender"]
    assert max(rates["ItemCoPurchaseRecommender"], rates["CustomerKNNRecommender"]) > baseline
    # both do clearly better on this data (products cluster by product group)
    assert rates["ItemCoPurchaseRecommender"] > baseline + 0.1
    assert rates["CustomerKNNRecommender"] > baseline + 0.1
