"""ShiftedBetaGeo: published fits, recovery, gradient, predictions, inputs, persistence."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from crmkit.exceptions import (
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from crmkit.value._gammagamma import GammaGamma
from crmkit.value._sbg import ShiftedBetaGeo, _loglik_and_grad

REGULAR = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]
HIGH_END = [100, 86.9, 74.3, 65.3, 59.3, 55.1, 51.7, 49.1]


@pytest.fixture(scope="module")
def regular() -> ShiftedBetaGeo:
    return ShiftedBetaGeo().fit(REGULAR, n=1000)


# ------------------------------------------------------------ published fits
@pytest.mark.parametrize(
    ("survivors", "alpha", "beta"), [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)]
)
def test_published_fits(survivors: list[float], alpha: float, beta: float) -> None:
    # Fader & Hardie (2007), "How to project customer retention"
    model = ShiftedBetaGeo().fit(survivors, n=1000)
    assert round(model.params_.alpha, 3) == alpha
    assert round(model.params_.beta, 3) == beta
    assert model.n_customers_ == 1000
    assert model.n_cohorts_ == 1
    # the same data given as counts
    counts = ShiftedBetaGeo().fit([round(v * 10) for v in survivors])
    assert counts.params_.alpha == pytest.approx(model.params_.alpha, rel=1e-6)


def test_log_likelihood_matches_direct_formula(regular: ShiftedBetaGeo) -> None:
    a, b = regular.params_.alpha, regular.params_.beta
    n = np.array(REGULAR) * 10
    t = np.arange(1, len(n))
    direct = np.sum((n[:-1] - n[1:]) * (betaln(a + 1, b + t - 1) - betaln(a, b)))
    direct += n[-1] * (betaln(a, b + t[-1]) - betaln(a, b))
    assert regular.log_likelihood_ == pytest.approx(direct, rel=1e-12)


def test_fitted_curve_tracks_the_data(regular: ShiftedBetaGeo) -> None:
    fitted = regular.survival(np.arange(8)) * 100
    np.testing.assert_allclose(fitted, REGULAR, atol=1.0)


# ----------------------------------------------------------------- recovery
def test_parameter_recovery_within_three_se() -> None:
    truth = {"alpha": 0.9, "beta": 2.5}
    sim = ShiftedBetaGeo.from_params(**truth)
    rng = np.random.default_rng(7)
    cohorts = [sim.sample(20_000, k, seed=rng) for k in (4, 6, 8, 10, 12)]
    model = ShiftedBetaGeo().fit(cohorts)
    assert model.n_cohorts_ == 5
    assert model.n_customers_ == 100_000
    for name, value in truth.items():
        est = getattr(model.params_, name)
        se = getattr(model.standard_errors_, name)
        assert 0 < se < 0.2 * value
        assert abs(est - value) < 3 * se, (name, est, se)


def test_gradient_matches_finite_differences() -> None:
    t = np.arange(1.0, 8.0)
    lost = np.array([369.0, 163, 86, 56, 37, 27, 21])
    censored = np.array([0.0, 0, 10, 0, 0, 0, 241])
    _, grad = _loglik_and_grad(0.8, 1.3, t, lost, censored)
    h = 1e-6
    num_a = (
        _loglik_and_grad(0.8 + h, 1.3, t, lost, censored)[0]
        - _loglik_and_grad(0.8 - h, 1.3, t, lost, censored)[0]
    ) / (2 * h)
    num_b = (
        _loglik_and_grad(0.8, 1.3 + h, t, lost, censored)[0]
        - _loglik_and_grad(0.8, 1.3 - h, t, lost, censored)[0]
    ) / (2 * h)
    np.testing.assert_allclose(grad, [num_a, num_b], rtol=1e-6)


def test_several_cohorts_in_any_form_agree() -> None:
    ragged = [[1000, 631, 468, 382, 326], [800, 530, 400]]
    frame = pd.DataFrame(
        [[1000, 631, 468, 382, 326], [800, 530, 400, np.nan, np.nan]], index=["2019", "2020"]
    )
    a = ShiftedBetaGeo().fit(ragged)
    b = ShiftedBetaGeo().fit(frame)
    c = ShiftedBetaGeo().fit([[100, 63.1, 46.8, 38.2, 32.6], [100, 66.25, 50.0]], n=[1000, 800])
    assert a.n_cohorts_ == b.n_cohorts_ == 2
    assert a.params_ == b.params_
    assert c.params_.alpha == pytest.approx(a.params_.alpha, rel=1e-6)
    assert a.log_likelihood_ == pytest.approx(c.log_likelihood_, rel=1e-9)


# -------------------------------------------------------------- predictions
def test_survival_retention_and_churn_are_consistent(regular: ShiftedBetaGeo) -> None:
    t = np.arange(1, 30)
    s = regular.survival(np.arange(0, 30))
    r = regular.retention(t)
    np.testing.assert_allclose(s[1:], np.cumprod(r), rtol=1e-12)
    np.testing.assert_allclose(regular.churn_probability(t), s[:-1] - s[1:], rtol=1e-10)
    assert np.all(np.diff(r) > 0)  # retention rises with tenure (sorting effect)
    assert regular.survival(0) == 1.0
    assert regular.retention(3).shape == ()


def test_derl_equals_the_discounted_sum(regular: ShiftedBetaGeo) -> None:
    horizon = np.arange(0, 40_000)
    s = regular.survival(horizon)
    for n, d in [(0, 0.1), (4, 0.1), (10, 0.25)]:
        z = 1.0 / (1.0 + d)
        brute = np.sum(s[n + 1 :] / s[n] * z ** (horizon[n + 1 :] - n - 1))
        assert float(regular.discounted_expected_residual_lifetime(d, n)) == pytest.approx(
            brute, rel=1e-8
        )
    derl = regular.discounted_expected_residual_lifetime(0.1, np.arange(0, 10))
    assert np.all(np.diff(derl) > 0)  # survivors are the better customers
    assert regular.discounted_expected_residual_lifetime(0.2, 3) < (
        regular.discounted_expected_residual_lifetime(0.1, 3)
    )


def test_expected_lifetime() -> None:
    model = ShiftedBetaGeo.from_params(alpha=3.0, beta=4.0)
    s = model.survival(np.arange(0, 20_000))
    assert float(model.expected_lifetime()) == pytest.approx(s.sum(), rel=1e-6)
    assert float(model.expected_lifetime(5)) == pytest.approx(s[5:].sum() / s[5], rel=1e-6)
    with pytest.raises(InvalidParameterError, match="infinite"):
        ShiftedBetaGeo.from_params(alpha=0.7, beta=1.2).expected_lifetime()


def test_sample_shape_and_monotone() -> None:
    model = ShiftedBetaGeo.from_params(alpha=0.7, beta=1.2)
    counts = model.sample(500, 6, seed=0)
    assert counts.shape == (7,)
    assert counts[0] == 500
    assert np.all(np.diff(counts) <= 0)
    np.testing.assert_array_equal(counts, model.sample(500, 6, seed=0))


def test_bad_prediction_arguments(regular: ShiftedBetaGeo) -> None:
    with pytest.raises(SchemaError) as info:
        regular.retention(0)
    failure = info.value.failures[0]
    assert (failure.frame, failure.column, failure.values) == ("argument", "t", (0,))
    assert "whole numbers >= 1" in failure.check
    with pytest.raises(SchemaError, match="whole numbers >= 0"):
        regular.survival([1, 2.5])
    with pytest.raises(SchemaError, match="'n_renewals'"):
        regular.discounted_expected_residual_lifetime(0.1, -1)
    with pytest.raises(InvalidParameterError, match="discount_rate"):
        regular.discounted_expected_residual_lifetime(0.0)
    with pytest.raises(InvalidParameterError, match="n_periods"):
        regular.sample(10, 0)


# ------------------------------------------------------------ input checks
@pytest.mark.parametrize(
    ("survivors", "n", "column", "check"),
    [
        ([1000, 700, 750, 600], None, "period 2", "cannot rise"),
        ([1000, np.nan, 500], None, "period 1", "NaN"),
        ([1000, 700, np.inf], None, "period 2", "NaN or infinite"),
        ([1000, 700, -5], None, "period 2", "negative"),
        ([0, 0, 0], None, "period 0", "must be > 0"),
        ([100, 63.1, 46.8], None, "period 1", "whole numbers"),
        ([95, 63.1, 46.8], 1000, "period 0", "must be 100"),
        ([1000, "700", 500], None, "period 1", "numeric"),
        ([1000], None, "<cohort>", "period 0 and a later one"),
    ],
)
def test_bad_survivors_are_refused(
    survivors: list[object], n: float | None, column: str, check: str
) -> None:
    with pytest.raises(SchemaError) as info:
        ShiftedBetaGeo().fit(survivors, n=n)
    failure = info.value.failures[0]
    assert failure.frame == "survivors"
    assert failure.column == column
    assert check in failure.check
    assert failure.rows == (0,)


def test_failures_name_every_cohort() -> None:
    frame = pd.DataFrame(
        [[1000, 600, 700], [500, 400, np.nan], [300, 310, 200]], index=["a", "b", "c"]
    )
    with pytest.raises(SchemaError) as info:
        ShiftedBetaGeo().fit(frame)
    assert [f.rows for f in info.value.failures] == [("a",), ("c",)]


def test_unidentified_data_is_refused() -> None:
    with pytest.raises(SchemaError, match="nobody churning"):
        ShiftedBetaGeo().fit([1000, 1000, 1000])
    with pytest.raises(SchemaError, match="two periods after period 0"):
        ShiftedBetaGeo().fit([[1000, 600], [500, 300]])
    with pytest.raises(SchemaError, match="no cohort"):
        ShiftedBetaGeo().fit(pd.DataFrame())
    with pytest.raises(SchemaError, match="one per cohort"):
        ShiftedBetaGeo().fit([[100, 60, 40], [100, 50, 30]], n=[1000, 800, 5])


def test_bad_hyperparameters() -> None:
    with pytest.raises(InvalidParameterError, match="'penalizer' parameter of ShiftedBetaGeo"):
        ShiftedBetaGeo(penalizer="a").fit(REGULAR, n=1000)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'alpha' must be"):
        ShiftedBetaGeo.from_params(alpha=0.0, beta=1.0)


def test_not_fitted() -> None:
    model = ShiftedBetaGeo()
    for call in (
        lambda: model.survival(1),
        lambda: model.retention(1),
        lambda: model.churn_probability(1),
        lambda: model.expected_lifetime(),
        lambda: model.discounted_expected_residual_lifetime(0.1),
        lambda: model.sample(10, 2),
        lambda: model.summary(),
    ):
        with pytest.raises(NotFittedError):
            call()


def test_input_not_mutated() -> None:
    frame = pd.DataFrame([[1000, 631, 468, 382], [800, 530, 400, np.nan]])
    before = frame.copy()
    arr = np.array(REGULAR)
    ShiftedBetaGeo().fit(frame)
    ShiftedBetaGeo().fit(arr, n=1000)
    pd.testing.assert_frame_equal(frame, before)
    np.testing.assert_array_equal(arr, REGULAR)


def test_clone_and_json_round_trip(tmp_path: pathlib.Path, regular: ShiftedBetaGeo) -> None:
    clone = type(regular)(**regular.get_params())
    assert not hasattr(clone, "params_")
    path = regular.save(tmp_path / "sbg.json")
    loaded = ShiftedBetaGeo.load(path)
    assert loaded.params_ == regular.params_
    assert loaded.n_cohorts_ == 1
    t = np.arange(0, 25)
    assert loaded.survival(t).tobytes() == regular.survival(t).tobytes()
    assert (
        loaded.discounted_expected_residual_lifetime(0.1, t).tobytes()
        == regular.discounted_expected_residual_lifetime(0.1, t).tobytes()
    )
    json.loads(path.read_text())
    with pytest.raises(ModelFileError):
        GammaGamma.load(path)
