"""GammaGamma: published CDNOW fit, recovery, gradient, inputs, persistence."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import (
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from crmkit.value._gammagamma import GammaGamma, GammaGammaParams, _loglik_and_grad
from crmkit.value._sbg import ShiftedBetaGeo
from tests.unit.value._cdnow_ref import cdnow_summary


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return cdnow_summary(rounded=True)


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: pd.DataFrame) -> GammaGamma:
    return GammaGamma().fit(cdnow)


def _view(freq: list[int], money: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"frequency": freq, "monetary_value": money},
        index=pd.Index([f"c{i}" for i in range(len(freq))], name="customer_id"),
    )


# ------------------------------------------------------------ published fit
def test_cdnow_published_estimates(cdnow_fit: GammaGamma) -> None:
    # Fader & Hardie (2013): p = 6.25, q = 3.74, gamma = 15.44, LL = -4055.9
    est = cdnow_fit.params_
    assert round(est.p, 2) == 6.25
    assert round(est.q, 2) == 3.74
    assert round(est.gamma, 2) == 15.44
    assert cdnow_fit.log_likelihood_ == pytest.approx(-4055.9, abs=0.1)
    assert cdnow_fit.n_customers_ == 946
    assert cdnow_fit.n_ignored_ == 1411
    assert cdnow_fit.converged_
    assert np.all(np.isfinite(np.array([*cdnow_fit.summary()["se"]])))


def test_cdnow_per_customer_log_likelihood_sums(cdnow: pd.DataFrame, cdnow_fit: GammaGamma) -> None:
    ll = cdnow_fit.log_likelihood(cdnow)
    assert ll.index.equals(cdnow.index)
    assert float(ll.sum()) == pytest.approx(cdnow_fit.log_likelihood_, rel=1e-10)
    assert (ll[cdnow["frequency"] == 0] == 0).all()


def test_expected_spend_matches_lifetimes(cdnow: pd.DataFrame, cdnow_fit: GammaGamma) -> None:
    lifetimes = pytest.importorskip("lifetimes")
    ref = lifetimes.GammaGammaFitter()
    p = cdnow_fit.params_
    ref.params_ = pd.Series({"p": p.p, "q": p.q, "v": p.gamma})
    theirs = ref.conditional_expected_average_profit(cdnow["frequency"], cdnow["monetary_value"])
    ours = cdnow_fit.expected_spend(cdnow)
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs, dtype=float), rtol=1e-12)


def test_expected_spend_shrinks_toward_population_mean(cdnow_fit: GammaGamma) -> None:
    pop = cdnow_fit.population_mean_spend()
    view = _view([0, 1, 5, 50, 5000], [0.0, 100.0, 100.0, 100.0, 100.0])
    es = cdnow_fit.expected_spend(view)
    assert es.name == "expected_spend"
    assert es.iloc[0] == pytest.approx(pop)
    # posterior mean lies between the population mean and the customer's mean,
    # moving toward the customer's mean as the evidence grows
    inner = es.iloc[1:].to_numpy()
    assert np.all((inner > pop) & (inner < 100.0))
    assert np.all(np.diff(inner) > 0)
    assert inner[-1] == pytest.approx(100.0, rel=0.01)


def test_expected_spend_formula() -> None:
    m = GammaGamma.from_params(p=2.0, q=3.0, gamma=10.0)
    es = m.expected_spend(_view([0, 2, 1], [5.0, 20.0, 0.0]))
    # p (gamma + m x) / (p x + q - 1); monetary_value is ignored without repeats
    assert es.tolist() == pytest.approx([10.0, 2 * (10 + 40) / (4 + 2), 2 * 10 / (2 + 2)])


def test_infinite_mean_is_refused() -> None:
    m = GammaGamma.from_params(p=2.0, q=0.8, gamma=10.0)
    with pytest.raises(InvalidParameterError, match=r"q = 0\.8 <= 1"):
        m.population_mean_spend()
    with pytest.raises(InvalidParameterError, match="infinite"):
        m.expected_spend(_view([0, 3], [0.0, 10.0]))
    # repeat buyers alone are fine: p x + q > 1
    assert np.isfinite(m.expected_spend(_view([3], [10.0]))).all()
    tiny = GammaGamma.from_params(p=0.05, q=0.5, gamma=1.0)
    with pytest.raises(InvalidParameterError, match="rows \\('c0',\\)"):
        tiny.expected_spend(_view([1], [10.0]))


# ----------------------------------------------------------------- recovery
def test_parameter_recovery_100k() -> None:
    truth = GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    sim = GammaGamma.from_params(p=truth.p, q=truth.q, gamma=truth.gamma)
    view = sim.sample(100_000, frequency=np.arange(0, 11), seed=42)
    model = GammaGamma().fit(view)
    assert model.n_customers_ == pytest.approx(100_000 * 10 / 11, abs=1)
    assert model.n_ignored_ == pytest.approx(100_000 / 11, abs=1)
    for name in ("p", "q", "gamma"):
        est = getattr(model.params_, name)
        se = getattr(model.standard_errors_, name)
        assert np.isfinite(se) and se > 0
        assert abs(est - getattr(truth, name)) < 3 * se, (name, est, se)


def test_weights_equal_duplicated_rows() -> None:
    base = GammaGamma.from_params(p=3.0, q=5.0, gamma=20.0).sample(300, [1, 2, 3], seed=3)
    doubled = pd.concat([base, base.iloc[:100]])
    weights = np.r_[np.where(np.arange(300) < 100, 2.0, 1.0)]
    a = GammaGamma().fit(doubled).params_
    b = GammaGamma().fit(base, weights=weights).params_
    np.testing.assert_allclose([a.p, a.q, a.gamma], [b.p, b.q, b.gamma], rtol=1e-6)


def test_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 9, 50).astype(float)
    m = rng.gamma(4.0, 10.0, 50)
    params = np.array([3.3, 2.7, 12.0])
    _, grad = _loglik_and_grad(params, x, m)
    analytic = grad.sum(axis=1)
    numeric = np.empty(3)
    for j in range(3):
        h = 1e-6 * params[j]
        up, dn = params.copy(), params.copy()
        up[j] += h
        dn[j] -= h
        numeric[j] = (
            _loglik_and_grad(up, x, m, grad=False)[0].sum()
            - _loglik_and_grad(dn, x, m, grad=False)[0].sum()
        ) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6)


def test_penalizer_shrinks_parameters(cdnow: pd.DataFrame, cdnow_fit: GammaGamma) -> None:
    pen = GammaGamma(penalizer=0.01).fit(cdnow)
    assert pen.params_.gamma < cdnow_fit.params_.gamma
    assert pen.log_likelihood_ < cdnow_fit.log_likelihood_


# ------------------------------------------------------------ input checks
@pytest.mark.parametrize(
    ("freq", "money", "column", "check", "row"),
    [
        ([1, 2, np.nan], [10.0, 12.0, 9.0], "frequency", "NaN or infinite", "c2"),
        ([1, 2, 3], [10.0, np.inf, 9.0], "monetary_value", "NaN or infinite", "c1"),
        ([1, -2, 3], [10.0, 12.0, 9.0], "frequency", "negative", "c1"),
        ([1, 2.5, 3], [10.0, 12.0, 9.0], "frequency", "whole numbers", "c1"),
        ([1, 2, 3], [10.0, -12.0, 9.0], "monetary_value", "negative", "c1"),
        ([1, 2, 3, 0], [10.0, 0.0, 9.0, 0.0], "monetary_value", "must be > 0", "c1"),
    ],
)
def test_bad_values_are_refused(
    freq: list[float], money: list[float], column: str, check: str, row: str
) -> None:
    view = _view(freq, money)  # type: ignore[arg-type]
    with pytest.raises(SchemaError) as info:
        GammaGamma().fit(view)
    failure = info.value.failures[0]
    assert failure.column == column
    assert check in failure.check
    assert row in failure.rows


def test_missing_column_and_non_numeric() -> None:
    with pytest.raises(SchemaError, match=r"monetary_value.*is missing"):
        GammaGamma().fit(pd.DataFrame({"frequency": [1, 2]}))
    view = _view([1, 2, 3], [10.0, 12.0, 9.0]).astype({"monetary_value": object})
    view.loc["c1", "monetary_value"] = "12"
    with pytest.raises(SchemaError, match="must be numeric"):
        GammaGamma().fit(view)


def test_degenerate_data_is_refused() -> None:
    with pytest.raises(SchemaError, match="0 repeat buyer"):
        GammaGamma().fit(_view([0, 0, 0], [0.0, 0.0, 0.0]))
    with pytest.raises(SchemaError, match="1 repeat buyer"):
        GammaGamma().fit(_view([0, 4], [0.0, 10.0]))
    with pytest.raises(SchemaError, match="no customers"):
        GammaGamma().fit(_view([], []))


def test_bad_hyperparameters_and_arguments() -> None:
    with pytest.raises(InvalidParameterError, match="'penalizer' parameter of GammaGamma"):
        GammaGamma(penalizer=-1.0).fit(_view([1, 2], [1.0, 2.0]))
    with pytest.raises(InvalidParameterError, match="'q' must be"):
        GammaGamma.from_params(p=1.0, q=-1.0, gamma=1.0)
    with pytest.raises(InvalidParameterError, match="'gamma' must be"):
        GammaGamma.from_params(p=1.0, q=1.0, gamma=float("inf"))
    m = GammaGamma.from_params(p=1.0, q=2.0, gamma=1.0)
    with pytest.raises(InvalidParameterError, match="n_customers"):
        m.sample(0, 1)
    with pytest.raises(InvalidParameterError, match="frequency"):
        m.sample(5, [1.5])


def test_not_fitted() -> None:
    model = GammaGamma()
    view = _view([1, 2], [3.0, 4.0])
    for call in (
        lambda: model.expected_spend(view),
        lambda: model.log_likelihood(view),
        lambda: model.summary(),
        lambda: model.sample(3, 1),
        lambda: model.population_mean_spend(),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_input_not_mutated(cdnow: pd.DataFrame) -> None:
    view = cdnow.copy()
    before = view.copy()
    model = GammaGamma().fit(view)
    model.expected_spend(view)
    model.log_likelihood(view)
    pd.testing.assert_frame_equal(view, before)


# ------------------------------------------------------------- estimator API
def test_clone_and_repr() -> None:
    model = GammaGamma(penalizer=0.1).fit(_view([1, 2, 3, 1], [5.0, 7.0, 9.0, 20.0]))
    clone = type(model)(**model.get_params())
    assert clone.get_params() == {"penalizer": 0.1, "spend_covariates": None}
    assert not hasattr(clone, "params_")
    assert repr(clone) == "GammaGamma(penalizer=0.1)"


def test_json_round_trip_bit_identical(
    tmp_path: object, cdnow: pd.DataFrame, cdnow_fit: GammaGamma
) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "gg.json"
    cdnow_fit.save(path)
    loaded = GammaGamma.load(path)
    assert loaded.params_ == cdnow_fit.params_
    assert loaded.n_ignored_ == cdnow_fit.n_ignored_
    np.testing.assert_array_equal(loaded.covariance_, cdnow_fit.covariance_)
    a = cdnow_fit.expected_spend(cdnow).to_numpy()
    b = loaded.expected_spend(cdnow).to_numpy()
    assert a.tobytes() == b.tobytes()
    text = path.read_text()
    assert cdnow.index[0] not in text  # no customer data in the file
    json.loads(text)
    with pytest.raises(ModelFileError):
        ShiftedBetaGeo.load(path)
