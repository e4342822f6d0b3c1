"""AliveChurn: P(no purchase within the horizon), signals, the fallback, persistence."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.churn import (
    DEFAULT_WEIGHTS,
    FALLBACK_PNBD_PARAMS,
    HISTORY_SIGNALS,
    RULES,
    AliveChurn,
)
from crmkit.exceptions import (
    DataWarning,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from crmkit.value import BetaGeo, ModifiedBetaGeo, ParetoNBD


def _cdnow_like(n: int = 2000, seed: int = 1) -> pd.DataFrame:
    model = ParetoNBD.from_params(**FALLBACK_PNBD_PARAMS)
    view = model.sample(n, 39.0, seed=seed)
    view.index = pd.Index([f"c{i:05d}" for i in range(n)], name="customer_id")
    return view


@pytest.mark.parametrize(
    "model",
    [
        BetaGeo.from_params(r=0.3, alpha=5.0, a=0.8, b=2.5),
        ModifiedBetaGeo.from_params(r=0.3, alpha=5.0, a=0.8, b=2.5),
        ParetoNBD.from_params(r=0.55, alpha=10.0, s=0.6, beta=12.0),
    ],
)
@pytest.mark.parametrize("horizon", [13.0, 52.0])
def test_risk_is_the_models_probability_of_no_purchase(model: object, horizon: float) -> None:
    view = _cdnow_like(300)
    out = AliveChurn(model=model, horizon=horizon).fit(view).score(view)
    expected = model.p_no_purchase(view, horizon)  # type: ignore[attr-defined]
    np.testing.assert_allclose(out["churn_risk"], expected, rtol=0, atol=0)
    np.testing.assert_array_equal(out["signal_dropout"], out["churn_risk"])
    assert out["reasons"].str.match(r"^dropout \(\d\.\d\d\): P\(no purchase in ").all()


def test_one_time_buyers_are_not_the_safest_under_bgnbd() -> None:
    # BG/NBD's 1 - P(alive) is 0 for every customer without a repeat purchase
    bg = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    view = pd.DataFrame(
        {"frequency": [0, 5, 5], "recency": [0.0, 37.0, 5.0], "T": [38.0, 38.0, 38.0]},
        index=pd.Index(["once", "active", "lapsed"], name="customer_id"),
    )
    risk = AliveChurn(model=bg).fit(view).score(view)["churn_risk"]
    assert risk["active"] < risk["once"]
    assert risk["active"] < risk["lapsed"]
    assert bg.p_alive(view)["once"] == 1.0


def test_reasons_carry_the_customers_own_numbers() -> None:
    pnbd = ParetoNBD.from_params(**FALLBACK_PNBD_PARAMS)
    view = pd.DataFrame(
        {"frequency": [3, 0, 3], "recency": [30.0, 0.0, 9.0], "T": [61.0, 20.0, 61.0]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    out = AliveChurn(model=pnbd, horizon=26.0, time_unit="D").fit(view).score(view)
    p0 = pnbd.p_no_purchase(view, 26.0)
    a = out.loc["a", "reasons"]
    assert f"P(no purchase in 26 days) {p0['a']:.2f}" in a
    assert "no purchase for 31 days, 3.1x the usual gap of 10 days (4 purchases)" in a
    assert out.loc["b", "reasons"].endswith("after a single purchase 20 days ago")
    assert out["reasons"].nunique() == 3  # different histories, different reasons


def test_without_a_model_a_paretonbd_is_fitted_on_the_view() -> None:
    view = _cdnow_like()
    detector = AliveChurn(penalizer=0.0, horizon=30.0).fit(view)
    direct = ParetoNBD().fit(view)
    assert not detector.fallback_
    assert isinstance(detector.model_, ParetoNBD)
    np.testing.assert_allclose(
        detector.score(view)["churn_risk"], direct.p_no_purchase(view, 30.0), rtol=1e-7, atol=1e-9
    )


def test_a_view_that_cannot_identify_the_model_uses_the_fallback() -> None:
    view = pd.DataFrame({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [10.0, 20.0]},
                        index=pd.Index(["a", "b"], name="customer_id"))  # fmt: skip
    with pytest.warns(DataWarning, match="fallback"):
        detector = AliveChurn().fit(view)
    assert detector.fallback_
    assert detector.model_.params_.r == FALLBACK_PNBD_PARAMS["r"]
    risk = detector.score(view)["churn_risk"]
    assert risk["a"] < risk["b"]  # longer silence, higher risk


def _with_signals(n: int, seed: int) -> pd.DataFrame:
    view = _cdnow_like(n, seed)
    rng = np.random.default_rng(seed)
    view["last_nps"] = np.where(rng.random(n) < 0.5, rng.integers(0, 11, n), np.nan)
    gap = view["recency"] / view["frequency"].where(view["frequency"] > 0)
    view["mean_interpurchase"] = gap
    return view


def test_signals_add_to_the_model_probability_as_a_noisy_or() -> None:
    pnbd = ParetoNBD.from_params(**FALLBACK_PNBD_PARAMS)
    view = _with_signals(400, 3)
    names = ("nps_detractor", "overdue")
    detector = AliveChurn(model=pnbd, signals=names).fit(view)
    assert detector.weights_ == {"nps_detractor": DEFAULT_WEIGHTS["nps_detractor"], "overdue": 0.0}
    assert "overdue" in HISTORY_SIGNALS
    out = detector.score(view)
    p0 = pnbd.p_no_purchase(view, 52.0).to_numpy()
    nps = RULES["nps_detractor"].strength({"last_nps": view["last_nps"].to_numpy(float)})
    expected = 1.0 - (1.0 - p0) * (1.0 - DEFAULT_WEIGHTS["nps_detractor"] * nps)
    np.testing.assert_allclose(out["churn_risk"], expected, rtol=1e-12, atol=1e-14)
    parts = out[["signal_dropout", "signal_nps_detractor", "signal_overdue"]].sum(axis=1)
    np.testing.assert_allclose(parts, out["churn_risk"], rtol=1e-9, atol=1e-12)
    assert (out["churn_risk"] >= p0 - 1e-15).all() and (out["churn_risk"] <= 1).all()
    fired = out["signal_nps_detractor"] > detector.min_contribution
    assert fired.any()
    assert out.loc[fired, "reasons"].str.contains(r"; nps_detractor \(\d\.\d\d\)$").all()
    assert not out["reasons"].str.contains("overdue").any()


def test_labels_learn_the_weights_on_top_of_the_model() -> None:
    pnbd = ParetoNBD.from_params(**FALLBACK_PNBD_PARAMS)
    view = _with_signals(6000, 4)
    p0 = pnbd.p_no_purchase(view, 52.0).to_numpy()
    nps = RULES["nps_detractor"].strength({"last_nps": view["last_nps"].to_numpy(float)})
    rng = np.random.default_rng(9)
    churned = rng.random(len(view)) < 1.0 - (1.0 - p0) * (1.0 - 0.5 * nps)  # overdue adds nothing
    y = pd.Series(churned, index=view.index)
    detector = AliveChurn(model=pnbd, signals=("nps_detractor", "overdue")).fit(view, y)
    assert detector.learned_
    assert abs(detector.weights_["nps_detractor"] - 0.5) < 0.08
    assert detector.weights_["overdue"] < 0.15 < DEFAULT_WEIGHTS["overdue"]  # shrunk to 0
    risk = detector.score(view)["churn_risk"].to_numpy()
    rate = churned.mean()
    assert abs(risk.mean() - rate) < 3 * np.sqrt(rate * (1 - rate) / len(view))  # calibrated
    for group in (nps > 0, nps == 0):  # also where the signal fires and where it does not
        rate = churned[group].mean()
        assert abs(risk[group].mean() - rate) < 3.5 * np.sqrt(rate * (1 - rate) / group.sum())
    shuffled = view.sample(frac=1.0, random_state=0)
    again = AliveChurn(model=pnbd, signals=("nps_detractor", "overdue")).fit(
        shuffled, y.loc[shuffled.index]
    )
    for name, w in detector.weights_.items():
        assert again.weights_[name] == pytest.approx(w, rel=1e-6, abs=1e-9)


def test_the_nested_model_is_saved_without_customer_data() -> None:
    view = _with_signals(500, 5)
    detector = AliveChurn(signals=("nps_detractor",), horizon=26.0).fit(view)
    text = json.dumps(detector.to_dict())
    assert "c00001" not in text and "ParetoNBD" in text
    restored = AliveChurn.from_dict(json.loads(text))
    pd.testing.assert_frame_equal(restored.score(view), detector.score(view))
    given = AliveChurn(model=BetaGeo().fit(view)).fit(view)
    again = AliveChurn.from_dict(json.loads(json.dumps(given.to_dict())))
    pd.testing.assert_frame_equal(again.score(view), given.score(view))


def test_single_customer_scores_like_the_bulk_row() -> None:
    view = _with_signals(300, 6)
    detector = AliveChurn(signals=("nps_detractor", "overdue")).fit(view)
    bulk = detector.score(view)
    for label in view.index[:20]:
        one = detector.score(view.loc[[label]])
        pd.testing.assert_frame_equal(one, bulk.loc[[label]])


def test_errors() -> None:
    view = _cdnow_like(50)
    with pytest.raises(NotFittedError):
        AliveChurn(model=ParetoNBD()).fit(view)  # an unfitted model
    with pytest.raises(InvalidParameterError, match="p_no_purchase"):
        AliveChurn(model="bg").fit(view)
    with pytest.raises(InvalidParameterError, match="horizon"):
        AliveChurn(horizon=0.0).fit(view)
    with pytest.raises(InvalidParameterError, match="signals"):
        AliveChurn(signals=("no_such_rule",)).fit(view)
    with pytest.raises(InvalidParameterError, match="time_unit"):
        AliveChurn(time_unit="weeks").fit(view)
    with pytest.raises(SchemaError, match="recency"):
        AliveChurn().fit(view.drop(columns=["recency"]))
    with pytest.raises(SchemaError, match="last_nps"):
        AliveChurn(signals=("nps_detractor",)).fit(view)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        fitted = AliveChurn().fit(view)
    with pytest.raises(SchemaError, match="T"):
        fitted.score(view.drop(columns=["T"]))
    with pytest.raises(NotFittedError):
        AliveChurn().score(view)


def test_the_caller_view_is_not_mutated() -> None:
    view = _with_signals(200, 7)
    before = view.copy()
    AliveChurn(signals=("nps_detractor",)).fit(view).score(view)
    pd.testing.assert_frame_equal(view, before)


def test_a_saved_state_without_a_purchase_model_is_a_model_file_error() -> None:
    saved = AliveChurn().fit(_cdnow_like(300)).to_dict()
    saved["state"]["__dict__"]["model"] = 7
    with pytest.raises(ModelFileError) as info:
        AliveChurn.from_dict(saved)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "AliveChurn" in message and "'model'" in message and "p_no_purchase" in message
    assert message.endswith("got int")
