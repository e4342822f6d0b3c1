"""Tests of ParetoNBD (Pareto/NBD) and its log-space hypergeometric function.

Reference values marked "mpmath" were computed with mpmath at 40-80 digits:
``log 2F1(a, b; a+1; 1 - eps)`` and its derivatives with ``mpmath.hyp2f1``
and ``mpmath.diff``; the per-customer log-likelihood and P(alive) with
Fader & Hardie's (2005) closed form ``L = C [(alpha+T)^-(r+x) (beta+T)^-s +
s/(r+s+x) A0]``, ``A0`` from ``mpmath.hyp2f1`` in the ``alpha >= beta`` or
``alpha < beta`` form. When mpmath is importable, more points are checked
live.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from crmkit._estimator import BaseEstimator
from crmkit._persist import Persistable
from crmkit.exceptions import (
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    SchemaError,
)
from crmkit.value._hyp2f1 import _quadrature, _series, log_hyp2f1_c_a1, log_tanh_sinh
from crmkit.value._mle import CachedObjective
from crmkit.value._paretonbd import ParetoNBD, ParetoNBDParams
from crmkit.value._paretonbd_core import PNBDObjective, pnbd_loglik, pnbd_p_alive

try:
    from ._cdnow_ref import cdnow_summary
except ImportError:  # tests/unit/value is not a package
    from _cdnow_ref import cdnow_summary  # type: ignore[no-redef]

PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}

# (a, b, z, 1 - z, log 2F1(a, b; a+1; z), d/da, d/db, d/dz) -- mpmath
# fmt: off
HYP2F1_REF = [
    (0.02, 0.05, 0.9, 0.09999999999999998,
     0.0013079836290996474, 0.06433626899989335, 0.026750157095620387, 0.002678929597785079),
    (0.3, 0.7, 0.1, 0.9,
     0.01683976912172693, 0.04309689704661789, 0.02435476175814542, 0.17568983784529354),
    (2.5, 1.5, 0.45, 0.55,
     0.6161401109663244, 0.07022035641248943, 0.4237075888957693, 1.7996905777951742),
    (2.5, 3.3, 0.9999, 9.999999999998899e-05,
     21.26714908529841, 0.3999231080053453, 8.775646471452543, 23000.153739377016),
    (17.0, 1.0, 0.99, 0.010000000000000009,
     3.3251545153447206, 0.0316437407033878, 3.600733233471622, 44.58973079836283),
    (17.0, 3.3, 0.7, 0.30000000000000004,
     3.636902904917578, 0.015357725713296248, 1.114795056691785, 9.705280740040974),
    (350.0, 0.7, 0.45, 0.55,
     0.4168592842474163, 4.619885123514193e-06, 0.5955151328173695, 1.2661755084057695),
    (350.0, 1.5, 0.9, 0.09999999999999998,
     3.4170057935044227, 0.00010086638412995193, 2.2784296093579894, 14.60668410203083),
    (350.0, 40.0, 0.99999999, 1.0000000050247593e-08,
     720.6009202446884, 0.002857142593984984, 18.39503971570348, 3899999988.587649),
    (5000.0, 0.05, 0.0, 1.0,
     0.0, 0.0, 0.0, 0.04999000199960008),
    (5000.0, 600.0, 0.9999, 9.999999999998899e-05,
     5519.115078725633, 0.00019983289933762693, 9.208672319776063, 5990007.35409958),
    (0.06946106651780448, 0.011279770068755302, 0.9999999999999999, 1.0551076806488966e-16,
     0.0012370351106436455, 0.01696199315902556, 0.11054626801244044, 0.03559418055014621),
    (2.243673949800447, 0.7562951119661451, 0.902740353634907, 0.09725964636509296,
     0.9549375487621097, 0.1507196408892271, 1.3900600000006185, 3.0876646130396734),
    (290.4744330501615, 0.5604486756243051, 0.999999999998175, 1.8249961229119063e-12,
     3.879674971655658, 0.0019278220008391537, 7.965924651893516, 22758368.94593221),
    (0.08285542489034917, 0.0010290164747965996, 0.9999999999999976, 2.4028118809949383e-15,
     0.0001324366827225127, 0.0015094532145315592, 0.12879448207059613, 0.0029089472188279487),
    (0.05053517174792615, 0.029192516385725478, 0.9999999999604277, 3.957229888864421e-11,
     0.002390684253349746, 0.045620421578678814, 0.08364188695377749, 0.05091056733583308),
    (211.6907776908314, 0.034202672414244475, 0.8063931928033305, 0.19360680719666948,
     0.05550124874076045, 3.0313948579482633e-06, 1.6227227557810489, 0.172531097547827),
    (712.3843866406166, 0.0030915203182143823, 0.9998356526684685, 0.0001643473315315278,
     0.021100295576966445, 3.3739820692206808e-06, 6.826420020976614, 4.171573429732239),
    (38.31302911118896, 0.753737855722431, 0.9999999926616249, 7.3383750790531355e-09,
     4.027187769408037, 0.01943096791258968, 7.52279178777307, 923736.9993062044),
]
# fmt: on

# ((r, alpha, s, beta), (x, t_x, T), log-likelihood, P(alive)) -- mpmath
LOGLIK_REF = [
    ((0.553, 10.578, 0.606, 11.669), (0, 0, 38.86), -0.5210462940808904, 0.29528660461689415),
    ((0.553, 10.578, 0.606, 11.669), (2, 30.43, 38.86), -9.554283245150407, 0.8691675591530112),
    ((0.553, 10.578, 0.606, 11.669), (300, 38.0, 39.0), 239.71881650087673, 0.5241052051920683),
    ((0.553, 10.578, 0.606, 11.669), (1000, 38.9, 39.0), 2003.278034863454, 0.9961364823688491),
    ((0.553, 10.578, 0.606, 11.669), (5, 1.0, 39.0), -11.164520714445956, 0.0014609450005669392),
    ((0.01, 1e-4, 50.0, 1e4), (5, 3.0, 40.0), -12.610995507906287, 0.0005165381743939245),
    ((0.01, 1e-4, 50.0, 1e4), (400, 39.0, 40.0), 516.6710161730739, 0.07556702406081886),
    ((0.01, 1e-4, 50.0, 1e4), (0, 0, 40.0), -0.127071898988487, 0.8174860931855427),
    ((100.0, 1e3, 0.05, 1e-3), (350, 20.0, 52.0), -494.5033748782438, 0.0001709536112458587),
    ((100.0, 1e3, 0.05, 1e-3), (0, 0, 52.0), -1.0412496559513948, 0.010347475655812809),
    ((100.0, 1e3, 0.05, 1e-3), (30, 51.0, 52.0), -72.23359499153392, 0.9989669056587333),
    ((2.0, 500.0, 3.0, 0.01), (0, 0, 10.0), -1.9998982931008282e-05, 9.583101973473067e-10),
    ((2.0, 500.0, 3.0, 0.01), (10, 2.0, 10.0), -60.62413348976067, 0.006849802124310745),
    ((2.0, 500.0, 3.0, 0.01), (700, 9.99, 10.0), -488.3470182141926, 0.9969853377971434),
    ((1.0, 5.0, 1.0, 5.0), (3, 10.0, 20.0), -9.868232908472526, 0.2965584574078594),
    ((1.0, 5.0, 1.0, 5.0), (0, 0, 20.0), -0.653926467406664, 0.07692307692307693),
    ((1e4, 1e4, 1e3, 1e3), (500, 30.0, 52.0), -49.47107570772934, 1.4061792049734915e-19),
    ((1e4, 1e4, 1e3, 1e3), (1000, 51.0, 52.0), -57.96221046835553, 0.2421070228588639),
    ((0.3, 2.0, 0.2, 1e6), (2000, 100.0, 104.0), 3930.582045926562, 3.7574411846114687e-26),
    ((0.3, 2.0, 0.2, 1e6), (1, 0.5, 104.0), -7.058373466508465, 0.9998532058616643),
]


def arrays(view: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        view["frequency"].to_numpy(float, copy=True),
        view["recency"].to_numpy(float, copy=True),
        view["T"].to_numpy(float, copy=True),
    )


def small_view() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": [0, 2, 5, 1],
            "recency": [0.0, 10.5, 30.0, 3.0],
            "T": [20.0, 38.0, 31.0, 5.0],
        },
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return cdnow_summary(rounded=True)


@pytest.fixture(scope="module")
def fitted(cdnow: pd.DataFrame) -> ParetoNBD:
    return ParetoNBD().fit(cdnow)


# ------------------------------------------------------------ published fit
def test_cdnow_published_estimates_on_the_two_decimal_summary(fitted: ParetoNBD) -> None:
    got = {k: getattr(fitted.params_, k) for k in PUBLISHED}
    for k in ("r", "alpha", "s"):
        assert round(got[k], 3) == PUBLISHED[k], (k, got[k])
    # the exact maximum on the 2-decimal summary is beta = 11.6679 (flat: se 6.2);
    # the unrounded summary gives 11.6687 (next test)
    assert abs(got["beta"] - PUBLISHED["beta"]) < 1.5e-3
    assert abs(fitted.log_likelihood_ - (-9595.0)) < 0.1
    assert fitted.converged_ and fitted.n_customers_ == 2357
    se = fitted.summary()["se"]
    assert np.all(np.isfinite(se)) and np.all(se > 0)


def test_cdnow_published_estimates_on_the_unrounded_summary() -> None:
    m = ParetoNBD().fit(cdnow_summary(rounded=False))
    assert {k: round(getattr(m.params_, k), 3) for k in PUBLISHED} == PUBLISHED
    assert abs(m.log_likelihood_ - (-9595.0)) < 0.1


def test_fit_reaches_the_maximum(fitted: ParetoNBD, cdnow: pd.DataFrame) -> None:
    obj = PNBDObjective(*arrays(cdnow), np.ones(len(cdnow)))
    theta = np.log(np.array([getattr(fitted.params_, k) for k in PUBLISHED]))
    f, g = obj(theta)
    assert -f == pytest.approx(fitted.log_likelihood_, rel=1e-13)
    assert np.max(np.abs(g)) < 1e-4  # the Newton polish leaves no visible gradient


def test_log_likelihood_per_customer_sums_to_total(fitted: ParetoNBD, cdnow: pd.DataFrame) -> None:
    ll = fitted.log_likelihood(cdnow)
    assert ll.index.equals(cdnow.index) and ll.name == "log_likelihood"
    assert ll.sum() == pytest.approx(fitted.log_likelihood_, rel=1e-12)


# ------------------------------------------------------------ accuracy vs mpmath
@pytest.mark.parametrize("row", HYP2F1_REF)
def test_hyp2f1_and_its_gradient_match_mpmath(row: tuple[float, ...]) -> None:
    a, b, z, eps, value, da, db, dz = row
    res = log_hyp2f1_c_a1(a, b, z, one_minus_z=eps, gradient=True)
    assert float(res.value) == pytest.approx(value, rel=1e-10, abs=1e-12)
    assert float(res.d_a) == pytest.approx(da, rel=1e-7, abs=1e-10)
    assert float(res.d_b) == pytest.approx(db, rel=1e-8, abs=1e-10)
    assert float(res.d_z) == pytest.approx(dz, rel=1e-8, abs=1e-10)


@pytest.mark.parametrize(("params", "history", "loglik", "alive"), LOGLIK_REF)
def test_loglik_and_p_alive_match_mpmath(
    params: tuple[float, ...], history: tuple[float, ...], loglik: float, alive: float
) -> None:
    p = np.array(params)
    x, tx, T = (np.array([float(v)]) for v in history)
    assert pnbd_loglik(p, x, tx, T)[0] == pytest.approx(loglik, rel=1e-12, abs=1e-12)
    assert pnbd_p_alive(p, x, tx, T)[0] == pytest.approx(alive, rel=1e-10)


def test_hyp2f1_matches_live_mpmath_on_random_points() -> None:
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(11)
    a = np.exp(rng.uniform(np.log(0.01), np.log(3000.0), 40))
    b = np.exp(rng.uniform(np.log(0.01), np.log(a + 1.0)))
    eps = np.exp(rng.uniform(np.log(1e-12), np.log(1.0), 40))
    res = log_hyp2f1_c_a1(a, b, 1.0 - eps, one_minus_z=eps, c0=a + 1.0 - b)
    with mpmath.workdps(40):
        for i in range(40):
            ref = mpmath.log(mpmath.hyp2f1(a[i], b[i], a[i] + 1, 1 - mpmath.mpf(eps[i])))
            assert res.value[i] == pytest.approx(float(ref), rel=1e-10, abs=1e-12)


def test_series_and_quadrature_agree_where_both_apply() -> None:
    rng = np.random.default_rng(2)
    a = np.exp(rng.uniform(np.log(0.05), np.log(500.0), 200))
    b = np.exp(rng.uniform(np.log(0.05), np.log(a + 0.9)))
    z = rng.uniform(0.3, 0.6, 200)
    s = _series(a, b, a + 1.0 - b, z, np.log1p(-z), np.full(200, 256), True)
    q = _quadrature(a, b, z, 1.0 - z, True)
    for got, ref in zip(q, s, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-12)
    # elements of different lengths, sorted longest first, as the dispatcher passes them
    lengths = np.array([300, 200, 150, 150, 3])
    part = _series(a[:5], b[:5], a[:5] + 1.0 - b[:5], z[:5], np.log1p(-z[:5]), lengths, False)
    np.testing.assert_allclose(part[0][:4], s[0][:4], rtol=1e-13)
    assert part[0][4] < s[0][4]  # 3 terms: a partial sum


def test_tanh_sinh_integrates_endpoint_singularities() -> None:
    # integral_0^1 v^(-1/2) dv = 2 and integral_0^1 log(1/v) dv = 1
    out = log_tanh_sinh(lambda lv, l1mv: np.vstack([-0.5 * lv, np.log(-lv)]))
    np.testing.assert_allclose(np.exp(out), [2.0, 1.0], rtol=1e-13)


# ------------------------------------------------------------ gradient
@pytest.mark.parametrize(
    "params",
    [
        [0.553, 10.578, 0.606, 11.669],  # alpha < beta
        [1.3, 0.4, 7.0, 1.6],  # alpha > beta
        [1.0, 5.0, 2.0, 5.0],  # alpha == beta (z = 0)
        [3.0, 1e3, 0.1, 1e-2],  # z close to 1
        [0.2, 1e-3, 40.0, 2.0],  # z close to 1, alpha < beta
    ],
)
def test_gradient_matches_central_differences(params: list[float]) -> None:
    rng = np.random.default_rng(7)
    view = ParetoNBD.from_params(**PUBLISHED).sample(400, rng.uniform(1, 40, 400), seed=3)
    x, tx, T = arrays(view)
    x[:3] = [400.0, 1200.0, 0.0]  # heavy buyers
    tx[:3] = [T[0] * 0.9, T[1], 0.0]
    w = rng.uniform(0.5, 3.0, 400)
    obj = PNBDObjective(x, tx, T, w)
    theta = np.log(np.array(params))
    f, g = obj(theta)
    fd = np.empty(4)
    for j in range(4):
        step = np.zeros(4)
        step[j] = 1e-5
        fd[j] = (obj(theta + step)[0] - obj(theta - step)[0]) / 2e-5
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9 * max(1.0, abs(f)))
    # the objective is the weighted sum of the per-row log-likelihood
    assert -f == pytest.approx(float(w @ pnbd_loglik(np.exp(theta), x, tx, T)), rel=1e-12)


# ------------------------------------------------------------ predictions
def test_conditional_expectation_matches_quadrature() -> None:
    # E[Y(t) | history] = E[lambda^(x+1) e^(-lambda T)] E[e^(-mu T) (1 - e^(-mu t)) / mu] / L
    r, alpha, s, beta = 0.8, 4.0, 1.3, 9.0
    m = ParetoNBD.from_params(r=r, alpha=alpha, s=s, beta=beta)
    view = pd.DataFrame(
        {"frequency": [0, 3, 12], "recency": [0.0, 12.0, 19.5], "T": [20.0, 25.0, 20.0]}
    )
    t = 15.0
    got = m.conditional_expected_purchases(view, t)
    lik = np.exp(m.log_likelihood(view).to_numpy())
    glam, gmu = stats.gamma(r, scale=1.0 / alpha), stats.gamma(s, scale=1.0 / beta)
    opts = {"epsabs": 0.0, "epsrel": 1e-11, "limit": 200}
    for i, (x, _, T) in enumerate(zip(*arrays(view), strict=True)):

        def f_lam(v: float, x: float = x, T: float = T) -> float:
            return float(glam.pdf(v)) * v ** (x + 1) * math.exp(-v * T)

        def f_mu(v: float, T: float = T) -> float:
            return float(gmu.pdf(v)) * math.exp(-v * T) * -math.expm1(-v * t) / v

        lam = integrate.quad(f_lam, 0, np.inf, **opts)[0]
        mu = integrate.quad(f_mu, 0, np.inf, **opts)[0]
        assert got.iloc[i] == pytest.approx(lam * mu / lik[i], rel=1e-8)


def test_pmf_is_a_distribution_with_the_expected_mean() -> None:
    heavy = {"r": 30.0, "alpha": 3.0, "s": 10.0, "beta": 200.0}  # interior peak near n = 400
    for params, horizons in ((PUBLISHED, (1.0, 39.0, 300.0)), (heavy, (1.0, 39.0))):
        m = ParetoNBD.from_params(**params)
        n = np.arange(3000)
        for t in horizons:
            pmf = m.purchase_pmf(n, t)
            assert np.all(pmf >= 0) and np.all(np.isfinite(pmf))
            assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
            assert float(n @ pmf) == pytest.approx(float(m.expected_purchases(t)), rel=1e-9)
    m = ParetoNBD.from_params(**PUBLISHED)
    assert m.purchase_pmf(0, 0.0) == 1.0 and m.purchase_pmf(3, 0.0) == 0.0
    assert m.purchase_pmf([[0], [1]], [1.0, 2.0]).shape == (2, 2)


def test_pmf_and_expectation_match_simulation() -> None:
    m = ParetoNBD.from_params(**PUBLISHED)
    sim = m.sample(100_000, 39.0, seed=11)
    counts = np.bincount(sim["frequency"], minlength=4)[:4] / len(sim)
    pmf = m.purchase_pmf(np.arange(4), 39.0)
    assert np.all(np.abs(counts - pmf) < 4 * np.sqrt(pmf * (1 - pmf) / len(sim)))
    mean, se = sim["frequency"].mean(), sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(mean - float(m.expected_purchases(39.0))) < 4 * se
    assert np.all(sim["recency"] <= sim["T"])
    assert np.all(sim.loc[sim.frequency == 0, "recency"] == 0)


def test_predictions_are_indexed_named_and_bounded(fitted: ParetoNBD, cdnow: pd.DataFrame) -> None:
    pa = fitted.p_alive(cdnow)
    ce = fitted.conditional_expected_purchases(cdnow, 39)
    assert pa.index.equals(cdnow.index) and pa.name == "p_alive"
    assert ce.index.equals(cdnow.index) and ce.name == "expected_purchases"
    assert pa.between(0, 1).all() and np.all(np.isfinite(ce)) and (ce >= 0).all()
    per = fitted.conditional_expected_purchases(cdnow, np.full(len(cdnow), 39.0))
    np.testing.assert_array_equal(per.to_numpy(), ce.to_numpy())
    plain = fitted.p_alive({c: cdnow[c].to_numpy() for c in ["frequency", "recency", "T"]})
    assert isinstance(plain.index, pd.RangeIndex)
    # a brand-new customer's conditional expectation is the population's
    new = {"frequency": [0], "recency": [0.0], "T": [0.0]}
    assert fitted.conditional_expected_purchases(new, 39).iloc[0] == pytest.approx(
        float(fitted.expected_purchases(39)), rel=1e-12
    )


def test_s_equal_one_is_the_continuous_limit() -> None:
    view = small_view()
    at = ParetoNBD.from_params(r=0.7, alpha=4.0, s=1.0, beta=9.0)
    near = [ParetoNBD.from_params(r=0.7, alpha=4.0, s=1.0 + d, beta=9.0) for d in (-1e-7, 1e-7)]
    for fn in (
        lambda m: m.expected_purchases(np.array([1.0, 52.0])),
        lambda m: m.conditional_expected_purchases(view, 52.0).to_numpy(),
    ):
        mid = fn(at)
        assert np.all(np.isfinite(mid))
        for other in near:
            np.testing.assert_allclose(fn(other), mid, rtol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        PUBLISHED,
        {"r": 1e-4, "alpha": 1e-4, "s": 1e-4, "beta": 1e-4},
        {"r": 1e4, "alpha": 1e4, "s": 1e4, "beta": 1e4},
        {"r": 1e-3, "alpha": 1e3, "s": 50.0, "beta": 1e-3},
        {"r": 200.0, "alpha": 0.01, "s": 0.01, "beta": 500.0},
        {"r": 0.5, "alpha": 1e6, "s": 2.0, "beta": 1e-6},
    ],
)
def test_extreme_inputs_give_finite_monotone_predictions(params: dict[str, float]) -> None:
    m = ParetoNBD.from_params(**params)
    freq = np.array([0, 1, 5, 300, 1000, 5000, 0, 3])
    T = np.array([1e4, 1e4, 1e4, 1e4, 1e4, 1000.0, 1e-3, 2.0])
    rec = np.array([0.0, 1e-3, 50.0, 9999.0, 1e4, 10.0, 0.0, 2.0])
    view = pd.DataFrame({"frequency": freq, "recency": rec, "T": T})
    pa = m.p_alive(view)
    assert np.all(np.isfinite(pa)) and pa.between(0, 1).all()
    assert np.all(np.isfinite(m.log_likelihood(view)))
    ts = np.concatenate([[0.0], np.geomspace(1e-3, 1e4, 30)])
    ce = np.column_stack([m.conditional_expected_purchases(view, t).to_numpy() for t in ts])
    assert np.all(np.isfinite(ce)) and np.all(ce >= 0) and np.all(ce[:, 0] == 0)
    assert np.all(np.diff(ce, axis=1) >= -1e-12 * ce[:, 1:])
    ep = m.expected_purchases(ts)
    assert np.all(np.isfinite(ep)) and np.all(np.diff(ep) >= -1e-12 * ep[1:])
    pmf = m.purchase_pmf(np.arange(50), 1e4)
    assert np.all(np.isfinite(pmf)) and np.all(pmf >= 0) and pmf.sum() <= 1 + 1e-9
    _, g = PNBDObjective(*(c.astype(float) for c in (freq, rec, T)), np.ones(8))(
        np.log(np.array(list(params.values())))
    )
    assert np.all(np.isfinite(g))


@settings(max_examples=60, deadline=None)
@given(
    st.tuples(*[st.floats(-6.0, 8.0) for _ in range(4)]),
    st.lists(
        st.tuples(st.integers(0, 3000), st.floats(0.0, 1.0), st.floats(0.0, 2000.0)),
        min_size=1,
        max_size=12,
    ),
)
def test_property_loglik_and_p_alive_valid_for_any_valid_input(
    log_params: tuple[float, ...], rows: list[tuple[int, float, float]]
) -> None:
    p = np.exp(np.array(log_params))
    x = np.array([r[0] for r in rows], dtype=float)
    T = np.array([r[2] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows]) * T, 0.0)
    ll = pnbd_loglik(p, x, tx, T)
    pa = pnbd_p_alive(p, x, tx, T)
    assert np.all(np.isfinite(ll))
    assert np.all(np.isfinite(pa)) and np.all((pa >= 0) & (pa <= 1))
    f, g = PNBDObjective(x, tx, T, np.ones(len(x)))(np.array(log_params))
    assert np.isfinite(f) and np.all(np.isfinite(g))


# ------------------------------------------------------------ fitting
def test_parameter_recovery_100k_customers() -> None:
    truth = {"r": 0.8, "alpha": 6.0, "s": 0.7, "beta": 15.0}
    T = np.random.default_rng(5).uniform(20.0, 80.0, 100_000).round(1)
    view = ParetoNBD.from_params(**truth).sample(100_000, T, seed=2024)
    m = ParetoNBD().fit(view)
    for name, value in truth.items():
        est, se = getattr(m.params_, name), getattr(m.standard_errors_, name)
        assert abs(est - value) < 3 * se, (name, est, value, se)


def test_weighted_collapsed_rows_equal_full_fit(cdnow: pd.DataFrame, fitted: ParetoNBD) -> None:
    agg = cdnow.groupby(["frequency", "recency", "T"], as_index=False).size()
    agg = agg.sample(frac=1.0, random_state=1)  # another row order
    coll = ParetoNBD().fit(agg[["frequency", "recency", "T"]], weights=agg["size"].to_numpy())
    assert len(agg) < len(cdnow)
    for name in PUBLISHED:
        assert getattr(coll.params_, name) == pytest.approx(getattr(fitted.params_, name), rel=1e-7)
    assert coll.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-12)
    assert coll.n_customers_ == fitted.n_customers_


def test_penalizer_shrinks_parameters(cdnow: pd.DataFrame, fitted: ParetoNBD) -> None:
    pen = ParetoNBD(penalizer=0.05).fit(cdnow)
    assert pen.params_.alpha < fitted.params_.alpha and pen.params_.beta < fitted.params_.beta
    assert pen.log_likelihood_ < fitted.log_likelihood_


def test_random_parameter_draws_fit_without_failure() -> None:
    # identifiable region (enough dropouts within the window); the benchmark
    # loops over 50 draws of a wider region with 10^4 customers each
    rng = np.random.default_rng(123)
    for _ in range(5):
        truth = {
            "r": float(np.exp(rng.uniform(np.log(0.2), np.log(5.0)))),
            "alpha": float(np.exp(rng.uniform(np.log(0.5), np.log(30.0)))),
            "s": float(np.exp(rng.uniform(np.log(0.3), np.log(3.0)))),
            "beta": float(np.exp(rng.uniform(np.log(1.0), np.log(30.0)))),
        }
        view = ParetoNBD.from_params(**truth).sample(3000, rng.uniform(26, 78, 3000), seed=rng)
        m = ParetoNBD().fit(view)
        est = np.array([getattr(m.params_, k) for k in truth])
        assert m.converged_ and np.all(np.isfinite(est)) and np.isfinite(m.log_likelihood_)
        assert np.all(np.isfinite(m.p_alive(view)))


# ------------------------------------------------------------ contract
def test_inputs_are_not_mutated(cdnow: pd.DataFrame) -> None:
    view = cdnow.iloc[:300].copy()
    before = view.copy()
    w = np.ones(300)
    m = ParetoNBD().fit(view, weights=w)
    m.p_alive(view)
    m.conditional_expected_purchases(view, 10)
    m.log_likelihood(view)
    pd.testing.assert_frame_equal(view, before)
    np.testing.assert_array_equal(w, np.ones(300))
    assert not hasattr(m, "_pending_objective")  # no customer data kept


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
    m = ParetoNBD.from_params(**PUBLISHED)
    for call in (
        lambda: ParetoNBD().fit(view),
        lambda: m.p_alive(view),
        lambda: m.conditional_expected_purchases(view, 1.0),
        lambda: m.log_likelihood(view),
    ):
        with pytest.raises(SchemaError) as err:
            call()
        assert err.value.failures[0].column == column
        assert problem in str(err.value) and "'b'" in str(err.value)


def test_missing_column_and_bad_arguments() -> None:
    m = ParetoNBD.from_params(**PUBLISHED)
    with pytest.raises(SchemaError, match=r"'T'.*missing"):
        m.p_alive(small_view().drop(columns="T"))
    with pytest.raises(SchemaError, match=r"argument\['t'\]"):
        m.conditional_expected_purchases(small_view(), -1)
    with pytest.raises(SchemaError, match=r"argument\['t'\]"):
        m.conditional_expected_purchases(small_view(), [1.0, 2.0])
    with pytest.raises(SchemaError, match=r"argument\['t'\]"):
        m.expected_purchases(np.nan)
    with pytest.raises(SchemaError, match=r"argument\['n'\]"):
        m.purchase_pmf(1.5, 2.0)
    with pytest.raises(SchemaError, match="n_customers"):
        m.sample(-1, 2.0)
    with pytest.raises(SchemaError, match=r"argument\['T'\]"):
        m.sample(3, [1.0, 2.0])


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
        ParetoNBD().fit(view)


def test_params_clone_and_validation() -> None:
    m = ParetoNBD(penalizer=0.5)
    clone = type(m)(**m.get_params())
    assert clone.get_params() == {
        "penalizer": 0.5,
        "purchase_covariates": None,
        "dropout_covariates": None,
        "shared_covariates": None,
    } and not hasattr(clone, "params_")
    assert repr(m) == "ParetoNBD(penalizer=0.5)"
    fitted_copy = copy.deepcopy(ParetoNBD.from_params(**PUBLISHED))
    assert fitted_copy.params_ == ParetoNBDParams(**PUBLISHED)
    with pytest.raises(InvalidParameterError, match="penalizer"):
        ParetoNBD(penalizer=-1.0).fit(small_view())
    with pytest.raises(InvalidParameterError, match="r, alpha, s, beta"):
        ParetoNBD.from_params(r=1.0, alpha=1.0, s=1.0)
    with pytest.raises(InvalidParameterError, match="'beta'"):
        ParetoNBD.from_params(r=1.0, alpha=1.0, s=1.0, beta=float("nan"))
    known = ParetoNBD.from_params(**PUBLISHED)
    assert np.isnan(known.log_likelihood_) and known.n_customers_ == 0


def test_not_fitted_errors() -> None:
    m = ParetoNBD()
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


def test_json_round_trip_is_bit_identical(tmp_path, fitted: ParetoNBD, cdnow: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    path = fitted.save(tmp_path / "pnbd.json")
    back = ParetoNBD.load(path)
    assert back.params_ == fitted.params_ and back.get_params() == fitted.get_params()
    assert back.standard_errors_ == fitted.standard_errors_
    for a, b in [
        (fitted.p_alive(cdnow), back.p_alive(cdnow)),
        (fitted.log_likelihood(cdnow), back.log_likelihood(cdnow)),
        (
            fitted.conditional_expected_purchases(cdnow, 39),
            back.conditional_expected_purchases(cdnow, 39),
        ),
    ]:
        np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    np.testing.assert_array_equal(
        fitted.expected_purchases([1, 39]), back.expected_purchases([1, 39])
    )
    np.testing.assert_array_equal(fitted.purchase_pmf([0, 4], 39), back.purchase_pmf([0, 4], 39))
    text = path.read_text()
    assert "recency" not in text and str(cdnow.index[5]) not in text
    assert json.loads(text)["model_type"] == "crmkit.value.ParetoNBD"
    unfitted = ParetoNBD.from_dict(ParetoNBD(penalizer=0.2).to_dict())
    assert unfitted.penalizer == 0.2 and not hasattr(unfitted, "params_")


class _OtherModel(BaseEstimator, Persistable):
    model_type = "tests.value.OtherModel"

    def __init__(self, k: int = 1) -> None:
        self.k = k


def test_loading_another_models_file_raises(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _OtherModel().save(tmp_path / "other.json")
    with pytest.raises(ModelFileError, match="not a"):
        ParetoNBD.load(path)
    path = ParetoNBD.from_params(**PUBLISHED).save(tmp_path / "pnbd.json")
    with pytest.raises(ModelFileError, match="not a"):
        _OtherModel.load(path)


def test_sample_is_reproducible_and_typed() -> None:
    m = ParetoNBD.from_params(**PUBLISHED)
    a = m.sample(500, np.linspace(1, 50, 500), seed=4)
    b = m.sample(500, np.linspace(1, 50, 500), seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert a.index.name == "customer_id" and list(a.columns) == ["frequency", "recency", "T"]
    assert a["frequency"].dtype == np.int64
    assert np.all(a["recency"] <= a["T"]) and np.all(a["recency"] >= 0)
    assert len(m.sample(0, 5.0)) == 0


def test_large_fit_polishes_on_the_full_data(monkeypatch: pytest.MonkeyPatch) -> None:
    # > 60,000 distinct rows: fit also builds a subsample objective (warm start);
    # the Newton polish and the stored log-likelihood must use the full data
    import crmkit.value._paretonbd as module

    seen: list[int] = []
    original = module.polish

    def spy(objective, result, penalizer):  # type: ignore[no-untyped-def]
        seen.append(len(objective.objective.x))
        return original(objective, result, penalizer)

    T = np.random.default_rng(8).uniform(20.0, 52.0, 65_000)
    view = ParetoNBD.from_params(**PUBLISHED).sample(65_000, T, seed=5)
    monkeypatch.setattr(module, "polish", spy)
    m = ParetoNBD().fit(view)
    assert seen == [65_000]
    assert m.log_likelihood_ == pytest.approx(float(m.log_likelihood(view).sum()), rel=1e-12)


def test_large_fit_with_quasi_newton_equals_plain_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    # > 60,000 distinct rows: subsample fit, then quasi-Newton on the full data
    # from a numerical Hessian, with no optimiser run when Newton converges
    from crmkit.value import _purchase

    T = np.random.default_rng(8).uniform(20.0, 52.0, 65_000)
    view = ParetoNBD.from_params(**PUBLISHED).sample(65_000, T, seed=5)
    calls: list[str] = []
    original = _purchase.fit_mle

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append("newton" if kwargs.get("converged_start") is not None else "optimiser")
        return original(*args, **kwargs)

    monkeypatch.setattr(_purchase, "fit_mle", spy)
    warm = ParetoNBD().fit(view)
    assert calls[-1] == "newton"
    monkeypatch.setattr(_purchase, "_WARM_START_ROWS", 10**9)
    plain = ParetoNBD().fit(view)
    assert calls[-1] == "optimiser"
    for name in PUBLISHED:
        assert getattr(warm.params_, name) == pytest.approx(getattr(plain.params_, name), rel=1e-4)
        assert getattr(warm.standard_errors_, name) == pytest.approx(
            getattr(plain.standard_errors_, name), rel=1e-3
        )
    assert warm.log_likelihood_ >= plain.log_likelihood_ - 1e-6


def test_numerical_hessian_matches_central_differences(cdnow: pd.DataFrame) -> None:
    data = [cdnow[c].to_numpy(np.float64) for c in ("frequency", "recency", "T")]
    obj = CachedObjective(PNBDObjective(*data, np.ones(len(cdnow))))
    p = np.array([PUBLISHED[k] for k in ("r", "alpha", "s", "beta")])
    hess = obj.hessian(np.log(p))
    num = np.empty((4, 4))
    for j in range(4):
        h = 1e-5 * p[j]
        up, dn = p.copy(), p.copy()
        up[j] += h
        dn[j] -= h
        num[:, j] = (obj(np.log(up))[1] / up - obj(np.log(dn))[1] / dn) / (2 * h)
    np.testing.assert_allclose(hess, 0.5 * (num + num.T), rtol=1e-4, atol=1e-6 * np.abs(num).max())
    assert obj(np.log(p))[0] == obj.objective(np.log(p))[0]  # the memo returns the centre


@pytest.mark.parametrize(
    ("a", "b", "z", "word"),
    [(-1.0, 1.0, 0.5, "'a'"), (1.0, 0.0, 0.5, "'b'"), (1.0, 1.0, 1.0, "'z'"),
     (float("nan"), 1.0, 0.5, "'a'"), (1.0, 1.0, -0.1, "'z'")],
)  # fmt: skip
def test_hyp2f1_refuses_arguments_outside_its_domain(
    a: float, b: float, z: float, word: str
) -> None:
    with pytest.raises(InvalidParameterError, match=word):
        log_hyp2f1_c_a1([a], [b], [z])
