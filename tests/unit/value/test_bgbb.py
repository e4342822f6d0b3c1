"""Tests of BetaGeoBetaBinom (BG/BB)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

from crmkit.exceptions import ModelFileError, NotFittedError, SchemaError
from crmkit.value._bgbb import BetaGeoBetaBinom, _bgbb_loglik, _BGBBObjective, _survival_sum
from crmkit.value._bgnbd import BetaGeo

# The copy bundled with crmkit (identical to ../shared/data/donations.csv).
DONATIONS = Path(__file__).resolve().parents[3] / "src/crmkit/datasets/data/donations.csv"
PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
COLS = ["frequency", "recency", "periods"]


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return pd.read_csv(DONATIONS)


@pytest.fixture(scope="module")
def fitted(donations: pd.DataFrame) -> BetaGeoBetaBinom:
    return BetaGeoBetaBinom().fit(donations[COLS], weights=donations["weights"])


def test_donations_published_estimates(fitted: BetaGeoBetaBinom, donations: pd.DataFrame) -> None:
    # the published values have 3 decimals; we match them to 3 decimals
    assert {k: round(getattr(fitted.params_, k), 3) for k in PUBLISHED} == PUBLISHED
    assert fitted.n_customers_ == donations["weights"].sum() == 11104
    assert fitted.log_likelihood_ == pytest.approx(-33225.6, abs=0.1)


def test_likelihood_matches_a_brute_force_sum() -> None:
    p = np.array([1.1, 0.8, 0.7, 2.5])
    x, tx, n = 2, 4, 6
    B = special.beta
    like = B(p[0] + x, p[1] + n - x) / B(p[0], p[1]) * B(p[2], p[3] + n) / B(p[2], p[3])
    for i in range(n - tx):
        like += (
            B(p[0] + x, p[1] + tx - x + i)
            / B(p[0], p[1])
            * B(p[2] + 1, p[3] + tx + i)
            / B(p[2], p[3])
        )
    got = _bgbb_loglik(p, np.array([x], float), np.array([tx], float), np.array([n], float))
    assert got[0] == pytest.approx(np.log(like), rel=1e-12)


def test_gradient_matches_finite_differences(donations: pd.DataFrame) -> None:
    obj = _BGBBObjective(
        *(donations[c].to_numpy(float) for c in COLS), donations["weights"].to_numpy(float)
    )
    for th in (np.log([1.1, 0.8, 0.7, 2.5]), np.log([0.3, 4.0, 2.0, 0.5])):
        _, g = obj(th)
        np.testing.assert_allclose(
            g, optimize.approx_fprime(th, lambda t: obj(t)[0], 1e-7), rtol=1e-5
        )


def test_weighted_rows_equal_full_fit(donations: pd.DataFrame, fitted: BetaGeoBetaBinom) -> None:
    full = donations.loc[donations.index.repeat(donations["weights"]), COLS].reset_index(drop=True)
    m = BetaGeoBetaBinom().fit(full)
    for k in PUBLISHED:
        assert getattr(m.params_, k) == pytest.approx(getattr(fitted.params_, k), rel=1e-6)


def test_parameter_recovery_100k_customers() -> None:
    truth = {"alpha": 0.9, "beta": 1.5, "gamma": 0.5, "delta": 3.0}
    sim = BetaGeoBetaBinom.from_params(**truth).sample(100_000, 10, seed=17)
    m = BetaGeoBetaBinom().fit(sim)
    for k, v in truth.items():
        est, se = getattr(m.params_, k), getattr(m.standard_errors_, k)
        assert abs(est - v) < 3 * se, (k, est, v, se)


def test_predictions_are_consistent(fitted: BetaGeoBetaBinom, donations: pd.DataFrame) -> None:
    m = fitted
    for n in (1, 6, 11):
        pmf = m.purchase_pmf(np.arange(n + 1), n)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert float(np.arange(n + 1) @ pmf) == pytest.approx(
            float(m.expected_purchases(n)), rel=1e-10
        )
    assert m.purchase_pmf(3, 2) == 0.0
    sim = m.sample(200_000, 6, seed=5)
    freq = sim["frequency"].to_numpy()
    pmf = m.purchase_pmf(np.arange(7), 6)
    obs = np.bincount(freq, minlength=7) / len(freq)
    assert np.all(np.abs(obs - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / len(freq)) + 1e-4)
    view = donations[COLS]
    pa, ce = m.p_alive(view), m.conditional_expected_purchases(view, 5)
    assert pa.between(0, 1).all() and (ce >= 0).all() and pa.name == "p_alive"
    # the new-customer history (0, 0, 0) gives the unconditional expectation
    zero = m.conditional_expected_purchases({"frequency": [0], "recency": [0], "periods": [0]}, 5)
    assert zero[0] == pytest.approx(float(m.expected_purchases(5)), rel=1e-12)
    assert np.all(np.diff(m.expected_purchases(np.arange(50))) >= 0)


@pytest.mark.parametrize("gamma", [0.3, 0.9995, 1.0, 1.0004, 2.5])
def test_survival_sum_matches_direct_sum(gamma: float) -> None:
    n, m = np.array([0.0, 6.0, 20.0]), np.array([5.0, 1.0, 40.0])
    direct = [
        sum(
            np.exp(special.betaln(gamma, 2.8 + ni + k) - special.betaln(gamma, 2.8))
            for k in range(1, int(mi) + 1)
        )
        for ni, mi in zip(n, m, strict=True)
    ]
    np.testing.assert_allclose(_survival_sum(gamma, 2.8, n, m), direct, rtol=1e-9)


def test_extreme_parameters_are_finite() -> None:
    view = {"frequency": [0, 50, 200], "recency": [0, 60, 300], "periods": [300, 300, 300]}
    for prm in (
        {"alpha": 1e-4, "beta": 1e-4, "gamma": 1e-4, "delta": 1e-4},
        {"alpha": 1e4, "beta": 1e4, "gamma": 1e4, "delta": 1e4},
    ):
        m = BetaGeoBetaBinom.from_params(**prm)
        assert np.all(np.isfinite(m.p_alive(view))) and m.p_alive(view).between(0, 1).all()
        ce = m.conditional_expected_purchases(view, 100)
        assert np.all(np.isfinite(ce)) and (ce >= 0).all()
        assert np.all(np.isfinite(m.log_likelihood(view)))


@pytest.mark.parametrize(
    ("change", "column", "problem"),
    [
        ({"recency": [1, 7]}, "recency", "greater than periods"),
        ({"recency": [1, 1]}, "recency", "less than frequency"),
        ({"frequency": [0, 2], "recency": [2, 3]}, "recency", "frequency is 0"),
        ({"periods": [6, 6.5]}, "periods", "whole numbers"),
        ({"frequency": [1, np.nan]}, "frequency", "NaN"),
    ],
)
def test_bad_rows_are_refused(change: dict[str, list[float]], column: str, problem: str) -> None:
    view = {"frequency": [1, 2], "recency": [1, 3], "periods": [6, 6]} | change
    with pytest.raises(SchemaError, match=problem) as err:
        BetaGeoBetaBinom().fit(view)
    assert err.value.failures[0].column == column


def test_contract(tmp_path, fitted: BetaGeoBetaBinom, donations: pd.DataFrame) -> None:
    with pytest.raises(NotFittedError):
        BetaGeoBetaBinom().expected_purchases(3)
    with pytest.raises(SchemaError, match="no repeat buyers"):
        BetaGeoBetaBinom().fit({"frequency": [0, 0], "recency": [0, 0], "periods": [3, 4]})
    with pytest.raises(SchemaError, match="single customer"):
        BetaGeoBetaBinom().fit({"frequency": [1], "recency": [1], "periods": [3]}, weights=[50])
    with pytest.raises(SchemaError, match="one value per customer"):
        fitted.conditional_expected_purchases(donations, [1, 2])
    with pytest.raises(SchemaError, match="whole numbers"):
        fitted.conditional_expected_purchases(donations, 1.5)
    before = donations.copy()
    fitted.conditional_expected_purchases(donations, 3)
    pd.testing.assert_frame_equal(donations, before)
    back = BetaGeoBetaBinom.load(fitted.save(tmp_path / "bgbb.json"))
    np.testing.assert_array_equal(
        back.p_alive(donations).to_numpy(), fitted.p_alive(donations).to_numpy()
    )
    with pytest.raises(ModelFileError):
        BetaGeo.load(tmp_path / "bgbb.json")
    assert type(fitted)(**fitted.get_params()).get_params() == {"penalizer": 0.0}
