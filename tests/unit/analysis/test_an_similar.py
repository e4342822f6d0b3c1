"""predict_from_similar: nearest known customers by firmographics and early behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.analysis import predict_from_similar
from crmkit.exceptions import InvalidParameterError, SchemaError


def _known() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "industry": ["ict", "ict", "ict", "retail", "retail", "retail"],
            "size_class": pd.Categorical(
                ["small", "large", "large", "small", "small", "large"],
                categories=["small", "large"],
                ordered=True,
            ),
            "first_order": [100.0, 900.0, 1100.0, 50.0, 70.0, 600.0],
            "revenue": [1000.0, 9000.0, 11000.0, 500.0, 700.0, 6000.0],
        },
        index=pd.Index([f"k{i}" for i in range(6)], name="customer_id"),
    )


def test_neighbours_share_the_profile() -> None:
    known = _known()
    new = known.iloc[[1, 3]].drop(columns="revenue").rename(index={"k1": "n1", "k3": "n2"})
    before = known.copy()
    out = predict_from_similar(new, known, features=["industry", "size_class"], k=2)
    pd.testing.assert_frame_equal(known, before)
    assert out.index.tolist() == ["n1", "n2"]
    assert out.loc["n1", "neighbors"] == ("k1", "k2")
    assert out.loc["n1", "predicted_revenue"] == pytest.approx(10000.0)
    assert out.loc["n2", "neighbors"] == ("k3", "k4")
    assert out.loc["n2", "mean_distance"] == pytest.approx(0.0)
    assert out.loc["n2", "neighbor_std"] == pytest.approx(100.0)
    # default features: those of industry/size_class/region that both frames have
    default = predict_from_similar(new, known, k=2)
    pd.testing.assert_frame_equal(default, out)


def test_ties_with_the_kth_are_all_used_and_self_is_excluded() -> None:
    known = _known()
    out = predict_from_similar(known.iloc[[3]], known, features=["industry"], k=1)
    # k3 is not its own neighbour; k4 and k5 tie at distance 0
    assert out["neighbors"].iloc[0] == ("k4", "k5")
    assert out["n_neighbors"].iloc[0] == 2
    assert out["predicted_revenue"].iloc[0] == pytest.approx(3350.0)
    shuffled = known.iloc[::-1]
    again = predict_from_similar(known.iloc[[3]], shuffled, features=["industry"], k=1)
    assert again["predicted_revenue"].iloc[0] == pytest.approx(3350.0)


def test_numeric_behaviour_and_distance_weights() -> None:
    known = _known()
    new = pd.DataFrame(
        {"industry": ["ict"], "first_order": [1000.0]}, index=pd.Index(["n"], name="customer_id")
    )
    out = predict_from_similar(new, known, features=["industry", "first_order"], k=2)
    assert set(out["neighbors"].iloc[0]) == {"k1", "k2"}
    weighted = predict_from_similar(
        new, known, features=["industry", "first_order"], k=3, weights="distance"
    )
    plain = predict_from_similar(new, known, features=["industry", "first_order"], k=3)
    # the far neighbour (k0, small first order) weighs less under distance weights
    assert weighted["predicted_revenue"].iloc[0] > plain["predicted_revenue"].iloc[0]


def test_errors() -> None:
    known = _known()
    new = known.drop(columns="revenue")
    with pytest.raises(SchemaError, match=r"view\['revenue'\]: is missing"):
        predict_from_similar(new, new)
    holes = new.copy()
    holes["first_order"] = [1.0, np.nan, 3.0, 4.0, 5.0, 6.0]
    with pytest.raises(SchemaError, match="missing or infinite") as err:
        predict_from_similar(holes, known, features=["first_order"])
    assert err.value.failures[0].rows == ("k1",)
    with pytest.raises(SchemaError, match=r"new\['region'\]: is missing"):
        predict_from_similar(new, known.assign(region="x"), features=["region"])
    with pytest.raises(SchemaError, match="default features"):
        predict_from_similar(new[["first_order"]], known)
    with pytest.raises(InvalidParameterError, match="'weights'"):
        predict_from_similar(new, known, weights="gauss")
    with pytest.raises(InvalidParameterError, match="'k'"):
        predict_from_similar(new, known, k=0)


def test_beats_the_overall_mean_on_synthetic_crm(crm_view: pd.DataFrame) -> None:
    view = crm_view.assign(spend_rate=crm_view["revenue"] / np.maximum(crm_view["T"], 1.0))
    rng = np.random.default_rng(0)
    is_new = rng.random(len(view)) < 0.2
    new = view.loc[is_new, ["industry", "size_class", "region"]]
    known = view.loc[~is_new]
    out = predict_from_similar(new, known, target="spend_rate", k=25)
    truth = view.loc[is_new, "spend_rate"]
    mae = float((out["predicted_spend_rate"] - truth).abs().mean())
    mae_mean = float((known["spend_rate"].mean() - truth).abs().mean())
    assert mae < 0.85 * mae_mean
    assert out["predicted_spend_rate"].corr(truth, method="spearman") > 0.4
    assert (out["n_neighbors"] >= 25).all()


def _brute_force(new: pd.DataFrame, known: pd.DataFrame, features: list[str], k: int) -> list:
    """Every distance, exactly: the k nearest other known customers and all ties."""
    from crmkit.analysis._similar import encode_features

    kx, nx, _ = encode_features(known, new, features, "test")
    out = []
    for i, cid in enumerate(new.index):
        d = np.sqrt(((kx - nx[i]) ** 2).sum(axis=1))
        d[known.index == cid] = np.inf
        kth = np.sort(d)[min(k, int(np.isfinite(d).sum())) - 1]
        chosen = np.flatnonzero(d <= kth + 1e-9)
        chosen = chosen[np.lexsort((chosen, d[chosen]))]
        out.append(tuple(known.index[chosen]))
    return out


@pytest.mark.parametrize("k", [1, 4, 25])
def test_tree_search_equals_brute_force_with_ties(k: int) -> None:
    rng = np.random.default_rng(k)
    n = 400
    known = pd.DataFrame(
        {
            "industry": rng.choice(["ict", "retail", "health"], n),
            "size_class": pd.Categorical(
                rng.choice(["s", "m", "l"], n), ["s", "m", "l"], ordered=True
            ),
            "first_order": rng.integers(1, 4, n).astype(float),  # many exact ties
            "revenue": rng.gamma(2.0, 100.0, n),
        },
        index=pd.Index([f"k{i}" for i in range(n)], name="customer_id"),
    )
    new = pd.concat([known.iloc[:40], known.sample(60, random_state=1).rename(index="n{}".format)])
    new = new.drop(columns="revenue")
    features = ["industry", "size_class", "first_order"]
    out = predict_from_similar(new, known, features=features, k=k)
    assert out["neighbors"].tolist() == _brute_force(new, known, features, k)
    means = [known.loc[list(ids), "revenue"].mean() for ids in out["neighbors"]]
    np.testing.assert_allclose(out["predicted_revenue"], means, rtol=1e-12)
    # the order of the known customers changes nothing but the order of tied ids
    again = predict_from_similar(new, known.iloc[::-1], features=features, k=k)
    np.testing.assert_allclose(again["predicted_revenue"], out["predicted_revenue"], rtol=1e-12)
    assert [set(t) for t in again["neighbors"]] == [set(t) for t in out["neighbors"]]
