"""Tests of ModifiedBetaGeo (MBG/NBD)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats

from crmkit.exceptions import ModelFileError, NotFittedError, SchemaError
from crmkit.value._bgnbd import BetaGeo, _bg_loglik, _BGObjective
from crmkit.value._mbgnbd import ModifiedBetaGeo

try:
    from ._cdnow_ref import cdnow_summary
except ImportError:  # tests/unit/value is not a package
    from _cdnow_ref import cdnow_summary  # type: ignore[no-redef]

PARAMS = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 3.0}


def test_cdnow_fit_is_finite_and_close_to_bgnbd() -> None:
    cdnow = cdnow_summary(rounded=True)
    mbg = ModifiedBetaGeo().fit(cdnow)
    bg = BetaGeo().fit(cdnow)
    assert mbg.converged_ and np.isfinite(mbg.log_likelihood_)
    assert abs(mbg.log_likelihood_ - bg.log_likelihood_) < 10.0
    assert mbg.log_likelihood(cdnow).sum() == pytest.approx(mbg.log_likelihood_, rel=1e-12)
    se = mbg.summary()["se"]
    assert np.all(np.isfinite(se)) and np.all(se > 0)


def test_likelihood_matches_the_published_formula() -> None:
    # Batislam et al. (2007): L = B(a, b+x+1)/B(a,b) NB-part(T) + B(a+1, b+x)/B(a,b) NB-part(t_x)
    from scipy.special import beta, gamma

    r, alpha, a, b = PARAMS.values()
    x, tx, T = np.array([0.0, 1.0, 4.0]), np.array([0.0, 2.0, 20.0]), np.array([10.0, 12.0, 30.0])
    nb = gamma(r + x) * alpha**r / gamma(r)
    like = beta(a, b + x + 1) / beta(a, b) * nb / (alpha + T) ** (r + x) + beta(
        a + 1, b + x
    ) / beta(a, b) * nb / (alpha + tx) ** (r + x)
    got = _bg_loglik(np.array(list(PARAMS.values())), x, tx, T, 1)
    np.testing.assert_allclose(got, np.log(like), rtol=1e-12)


def test_gradient_matches_finite_differences() -> None:
    view = ModifiedBetaGeo.from_params(**PARAMS).sample(300, 30.0, seed=4)
    obj = _BGObjective(
        view["frequency"].to_numpy(float),
        view["recency"].to_numpy(),
        view["T"].to_numpy(),
        np.ones(300),
        1,
    )
    th = np.log([0.7, 3.0, 1.3, 2.0])
    _, g = obj(th)
    np.testing.assert_allclose(g, optimize.approx_fprime(th, lambda t: obj(t)[0], 1e-7), rtol=1e-5)


def test_parameter_recovery_100k_customers() -> None:
    T = np.random.default_rng(8).uniform(20.0, 80.0, 100_000)
    view = ModifiedBetaGeo.from_params(**PARAMS).sample(100_000, T, seed=99)
    m = ModifiedBetaGeo().fit(view)
    for name, value in PARAMS.items():
        est, se = getattr(m.params_, name), getattr(m.standard_errors_, name)
        assert abs(est - value) < 3 * se, (name, est, value, se)


def test_large_fit_newton_path_equals_plain_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    # without an analytic Hessian a large fit differences the gradient once and
    # refines it by BFGS updates; it must land on the optimiser's maximum
    from crmkit.value import _purchase

    T = np.random.default_rng(3).uniform(20.0, 80.0, 20_000)
    view = ModifiedBetaGeo.from_params(**PARAMS).sample(20_000, T, seed=5)
    plain = ModifiedBetaGeo().fit(view)
    monkeypatch.setattr(_purchase, "_WARM_START_ROWS", 2_000)
    warm = ModifiedBetaGeo().fit(view)
    for name in PARAMS:
        assert getattr(warm.params_, name) == pytest.approx(getattr(plain.params_, name), rel=1e-4)
        assert getattr(warm.standard_errors_, name) == pytest.approx(
            getattr(plain.standard_errors_, name), rel=1e-3
        )
    assert warm.log_likelihood_ >= plain.log_likelihood_ - 1e-6


def test_predictions_are_consistent() -> None:
    m = ModifiedBetaGeo.from_params(**PARAMS)
    n = np.arange(3000)
    pmf = m.purchase_pmf(n, 52.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-8)
    assert float(n @ pmf) == pytest.approx(float(m.expected_purchases(52.0)), rel=1e-6)
    sim = m.sample(100_000, 52.0, seed=1)
    se = sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(sim["frequency"].mean() - float(m.expected_purchases(52.0))) < 4 * se
    view = pd.DataFrame(
        {"frequency": [0, 0, 3], "recency": [0.0, 0.0, 20.0], "T": [1.0, 40.0, 40.0]}
    )
    pa = m.p_alive(view)
    # unlike BG/NBD, a customer without repeats may have dropped out at time 0
    assert pa[0] < 1 and pa[1] < pa[0]
    assert pa[0] == pytest.approx(1 / (1 + PARAMS["a"] / PARAMS["b"] * ((5 + 1) / 5) ** 0.5))
    ce = m.conditional_expected_purchases(view, 10.0)
    # posterior mean by quadrature over the dropout probability
    x, T = 3, 40.0
    R, B, s = PARAMS["r"] + x, PARAMS["b"] + x + 1, 10.0 / (PARAMS["alpha"] + T)
    val, _ = integrate.quad(
        lambda p: stats.beta(PARAMS["a"], B).pdf(p) * -np.expm1(-R * np.log1p(p * s)) / p,
        0,
        1,
        epsrel=1e-11,
        limit=200,
    )
    assert ce[2] == pytest.approx(pa[2] * val, rel=1e-7)
    # a new customer is the history (0, 0, 0)
    zero = m.conditional_expected_purchases({"frequency": [0], "recency": [0.0], "T": [0.0]}, 10.0)
    assert zero[0] == pytest.approx(float(m.expected_purchases(10.0)), rel=1e-12)


def test_contract_errors(tmp_path) -> None:
    with pytest.raises(NotFittedError):
        ModifiedBetaGeo().p_alive({"frequency": [1], "recency": [1.0], "T": [2.0]})
    with pytest.raises(SchemaError, match=r"recency.*greater than T"):
        ModifiedBetaGeo.from_params(**PARAMS).p_alive(
            {"frequency": [1], "recency": [3.0], "T": [2.0]}
        )
    with pytest.raises(SchemaError, match="no repeat buyers"):
        ModifiedBetaGeo().fit({"frequency": [0, 0], "recency": [0.0, 0.0], "T": [2.0, 3.0]})
    m = ModifiedBetaGeo.from_params(**PARAMS)
    path = m.save(tmp_path / "m.json")
    back = ModifiedBetaGeo.load(path)
    v = {"frequency": [0, 4], "recency": [0.0, 7.5], "T": [9.0, 9.0]}
    np.testing.assert_array_equal(
        back.conditional_expected_purchases(v, 5.0).to_numpy(),
        m.conditional_expected_purchases(v, 5.0).to_numpy(),
    )
    with pytest.raises(ModelFileError):
        BetaGeo.load(path)
    with pytest.raises(ModelFileError):
        ModifiedBetaGeo.load(BetaGeo.from_params(**PARAMS).save(tmp_path / "b.json"))
