"""Tests of BetaGeo (BG/NBD) and the beta-geometric/NBD core."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize, stats

from crmkit.exceptions import (
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from crmkit.value._bgnbd import BetaGeo, _alive_mean, _bg_loglik, _BGObjective
from crmkit.value._inputs import collapse
from crmkit.value._mbgnbd import ModifiedBetaGeo
from crmkit.value._purchase import collapse_rows

try:
    from ._cdnow_ref import cdnow_summary
except ImportError:  # tests/unit/value is not a package
    from _cdnow_ref import cdnow_summary  # type: ignore[no-redef]

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return cdnow_summary(rounded=True)


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> BetaGeo:
    return BetaGeo().fit(cdnow)


def small_view() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": [0, 2, 5, 1],
            "recency": [0.0, 10.5, 30.0, 3.0],
            "T": [20.0, 38.0, 31.0, 5.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


# ------------------------------------------------------------ published fit
def test_cdnow_published_estimates(fitted: BetaGeo) -> None:
    got = {k: round(getattr(fitted.params_, k), 3) for k in CDNOW}
    assert got == CDNOW
    assert abs(fitted.log_likelihood_ - (-9582.4)) < 0.1
    assert fitted.converged_ and fitted.n_customers_ == 2357
    se = fitted.summary()["se"]
    assert np.all(np.isfinite(se)) and np.all(se > 0)


def test_log_likelihood_per_customer_sums_to_total(fitted: BetaGeo, cdnow: pd.DataFrame) -> None:
    ll = fitted.log_likelihood(cdnow)
    assert ll.index.equals(cdnow.index) and ll.name == "log_likelihood"
    assert ll.sum() == pytest.approx(fitted.log_likelihood_, rel=1e-12)
    assert np.all(ll < 0)


# ------------------------------------------------------------ gradient
@pytest.mark.parametrize("shift", [0, 1])
@pytest.mark.parametrize(
    "theta", [[-1.4, 1.5, -0.2, 0.9], [0.5, -1.0, 1.2, -0.5], [2.0, 3.0, 0.0, 0.0]]
)
def test_gradient_matches_finite_differences(shift: int, theta: list[float]) -> None:
    rng = np.random.default_rng(7)
    view = BetaGeo.from_params(**CDNOW).sample(400, rng.uniform(5, 40, 400), seed=3)
    w = rng.uniform(0.5, 3.0, 400)
    obj = _BGObjective(
        view["frequency"].to_numpy(float),
        view["recency"].to_numpy(),
        view["T"].to_numpy(),
        w,
        shift,
    )
    th = np.array(theta)
    f, g = obj(th)
    fd = optimize.approx_fprime(th, lambda t: obj(t)[0], 1e-7)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-4 * max(1.0, abs(f)) * 1e-3)
    # the objective is the weighted sum of the per-row log-likelihood
    rows = _bg_loglik(
        np.exp(th),
        view["frequency"].to_numpy(float),
        view["recency"].to_numpy(),
        view["T"].to_numpy(),
        shift,
    )
    assert -f == pytest.approx(float(w @ rows), rel=1e-12)


# ------------------------------------------------------------ 2F1 accuracy
def test_alive_mean_matches_mpmath_on_a_grid() -> None:
    mpmath = pytest.importorskip("mpmath")
    grid = itertools.product(
        [0.05, 0.243, 3.0],
        [0.1, 4.414],
        [0.3, 0.793, 1.0, 1.00002, 2.5, 20.0],
        [0.2, 2.426, 40.0],
        [0, 1, 30, 1000],
        [1.0, 39.0, 1e4],
        [0.5, 52.0, 1e4],
    )
    worst = 0.0
    rng = np.random.default_rng(0)
    cases = list(grid)
    for i in rng.choice(len(cases), 250, replace=False):
        r, alpha, a, b, x, T, t = cases[i]
        R, B = r + x, b + x
        with mpmath.workdps(60):
            z = mpmath.mpf(t) / (alpha + T + t)

            def closed(aa, z=z, R=R, B=B):  # type: ignore[no-untyped-def]
                c = aa + B - 1
                return c / (aa - 1) * (1 - (1 - z) ** R * mpmath.hyp2f1(R, B, c, z))

            if a == 1.0:  # the removable singularity: symmetric limit
                eps = mpmath.mpf(10) ** -25
                ref = (closed(1 - eps) + closed(1 + eps)) / 2
            else:
                ref = closed(mpmath.mpf(a))
        got = _alive_mean(np.array([R]), np.array([B]), a, np.array([t / (alpha + T)]))[0]
        err = abs(got - float(ref)) / abs(float(ref))
        worst = max(worst, err)
        assert err < 1e-7, (r, alpha, a, b, x, T, t, got, float(ref))
    assert worst < 1e-7


def test_conditional_expectation_matches_quadrature() -> None:
    prm = {"r": 0.7, "alpha": 3.0, "a": 0.6, "b": 4.0}
    m = BetaGeo.from_params(**prm)
    view = small_view()
    t = 26.0
    got = m.conditional_expected_purchases(view, t)
    pa = m.p_alive(view)
    for cid in view.index:
        x, T = view.loc[cid, ["frequency", "T"]]
        R, B, s = prm["r"] + x, prm["b"] + x, t / (prm["alpha"] + T)
        dens = stats.beta(prm["a"], B).pdf
        val, _ = integrate.quad(
            lambda p, R=R, s=s, dens=dens: dens(p) * -np.expm1(-R * np.log1p(p * s)) / p,
            0,
            1,
            limit=200,
            epsabs=0,
            epsrel=1e-11,
        )
        assert got[cid] == pytest.approx(pa[cid] * val, rel=1e-7)


# ------------------------------------------------------------ predictions
def test_pmf_is_a_distribution_with_the_expected_mean() -> None:
    m = BetaGeo.from_params(**CDNOW)
    n = np.arange(4000)
    for t in (1.0, 39.0, 300.0):
        pmf = m.purchase_pmf(n, t)
        assert np.all(pmf >= 0)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
        assert float(n @ pmf) == pytest.approx(float(m.expected_purchases(t)), rel=1e-5)
    assert m.purchase_pmf(0, 0.0) == 1.0 and m.purchase_pmf(3, 0.0) == 0.0


def test_new_customer_expectation_matches_simulation() -> None:
    m = BetaGeo.from_params(**CDNOW)
    sim = m.sample(100_000, 39.0, seed=11)
    mean, se = sim["frequency"].mean(), sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(mean - float(m.expected_purchases(39.0))) < 4 * se
    assert np.all(sim["recency"] <= sim["T"]) and np.all(
        sim.loc[sim.frequency == 0, "recency"] == 0
    )


def test_predictions_are_indexed_named_and_bounded(fitted: BetaGeo, cdnow: pd.DataFrame) -> None:
    pa = fitted.p_alive(cdnow)
    ce = fitted.conditional_expected_purchases(cdnow, 39)
    assert pa.index.equals(cdnow.index) and pa.name == "p_alive"
    assert ce.index.equals(cdnow.index) and ce.name == "expected_purchases"
    assert pa.between(0, 1).all() and (pa[cdnow.frequency == 0] == 1).all()
    assert np.all(np.isfinite(ce)) and (ce >= 0).all()
    per = fitted.conditional_expected_purchases(cdnow, np.full(len(cdnow), 39.0))
    np.testing.assert_array_equal(per.to_numpy(), ce.to_numpy())
    plain = fitted.p_alive({c: cdnow[c].to_numpy() for c in ["frequency", "recency", "T"]})
    assert isinstance(plain.index, pd.RangeIndex)


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo])
@pytest.mark.parametrize(
    "params",
    [
        CDNOW,
        {"r": 1e-4, "alpha": 1e-4, "a": 1e-4, "b": 1e-4},
        {"r": 1e4, "alpha": 1e4, "a": 1e4, "b": 1e4},
        {"r": 1e-3, "alpha": 1e3, "a": 50.0, "b": 1e-3},
        {"r": 200.0, "alpha": 0.01, "a": 0.01, "b": 500.0},
        {"r": 0.5, "alpha": 2.0, "a": 1.0, "b": 2.0},
    ],
)
def test_extreme_inputs_give_finite_monotone_predictions(
    model: type[BetaGeo], params: dict[str, float]
) -> None:
    m = model.from_params(**params)
    freq = np.array([0, 1, 5, 100, 1000, 1000, 0, 3])
    T = np.array([1e4, 1e4, 1e4, 1e4, 1e4, 1000.0, 1e-3, 2.0])
    rec = np.array([0.0, 1e-3, 50.0, 9999.0, 1e4, 10.0, 0.0, 2.0])
    view = pd.DataFrame({"frequency": freq, "recency": rec, "T": T})
    pa = m.p_alive(view)
    assert np.all(np.isfinite(pa)) and pa.between(0, 1).all()
    ts = np.concatenate([[0.0], np.geomspace(1e-3, 1e4, 30)])
    ce = np.column_stack([m.conditional_expected_purchases(view, t).to_numpy() for t in ts])
    assert np.all(np.isfinite(ce)) and np.all(ce >= 0) and np.all(ce[:, 0] == 0)
    assert np.all(np.diff(ce, axis=1) >= -1e-9 * ce[:, 1:])
    ep = m.expected_purchases(ts)
    assert np.all(np.isfinite(ep)) and np.all(np.diff(ep) >= -1e-9 * ep[1:])
    pmf = m.purchase_pmf(np.arange(50), 1e4)
    assert np.all(np.isfinite(pmf)) and np.all(pmf >= 0) and pmf.sum() <= 1 + 1e-9
    assert np.all(np.isfinite(m.log_likelihood(view)))


# ------------------------------------------------------------ fitting
def test_parameter_recovery_100k_customers() -> None:
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 3.0}
    T = np.random.default_rng(5).uniform(20.0, 80.0, 100_000)
    view = BetaGeo.from_params(**truth).sample(100_000, T, seed=2024)
    m = BetaGeo().fit(view)
    for name, value in truth.items():
        est, se = getattr(m.params_, name), getattr(m.standard_errors_, name)
        assert abs(est - value) < 3 * se, (name, est, value, se)


def test_weighted_collapsed_rows_equal_full_fit(cdnow: pd.DataFrame) -> None:
    full = BetaGeo().fit(cdnow)
    agg = cdnow.groupby(["frequency", "recency", "T"], as_index=False).size()
    agg = agg.sample(frac=1.0, random_state=1)  # another row order
    coll = BetaGeo().fit(agg[["frequency", "recency", "T"]], weights=agg["size"].to_numpy())
    assert len(agg) < len(cdnow)
    for name in CDNOW:
        assert getattr(coll.params_, name) == pytest.approx(getattr(full.params_, name), rel=1e-6)
    assert coll.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-10)
    assert coll.n_customers_ == full.n_customers_


def test_penalizer_shrinks_parameters(cdnow: pd.DataFrame, fitted: BetaGeo) -> None:
    pen = BetaGeo(penalizer=0.1).fit(cdnow)
    assert pen.params_.alpha < fitted.params_.alpha
    assert pen.log_likelihood_ < fitted.log_likelihood_


def test_collapse_rows_is_exact() -> None:
    rng = np.random.default_rng(3)
    cols = [
        rng.integers(0, 4, 500).astype(float),
        rng.integers(0, 3, 500) * 0.5,
        np.full(500, -0.0),
    ]
    cols[2][::2] = 0.0
    w = rng.uniform(1, 2, 500)
    u, uw, inv = collapse_rows(cols, w)
    for c, uc in zip(cols, u, strict=True):
        np.testing.assert_array_equal(uc[inv], c)
    assert uw.sum() == pytest.approx(w.sum())
    _, ref_w, _ = collapse(cols, w)
    assert len(uw) == len(ref_w)


# ------------------------------------------------------------ contract
def test_inputs_are_not_mutated(cdnow: pd.DataFrame) -> None:
    view = cdnow.iloc[:300].copy()
    before = view.copy()
    w = np.ones(300)
    m = BetaGeo().fit(view, weights=w)
    m.p_alive(view)
    m.conditional_expected_purchases(view, 10)
    m.log_likelihood(view)
    pd.testing.assert_frame_equal(view, before)
    np.testing.assert_array_equal(w, np.ones(300))


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("frequency", np.nan, "NaN or infinite"),
        ("T", np.inf, "NaN or infinite"),
        ("recency", -1.0, "negative"),
        ("frequency", 1.5, "whole numbers"),
        ("recency", 99.0, "greater than T"),
        ("frequency", "3", "numeric"),
    ],
)
def test_bad_columns_are_refused_naming_the_column(
    column: str, value: object, problem: str
) -> None:
    view = small_view().astype({"frequency": object if isinstance(value, str) else float})
    view.loc["b", column] = value
    m = BetaGeo.from_params(**CDNOW)
    for call in (
        lambda: BetaGeo().fit(view),
        lambda: m.p_alive(view),
        lambda: m.conditional_expected_purchases(view, 1.0),
    ):
        with pytest.raises(SchemaError) as err:
            call()
        assert err.value.failures[0].column == column
        assert problem in str(err.value) and "'b'" in str(err.value)


def test_missing_column_and_bad_arguments() -> None:
    m = BetaGeo.from_params(**CDNOW)
    with pytest.raises(SchemaError, match=r"'T'.*missing"):
        m.p_alive(small_view().drop(columns="T"))
    with pytest.raises(SchemaError, match="argument\\['t'\\]"):
        m.conditional_expected_purchases(small_view(), -1)
    with pytest.raises(SchemaError, match="one value per customer"):
        m.conditional_expected_purchases(small_view(), [1.0, 2.0])
    with pytest.raises(SchemaError, match="argument\\['n'\\]"):
        m.purchase_pmf(1.5, 2.0)
    with pytest.raises(SchemaError, match="n_customers"):
        m.sample(-1, 2.0)


@pytest.mark.parametrize(
    ("view", "message"),
    [
        (pd.DataFrame({"frequency": [], "recency": [], "T": []}), "no customers"),
        (pd.DataFrame({"frequency": [2], "recency": [3.0], "T": [5.0]}), "single customer"),
        (
            pd.DataFrame({"frequency": [0, 0, 0], "recency": [0.0, 0, 0], "T": [5.0, 6, 7]}),
            "no repeat buyers: the dropout process cannot be identified",
        ),
    ],
)
def test_degenerate_data_is_refused(view: pd.DataFrame, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        BetaGeo().fit(view)


def test_params_clone_and_validation() -> None:
    m = BetaGeo(penalizer=0.5)
    clone = type(m)(**m.get_params())
    assert clone.get_params() == {
        "penalizer": 0.5,
        "purchase_covariates": None,
        "dropout_covariates": None,
        "shared_covariates": None,
    } and not hasattr(clone, "params_")
    assert repr(m) == "BetaGeo(penalizer=0.5)"
    with pytest.raises(InvalidParameterError, match="penalizer"):
        BetaGeo(penalizer=-1.0).fit(small_view())
    with pytest.raises(InvalidParameterError, match="r, alpha, a, b"):
        BetaGeo.from_params(r=1.0, alpha=1.0, a=1.0)
    with pytest.raises(InvalidParameterError, match="'b'"):
        BetaGeo.from_params(r=1.0, alpha=1.0, a=1.0, b=-2.0)
    known = BetaGeo.from_params(**CDNOW)
    assert np.isnan(known.log_likelihood_) and known.n_customers_ == 0


def test_not_fitted_errors() -> None:
    m = BetaGeo()
    for call in (
        lambda: m.p_alive(small_view()),
        lambda: m.expected_purchases(1.0),
        lambda: m.conditional_expected_purchases(small_view(), 1.0),
        lambda: m.purchase_pmf(1, 1.0),
        lambda: m.log_likelihood(small_view()),
        lambda: m.sample(3, 1.0),
        m.summary,
    ):
        with pytest.raises(NotFittedError):
            call()


def test_json_round_trip_is_bit_identical(tmp_path, fitted: BetaGeo, cdnow: pd.DataFrame) -> None:
    path = fitted.save(tmp_path / "bg.json")
    back = BetaGeo.load(path)
    assert back.params_ == fitted.params_ and back.get_params() == fitted.get_params()
    for a, b in [
        (fitted.p_alive(cdnow), back.p_alive(cdnow)),
        (
            fitted.conditional_expected_purchases(cdnow, 39),
            back.conditional_expected_purchases(cdnow, 39),
        ),
    ]:
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    np.testing.assert_array_equal(
        fitted.expected_purchases([1, 39]), back.expected_purchases([1, 39])
    )
    text = path.read_text()
    assert "recency" not in text and str(cdnow.index[5]) not in text
    assert json.loads(text)["model_type"] == "crmkit.value.BetaGeo"
    with pytest.raises(ModelFileError):
        ModifiedBetaGeo.load(path)
    unfitted = BetaGeo.from_dict(BetaGeo(penalizer=0.2).to_dict())
    assert unfitted.penalizer == 0.2 and not hasattr(unfitted, "params_")


def test_loading_another_models_file_raises(tmp_path) -> None:
    path = ModifiedBetaGeo.from_params(**CDNOW).save(tmp_path / "mbg.json")
    with pytest.raises(ModelFileError, match="not a"):
        BetaGeo.load(path)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1000),
            st.floats(0.0, 1.0),
            st.floats(1e-3, 1e4, allow_nan=False),
        ),
        min_size=1,
        max_size=20,
    ),
    st.floats(0.0, 1e4),
    st.sampled_from([BetaGeo, ModifiedBetaGeo]),
)
def test_property_predictions_valid_for_any_valid_view(
    rows: list[tuple[int, float, float]], t: float, model: type[BetaGeo]
) -> None:
    freq = np.array([r[0] for r in rows])
    T = np.array([r[2] for r in rows])
    rec = np.where(freq > 0, np.array([r[1] for r in rows]) * T, 0.0)
    view = pd.DataFrame({"frequency": freq, "recency": rec, "T": T})
    m = model.from_params(**CDNOW)
    pa = m.p_alive(view)
    ce = m.conditional_expected_purchases(view, t)
    assert pa.between(0, 1).all()
    assert np.all(np.isfinite(ce)) and (ce >= 0).all()
    assert np.all(np.isfinite(m.log_likelihood(view)))


@pytest.mark.parametrize("shift", [0, 1])
def test_analytic_hessian_matches_finite_differences(shift: int) -> None:
    rng = np.random.default_rng(4)
    view = BetaGeo.from_params(**CDNOW).sample(20_000, rng.uniform(5, 40, 20_000), seed=5)
    obj = _BGObjective(
        view["frequency"].to_numpy(float),
        view["recency"].to_numpy(),
        view["T"].to_numpy(),
        rng.uniform(0.5, 2.0, 20_000),
        shift,
    )
    p = np.array([0.3, 5.0, 0.9, 2.0])
    hess = obj.hessian(np.log(p))
    num = np.empty((4, 4))
    for j in range(4):
        h = 1e-6 * p[j]
        up, dn = p.copy(), p.copy()
        up[j] += h
        dn[j] -= h
        num[:, j] = (obj(np.log(up))[1] / up - obj(np.log(dn))[1] / dn) / (2 * h)
    np.testing.assert_allclose(hess, num, rtol=1e-6, atol=1e-6 * np.abs(num).max())


def test_large_fit_with_warm_start_equals_plain_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from crmkit.value import _purchase

    view = BetaGeo.from_params(**CDNOW).sample(
        80_000, np.random.default_rng(6).uniform(10, 50, 80_000), seed=7
    )
    warm = BetaGeo().fit(view)
    monkeypatch.setattr(_purchase, "_WARM_START_ROWS", 10**9)
    plain = BetaGeo().fit(view)
    for name in CDNOW:
        assert getattr(warm.params_, name) == pytest.approx(getattr(plain.params_, name), rel=1e-5)
    assert warm.log_likelihood_ == pytest.approx(plain.log_likelihood_, rel=1e-10)
