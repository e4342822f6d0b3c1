"""SurvivalChurn: the likelihood against closed forms, its gradient, parameter recovery."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from crmkit.churn import SurvivalChurn
from crmkit.churn._weibull import Histories, history_loglik, p_gone_by
from crmkit.exceptions import InvalidParameterError, ModelFileError, NotFittedError, SchemaError


def _simulate(
    n: int, r: float, alpha: float, c: float, scale: float, seed: int, beta: float = 0.0
) -> pd.DataFrame:
    """Poisson purchases at Gamma(r, alpha) rates until a Weibull(c, scale * e^(beta z)) death."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1.0 / alpha, n)
    z = rng.normal(size=n)
    life = scale * np.exp(beta * z) * rng.weibull(c, n)
    T = rng.uniform(20.0, 100.0, n)
    end = np.minimum(life, T)
    x = rng.poisson(lam * end)
    # given x purchases in (0, end], the last one is the max of x uniforms
    t_x = np.where(x > 0, end * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    return pd.DataFrame(
        {"frequency": x, "recency": t_x, "T": T, "z": z},
        index=pd.Index([f"c{i:05d}" for i in range(n)], name="customer_id"),
    )


def _pareto_nbd_loglik(x: float, t_x: float, T: float, r: float, alpha: float, mu: float) -> float:
    """The Pareto/NBD individual likelihood for c = 1, integrated over lambda numerically."""
    # L = E[lambda^x mu / (lambda + mu) e^{-(lambda + mu) t_x}
    #       + lambda^{x + 1} / (lambda + mu) e^{-(lambda + mu) T}]
    # computed on a fine lambda grid in log space with the exact gamma density
    lam = np.exp(np.linspace(-25, 5, 200_001))
    log_dens = r * np.log(alpha) - gammaln(r) + r * np.log(lam) - alpha * lam  # density * lam
    a = x * np.log(lam) + np.log(mu) - np.log(lam + mu) - (lam + mu) * t_x
    b = (x + 1) * np.log(lam) - np.log(lam + mu) - (lam + mu) * T
    integrand = np.exp(np.logaddexp(a, b) + log_dens)
    return float(np.log(np.trapezoid(integrand, np.log(lam))))


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 40.0), (3, 12.5, 40.0), (7, 39.0, 40.0)])
def test_likelihood_with_shape_one_is_the_pareto_nbd(x: int, t_x: float, T: float) -> None:
    h = Histories(np.array([float(x)]), np.array([t_x]), np.array([T]))
    ll = history_loglik(h, np.array([np.log(25.0)]), 0.9, 6.0, 1.0)[0]
    assert ll[0] == pytest.approx(_pareto_nbd_loglik(x, t_x, T, 0.9, 6.0, 1 / 25.0), abs=1e-6)


def test_analytic_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    n = 40
    x = rng.integers(0, 6, n).astype(float)
    T = rng.uniform(0.0, 60.0, n)
    t_x = np.where(x > 0, T * rng.uniform(0.05, 1.0, n), 0.0)
    h = Histories(x, t_x, T)
    eta = rng.normal(3.0, 0.5, n)
    for r, alpha, c in ((0.7, 2.0, 0.6), (2.0, 9.0, 1.8)):
        _, d_eta, d_r, d_alpha, d_c = history_loglik(h, eta, r, alpha, c)
        eps = 1e-6
        for i in range(0, n, 7):
            e = np.zeros(n)
            e[i] = eps
            num = (history_loglik(h, eta + e, r, alpha, c)[0][i]
                   - history_loglik(h, eta - e, r, alpha, c)[0][i]) / (2 * eps)  # fmt: skip
            assert d_eta[i] == pytest.approx(num, rel=1e-5, abs=1e-7)
        total = {"r": d_r.sum(), "alpha": d_alpha.sum(), "c": d_c.sum()}
        base = {"r": r, "alpha": alpha, "c": c}
        for name, value in base.items():
            up = dict(base, **{name: value + eps})
            down = dict(base, **{name: value - eps})
            num = (history_loglik(h, eta, **up)[0].sum()
                   - history_loglik(h, eta, **down)[0].sum()) / (2 * eps)  # fmt: skip
            assert total[name] == pytest.approx(num, rel=1e-5)


def test_prediction_without_history_is_the_weibull_cdf() -> None:
    h = Histories(np.zeros(1), np.zeros(1), np.zeros(1))
    got = p_gone_by(h, np.array([np.log(10.0)]), 1.0, 1.0, 1.5, 4.0)
    assert got[0] == pytest.approx(1 - np.exp(-((4.0 / 10.0) ** 1.5)), rel=1e-12)


def test_long_silence_raises_the_risk() -> None:
    # the same buyer (10 purchases in 20 weeks), silent for 1, 10 and 40 weeks
    h = Histories(np.full(3, 10.0), np.full(3, 20.0), np.array([21.0, 30.0, 60.0]))
    risk = p_gone_by(h, np.full(3, np.log(80.0)), 2.0, 4.0, 1.0, 13.0)
    assert risk[0] < risk[1] < risk[2]
    assert risk[2] > 0.95


@pytest.mark.parametrize("c", [0.7, 1.5])
def test_parameters_are_recovered_from_simulated_histories(c: float) -> None:
    view = _simulate(3000, 0.8, 4.0, c, 60.0, seed=1)
    model = SurvivalChurn(columns=()).fit(view)
    assert model.converged_
    assert model.shape_ == pytest.approx(c, rel=0.12)
    assert model.r_ == pytest.approx(0.8, rel=0.12)
    assert model.alpha_ == pytest.approx(4.0, rel=0.2)
    assert np.exp(model.intercept_) == pytest.approx(60.0, rel=0.2)


def test_a_covariate_effect_is_recovered_and_explains_the_risk() -> None:
    view = _simulate(3000, 0.8, 4.0, 1.0, 60.0, seed=2, beta=-0.6)
    model = SurvivalChurn(columns=("z",), log_columns=()).fit(view)
    # coef_ is per standard deviation of z (about 1)
    assert model.coef_[0] / model.features_.scale[0] == pytest.approx(-0.6, abs=0.12)
    out = model.score(view)
    total = out["signal_history"] + out["signal_z"]
    np.testing.assert_allclose(total, out["churn_risk"], rtol=1e-10, atol=1e-12)
    # a high z shortens the lifetime: it is named as a reason when it raises the risk enough
    high = view["z"].idxmax()
    assert "z (" in out.loc[high, "reasons"]


def test_horizon_and_columns_are_checked() -> None:
    view = _simulate(50, 0.8, 4.0, 1.0, 60.0, seed=3)
    short = SurvivalChurn(columns=(), horizon=1.0).fit(view).score(view)["churn_risk"]
    long = SurvivalChurn(columns=(), horizon=52.0).fit(view).score(view)["churn_risk"]
    assert (long.to_numpy() >= short.to_numpy()).all()
    with pytest.raises(InvalidParameterError, match="horizon"):
        SurvivalChurn(columns=(), horizon=0.0).fit(view)
    with pytest.raises(InvalidParameterError, match="purchase history"):
        SurvivalChurn(columns=("recency",)).fit(view)
    with pytest.raises(NotFittedError):
        SurvivalChurn(columns=()).score(view)
    bad = view.assign(recency=view["T"] + 1.0)
    with pytest.raises(SchemaError, match="recency"):
        SurvivalChurn(columns=()).fit(bad)


def test_a_saved_state_with_mismatched_coefficients_is_a_model_file_error() -> None:
    view = _simulate(300, r=0.5, alpha=2.0, c=1.5, scale=40.0, seed=1)
    saved = SurvivalChurn(columns=("z",), log_columns=()).fit(view).to_dict()
    saved["state"]["__dict__"]["coef"] = {"__ndarray__": [], "dtype": "<f8", "shape": [0]}
    with pytest.raises(ModelFileError, match=r"SurvivalChurn: 'coef' .*\(1\); got shape \(0,\)"):
        SurvivalChurn.from_dict(saved)
