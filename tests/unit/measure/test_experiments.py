"""uplift_test: the tests, the bootstrap, the planted campaign effect and the error rate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.measure import uplift_from_outcomes, uplift_test
from crmkit.measure._stats import (
    bootstrap_mean_differences,
    two_proportion_z_test,
    welch_test,
)
from tests.unit.measure._toy import toy_data


def _null_outcomes(rng: np.random.Generator, n: int, p: float) -> dict[str, np.ndarray]:
    converted = rng.random(n) < p
    return {"converted": converted, "revenue": converted * rng.gamma(2.0, 50.0, n)}


def test_z_test_matches_the_formula_and_chi_square() -> None:
    z, p = two_proportion_z_test(45, 150, 30, 160)
    pooled = 75 / 310
    expected = (45 / 150 - 30 / 160) / math.sqrt(pooled * (1 - pooled) * (1 / 150 + 1 / 160))
    assert z == pytest.approx(expected)
    chi2 = stats.chi2_contingency([[45, 105], [30, 130]], correction=False)
    assert z**2 == pytest.approx(chi2.statistic) and p == pytest.approx(chi2.pvalue)
    assert two_proportion_z_test(0, 10, 0, 12) == (0.0, 1.0)


def test_welch_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.gamma(2, 30, 80), rng.gamma(2, 25, 50)
    t, df, p = welch_test(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert (t, p) == pytest.approx((ref.statistic, ref.pvalue))
    assert df == pytest.approx(ref.df)
    assert welch_test(np.ones(3), np.ones(4))[::2] == (0.0, 1.0)
    assert welch_test(np.full(3, 2.0), np.ones(4))[2] == 0.0


def test_bootstrap_is_seeded_and_centred() -> None:
    rng = np.random.default_rng(0)
    t, c = rng.normal(1.0, 1.0, (300, 2)), rng.normal(0.0, 1.0, (200, 2))
    one = bootstrap_mean_differences(t, c, 500, np.random.default_rng(7))
    two = bootstrap_mean_differences(t, c, 500, np.random.default_rng(7))
    np.testing.assert_array_equal(one, two)
    assert one.shape == (500, 2)
    np.testing.assert_allclose(one.mean(axis=0), t.mean(0) - c.mean(0), atol=0.02)
    se = math.sqrt(1 / 300 + 1 / 200)
    np.testing.assert_allclose(one.std(axis=0), se, rtol=0.15)


def test_same_seed_same_result_and_frame() -> None:
    rng = np.random.default_rng(2)
    t, c = _null_outcomes(rng, 400, 0.3), _null_outcomes(rng, 400, 0.3)
    a = uplift_from_outcomes(t, c, n_boot=300, seed=5)
    b = uplift_from_outcomes(pd.DataFrame(t), pd.DataFrame(c), n_boot=300, seed=5)
    assert a == b
    frame = a.to_frame()
    assert list(frame.index) == ["conversion_rate", "revenue_per_customer"]
    assert frame.loc["conversion_rate", "lower"] <= a.conversion_uplift
    assert frame.loc["conversion_rate", "upper"] >= a.conversion_uplift


def test_false_positive_rate_is_nominal_over_200_null_experiments() -> None:
    rng = np.random.default_rng(2024)
    n_sim = 200
    z_rej = t_rej = ci_miss = 0
    for _ in range(n_sim):
        p = rng.uniform(0.1, 0.5)
        res = uplift_from_outcomes(
            _null_outcomes(rng, 300, p), _null_outcomes(rng, 300, p), n_boot=200, seed=rng
        )
        z_rej += res.conversion_significant
        t_rej += res.revenue_significant
        lo, hi = res.conversion_ci
        ci_miss += not (lo <= 0.0 <= hi)
    for k in (z_rej, t_rej, ci_miss):
        # a binomial tolerance: fails only if the rate is implausible for 5 % (p < 0.001)
        assert stats.binomtest(k, n_sim, 0.05).pvalue > 0.001, k


def test_power_against_a_real_effect() -> None:
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(20):
        t, c = _null_outcomes(rng, 1000, 0.30), _null_outcomes(rng, 1000, 0.20)
        hits += uplift_from_outcomes(t, c, n_boot=100, seed=rng).conversion_significant
    assert hits >= 18  # power ~ 1 - 1e-6 at z ~ 5.2


def test_planted_campaign_is_detected_and_covered(synthetic) -> None:
    crm, data = synthetic
    res = uplift_test(data, "K1", seed=0)
    truth = crm.campaign_truth.loc["K1", "true_uplift"]
    assert res.conversion_significant and res.conversion_p_value < 0.05
    lo, hi = res.conversion_ci
    assert lo <= truth <= hi
    assert res.n_treatment == crm.campaign_truth.loc["K1", "n_treatment"]
    assert res.n_control == crm.campaign_truth.loc["K1", "n_control"]


def test_null_campaign_is_not_detected(synthetic) -> None:
    res = uplift_test(synthetic[1], "K2", seed=0)
    assert not res.conversion_significant
    lo, hi = res.conversion_ci
    assert lo <= 0.0 <= hi


def test_refusals() -> None:
    with pytest.raises(SchemaError, match="at least 2 in each group"):
        uplift_test(toy_data(), "K2")  # one control customer
    with pytest.raises(SchemaError, match="no touches of campaign"):
        uplift_test(toy_data(), "nope")
    bad = {"converted": [0, 2, 1], "revenue": [0.0, 1.0, np.inf]}
    with pytest.raises(SchemaError) as err:
        uplift_from_outcomes(bad, {"converted": [0, 1], "revenue": [0.0, 1.0]})
    checks = {(f.column, f.check) for f in err.value.failures}
    assert checks == {("converted", "must be 0/1 or boolean"), ("revenue", "must be finite")}
    with pytest.raises(SchemaError, match=r"'revenue'.*is missing"):
        uplift_from_outcomes({"converted": [0, 1]}, {"converted": [0, 1], "revenue": [0, 1]})
    ok = {"converted": [0, 1, 1], "revenue": [0.0, 3.0, 2.0]}
    with pytest.raises(InvalidParameterError, match="'n_boot'"):
        uplift_from_outcomes(ok, ok, n_boot=10)
    with pytest.raises(InvalidParameterError, match="'confidence'"):
        uplift_from_outcomes(ok, ok, confidence=1.0)
    with pytest.raises(TypeError, match="DataFrame or a mapping"):
        uplift_from_outcomes([1, 2], ok)  # type: ignore[arg-type]
