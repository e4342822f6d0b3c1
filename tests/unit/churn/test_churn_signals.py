"""SignalRules: each rule, the noisy-OR against a direct computation, reasons, learning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crmkit.churn import DEFAULT_WEIGHTS, RULES, SignalRules
from crmkit.exceptions import InvalidParameterError, ModelFileError, NotFittedError, SchemaError

NAN = float("nan")


def _ids(n: int) -> pd.Index:
    return pd.Index([f"c{i:03d}" for i in range(n)], name="customer_id")


def _view(**columns: list[float]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame({k: np.asarray(v, dtype=float) for k, v in columns.items()}, index=_ids(n))


@pytest.mark.parametrize(
    ("name", "column", "values", "expected"),
    [
        ("nps_detractor", "last_nps", [10, 7, 6, 3, 0, NAN], [0, 0, 0.5, 0.75, 1, 0]),
        ("low_csat", "mean_csat", [5, 3.5, 3, 2, 1, NAN], [0, 0, 0.5, 0.75, 1, 0]),
        ("recent_complaint", "days_since_complaint", [0, 60, 120, 121, NAN, 500],
         [1, 0.75, 0.5, 0, 0, 0]),
        ("open_complaint", "n_complaints_open", [0, 1, 3, NAN, 0, 2], [0, 1, 1, 0, 0, 1]),
        ("falling_purchases", "purchase_trend", [1, 0, -0.4, -0.5, -0.75, -1],
         [0, 0, 0, 0.5, 0.75, 1]),
        ("address_change", "days_since_address_change", [0, 90, 180, 200, NAN, 10],
         [1, 0.75, 0.5, 0, 0, 1 - 0.5 * 10 / 180]),
    ],
)  # fmt: skip
def test_single_column_rules_fire_as_documented(
    name: str, column: str, values: list[float], expected: list[float]
) -> None:
    view = _view(**{column: values})
    strengths = SignalRules(signals=(name,)).fit(view).strengths(view)
    np.testing.assert_allclose(strengths[name].to_numpy(), expected, atol=1e-12)


def test_overdue_compares_the_silence_with_the_customers_own_rhythm() -> None:
    # gap = T - recency; rhythm = mean_interpurchase; fires at 3 gaps, full at 6
    view = _view(T=[40, 40, 40, 40, 40], recency=[38, 31, 28, 22, 10],
                 mean_interpurchase=[2, 3, 3, 3, NAN])  # fmt: skip
    s = SignalRules(signals=("overdue",)).fit(view).strengths(view)["overdue"].to_numpy()
    # ratios: 1, 3, 4, 6, (no repeat purchase -> does not fire)
    np.testing.assert_allclose(s, [0.0, 0.5, 0.5 + 0.5 / 3, 1.0, 0.0])


def test_key_contact_left_needs_a_decision_maker_and_a_recent_leaver() -> None:
    view = _view(n_decision_makers_left=[1, 0, 2, 1], days_since_contact_left=[0, 10, 360, NAN])
    s = SignalRules(signals=("key_contact_left",)).fit(view).strengths(view)
    np.testing.assert_allclose(s["key_contact_left"].to_numpy(), [1.0, 0.0, 0.0, 0.0])


def test_thresholds_are_parameters() -> None:
    view = _view(last_nps=[7.0, 8.0])
    rules = SignalRules(signals=("nps_detractor",), thresholds={"nps_detractor": 7}).fit(view)
    np.testing.assert_allclose(rules.strengths(view)["nps_detractor"], [0.5, 0.0])


def test_risk_and_shares_match_a_direct_noisy_or() -> None:
    rng = np.random.default_rng(3)
    n = 200
    view = _view(
        T=rng.uniform(20, 100, n).tolist(), recency=rng.uniform(0, 20, n).tolist(),
        mean_interpurchase=rng.uniform(0.5, 6, n).tolist(),
        last_nps=np.where(rng.random(n) < 0.2, NAN, rng.integers(0, 11, n)).tolist(),
        mean_csat=rng.uniform(1, 5, n).tolist(),
        days_since_complaint=np.where(rng.random(n) < 0.5, NAN, rng.uniform(0, 400, n)).tolist(),
        n_complaints_open=rng.integers(0, 3, n).tolist(),
        purchase_trend=rng.uniform(-1, 1, n).tolist(),
        days_since_address_change=rng.uniform(0, 900, n).tolist(),
        n_decision_makers_left=rng.integers(0, 2, n).tolist(),
        days_since_contact_left=rng.uniform(0, 400, n).tolist(),
    )  # fmt: skip
    rules = SignalRules(base_rate=0.03).fit(view)
    out = rules.score(view)
    s = rules.strengths(view)
    w = pd.Series(DEFAULT_WEIGHTS)[s.columns]
    # direct: risk = 1 - (1 - base) * prod(1 - w s)
    direct = 1.0 - 0.97 * np.prod(1.0 - s.to_numpy() * w.to_numpy(), axis=1)
    np.testing.assert_allclose(out["churn_risk"].to_numpy(), direct, rtol=1e-12)
    # shares are proportional to the hazards -log(1 - w s) and add up with the base's share
    hazards = -np.log1p(-(s.to_numpy() * w.to_numpy()))
    total = hazards.sum(axis=1) - np.log(0.97)
    expected = direct[:, None] * hazards / total[:, None]
    got = out[[f"signal_{c}" for c in s.columns]].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)
    base_share = direct * (-np.log(0.97)) / total
    np.testing.assert_allclose(got.sum(axis=1) + base_share, direct, rtol=1e-10)


def test_reasons_list_the_fired_signals_largest_first() -> None:
    view = _view(last_nps=[2.0, 9.0], days_since_address_change=[0.0, NAN])
    out = SignalRules(signals=("nps_detractor", "address_change"), base_rate=0.0).fit(view)
    scored = out.score(view)
    first = scored.loc["c000"]
    assert first["reasons"].startswith("address_change (")
    assert "; nps_detractor (" in first["reasons"]
    shown = float(first["reasons"].split("address_change (")[1].split(")")[0])
    assert shown == pytest.approx(first["signal_address_change"], abs=0.005)
    assert scored.loc["c001", "reasons"] == ""
    assert scored.loc["c001", "churn_risk"] == 0.0


def test_requires_and_provides_follow_the_chosen_signals() -> None:
    rules = SignalRules(signals=("address_change", "overdue"))
    assert rules.requires == ("days_since_address_change", "T", "recency", "mean_interpurchase")
    assert rules.provides == ("churn_risk", "reasons", "signal_address_change", "signal_overdue")
    every = SignalRules()
    assert every.provides[2:] == tuple(f"signal_{n}" for n in RULES)


def test_missing_column_is_named_and_unfitted_use_raises() -> None:
    view = _view(last_nps=[3.0])
    with pytest.raises(NotFittedError):
        SignalRules(signals=("nps_detractor",)).score(view)
    with pytest.raises(SchemaError, match="mean_csat"):
        SignalRules(signals=("nps_detractor", "low_csat")).fit(view)
    bad = view.assign(last_nps=["x"])
    with pytest.raises(SchemaError, match="not numeric"):
        SignalRules(signals=("nps_detractor",)).fit(bad)


@pytest.mark.parametrize(
    "params",
    [
        {"signals": ("nps_detractor", "nope")},
        {"signals": ()},
        {"weights": {"nps_detractor": 1.0}},
        {"weights": {"unknown": 0.1}},
        {"thresholds": {"overdue": float("nan")}},
        {"base_rate": -0.1},
        {"prior_strength": 0.0},
    ],
)
def test_bad_parameters_raise_at_fit(params: dict[str, object]) -> None:
    view = _view(last_nps=[3.0])
    with pytest.raises(InvalidParameterError):
        SignalRules(**params).fit(view)  # type: ignore[arg-type]


def test_labels_must_cover_the_view() -> None:
    view = _view(last_nps=[3.0, 5.0])
    with pytest.raises(SchemaError, match="lacks customers"):
        SignalRules(signals=("nps_detractor",)).fit(view, pd.Series([True], index=view.index[:1]))
    with pytest.raises(SchemaError, match="True/False"):
        SignalRules(signals=("nps_detractor",)).fit(view, pd.Series([2, 0], index=view.index))


def test_learned_weights_recover_planted_ones() -> None:
    rng = np.random.default_rng(11)
    n = 20_000
    nps = np.where(rng.random(n) < 0.3, 0.0, 9.0)  # strength 1 or 0
    moved = np.where(rng.random(n) < 0.2, 0.0, NAN)  # strength 1 or 0
    view = _view(last_nps=nps.tolist(), days_since_address_change=moved.tolist())
    p = 1 - (1 - 0.05) * (1 - 0.1 * (nps == 0)) * (1 - 0.6 * (moved == 0))
    y = pd.Series(rng.random(n) < p, index=view.index)
    rules = SignalRules(signals=("nps_detractor", "address_change")).fit(view, y)
    assert rules.learned_
    assert rules.weights_["nps_detractor"] == pytest.approx(0.1, abs=0.03)
    assert rules.weights_["address_change"] == pytest.approx(0.6, abs=0.03)
    assert rules.base_rate_ == pytest.approx(0.05, abs=0.01)
    fixed = SignalRules(signals=("nps_detractor",), learn_weights=False).fit(view, y)
    assert not fixed.learned_
    assert fixed.weights_ == {"nps_detractor": DEFAULT_WEIGHTS["nps_detractor"]}


def test_a_saved_model_holds_weights_not_customers() -> None:
    view = _view(last_nps=[2.0, 8.0, 5.0])
    labels = pd.Series([1, 0, 1], index=view.index)
    rules = SignalRules(signals=("nps_detractor",)).fit(view, labels)
    text = json.dumps(rules.to_dict())
    assert "c000" not in text
    restored = SignalRules.from_dict(json.loads(text))
    pd.testing.assert_frame_equal(restored.score(view), rules.score(view))


def test_a_saved_state_with_unknown_rules_is_a_model_file_error() -> None:
    view = _view(last_nps=[2.0, 8.0, 5.0])
    saved = SignalRules(signals=("nps_detractor",)).fit(view).to_dict()
    saved["state"]["__dict__"]["signals"] = {"__tuple__": ["nps_detractor", "moon_phase"]}
    with pytest.raises(ModelFileError) as info:
        SignalRules.from_dict(saved)
    message = str(info.value)
    assert "SignalRules" in message and "'signals'" in message and "['moon_phase']" in message
