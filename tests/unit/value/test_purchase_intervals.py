"""Per-customer intervals for P(alive) and expected purchases (issue #19)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import InvalidParameterError, NotFittedError
from crmkit.value import BetaGeo, ParetoNBD, purchase_intervals

PROFILES = pd.DataFrame(
    {
        "frequency": [0, 1, 2, 4, 8, 1, 3, 6],
        "recency": [0.0, 5.0, 30.0, 35.0, 38.0, 30.0, 10.0, 20.0],
        "T": 39.0,
    }
)


@pytest.mark.parametrize(
    ("cls", "truth"),
    [
        (ParetoNBD, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
        (BetaGeo, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    ],
)
def test_90_percent_intervals_cover_the_true_values_85_to_95_percent(
    cls: type, truth: dict[str, float]
) -> None:
    true_model = cls.from_params(**truth)
    true_p = true_model.p_alive(PROFILES).to_numpy()
    true_e = true_model.conditional_expected_purchases(PROFILES, 52.0).to_numpy()
    hits_p, hits_e = [], []
    for rep in range(60):
        view = true_model.sample(3000, 39.0, seed=300 + rep)
        out = purchase_intervals(cls().fit(view), PROFILES, t=52.0, level=0.9)
        if cls is BetaGeo:  # p_alive = 1 without repeat purchases: no uncertainty
            assert out.loc[0, "p_alive_low"] == out.loc[0, "p_alive_high"] == 1.0
        hits_p.append((out["p_alive_low"] <= true_p) & (true_p <= out["p_alive_high"]))
        hits_e.append(
            (out["expected_purchases_low"] <= true_e) & (true_e <= out["expected_purchases_high"])
        )
    cover_p = np.mean(np.asarray(hits_p)[:, 1:] if cls is BetaGeo else hits_p)
    cover_e = float(np.mean(hits_e))
    assert 0.85 <= cover_p <= 0.95, cover_p
    assert 0.85 <= cover_e <= 0.95, cover_e


def test_intervals_shape_bounds_and_level() -> None:
    truth = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    view = truth.sample(2000, 39.0, seed=5)
    view.index = pd.Index([f"c{i}" for i in range(len(view))], name="customer_id")
    model = ParetoNBD().fit(view)
    narrow = purchase_intervals(model, view, t=26.0, level=0.5)
    wide = purchase_intervals(model, view, t=26.0, level=0.99)
    assert narrow.index.equals(view.index)
    pd.testing.assert_series_equal(narrow["p_alive"], model.p_alive(view), check_names=False)
    pd.testing.assert_series_equal(
        narrow["expected_purchases"],
        model.conditional_expected_purchases(view, 26.0),
        check_names=False,
    )
    assert ((wide["p_alive_low"] >= 0) & (wide["p_alive_high"] <= 1)).all()
    assert (wide["expected_purchases_low"] > 0).all()
    assert (wide["p_alive_low"] <= narrow["p_alive_low"]).all()
    assert (wide["expected_purchases_high"] >= narrow["expected_purchases_high"]).all()
    assert list(purchase_intervals(model, view).columns) == [
        "p_alive",
        "p_alive_low",
        "p_alive_high",
    ]
    before = view.copy()
    purchase_intervals(model, view, t=1.0)
    pd.testing.assert_frame_equal(view, before)  # caller's data untouched


def test_intervals_with_covariates_and_row_order() -> None:
    rng = np.random.default_rng(3)
    truth = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    view = truth.sample(3000, 39.0, seed=9).assign(web=rng.integers(0, 2, 3000))
    model = ParetoNBD(purchase_covariates=["web"], dropout_covariates=["web"]).fit(view)
    out = purchase_intervals(model, view, t=52.0)
    shuffled = purchase_intervals(model, view.iloc[::-1], t=52.0)
    pd.testing.assert_frame_equal(out, shuffled.loc[out.index])
    assert (out["expected_purchases_high"] > out["expected_purchases_low"]).all()


def test_bad_input_raises_crmkit_errors() -> None:
    fixed = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    with pytest.raises(InvalidParameterError, match="covariance_"):
        purchase_intervals(fixed, PROFILES)
    with pytest.raises(NotFittedError):
        purchase_intervals(ParetoNBD(), PROFILES)
    model = ParetoNBD().fit(fixed.sample(500, 39.0, seed=1))
    with pytest.raises(InvalidParameterError, match="'level'"):
        purchase_intervals(model, PROFILES, level=1.0)
    with pytest.raises(InvalidParameterError, match="'t'"):
        purchase_intervals(model, PROFILES, t=0.0)
    with pytest.raises(InvalidParameterError, match="'model'"):
        purchase_intervals(object(), PROFILES)
