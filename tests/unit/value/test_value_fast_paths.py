"""The shared-work paths of the value models equal the row-by-row computations exactly.

Pareto/NBD predictions evaluate the tail integral once per distinct
``(x, t)`` pair, CLV's sub-periods share P(alive), the likelihood takes the
functions of ``T`` once per distinct ``T``, the Gamma-Gamma the gamma
functions once per distinct ``x``, and the two-segment quadrature writes its
nodes in place: each must give the very same floats as before.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import digamma, gammaln

from crmkit.value._gammagamma import _loglik_and_grad, _spend_rows
from crmkit.value._hyp2f1 import _NODES, _finish, _n_terms, _quadrature, _segment, _series
from crmkit.value._paretonbd_core import (
    PNBDObjective,
    _distinct_pairs,
    _log_g,
    _log_g_rows,
    _log_poch,
    pnbd_conditional,
    pnbd_conditional_path,
    pnbd_p_alive,
)

PARAMS = [
    np.array([1.27, 3.45, 1.21, 188.8]),  # alpha < beta
    np.array([0.55, 10.6, 0.61, 11.7]),  # alpha close to beta
    np.array([0.24, 40.0, 2.5, 4.0]),  # alpha > beta
    np.array([2e-9, 9.4e3, 2e-9, 4.9e8]),  # an optimiser's far step: quadrature
]


def _histories(rng: np.random.Generator, n: int, grid: int) -> tuple[np.ndarray, ...]:
    """Histories with many repeated values (``grid`` distinct times)."""
    x = rng.integers(0, 30, n).astype(np.float64)
    T = rng.integers(1, grid, n) / 7.0 + 1.0
    tx = np.where(x > 0, np.floor(rng.uniform(0.0, 1.0, n) * T * 7.0) / 7.0, 0.0)
    return x, tx, T


def _old_alive(p: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, s, beta = (float(v) for v in p)
    la, lb = np.log1p(T / alpha), np.log1p(T / beta)
    out: np.ndarray = -r * la - x * np.log(alpha + T) - s * lb
    return out


def _old_p_alive(p: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive) as computed row by row before the pairs were shared."""
    l1, _ = _log_g(p, x, tx, False)
    l2, _ = _log_g(p, x, T, False)
    with np.errstate(divide="ignore"):
        log_i = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))
    l_dead = np.where(l1 > l2, np.log(float(p[2])) + log_i, -np.inf)
    l_alive = _old_alive(p, x, T)
    out: np.ndarray = np.exp(l_alive - np.logaddexp(l_alive, l_dead))
    return out


@pytest.mark.parametrize("grid", [40, 4000])  # the table of pairs, and hashing
@pytest.mark.parametrize("k", range(len(PARAMS)))
def test_tail_integral_once_per_pair_equals_row_by_row(grid: int, k: int) -> None:
    rng = np.random.default_rng(k + grid)
    x, tx, T = _histories(rng, 3000, grid)
    p = PARAMS[k]
    ux, inv = np.unique(x, return_inverse=True)
    l1, l2 = _log_g_rows(p, x, (tx, T), ux, inv.reshape(-1))
    assert np.array_equal(l1, _log_g(p, x, tx, False)[0])
    assert np.array_equal(l2, _log_g(p, x, T, False)[0])
    assert np.array_equal(pnbd_p_alive(p, x, tx, T), _old_p_alive(p, x, tx, T))


def test_distinct_pairs_are_distinct_and_cover_every_row() -> None:
    rng = np.random.default_rng(5)
    x, tx, T = _histories(rng, 500, 30)
    tx[:3] = -0.0  # the same pair as 0.0
    ux, inv = np.unique(x, return_inverse=True)
    px, pt, (i1, i2) = _distinct_pairs(x, (tx, T), ux, inv.reshape(-1))
    assert len(set(zip(px.tolist(), pt.tolist(), strict=True))) == len(px)
    assert np.array_equal(px[i1], x) and np.array_equal(pt[i1], tx)
    assert np.array_equal(px[i2], x) and np.array_equal(pt[i2], T)
    assert len(px) == len(
        set(zip(x.tolist(), (tx + 0.0).tolist(), strict=True))
        | set(zip(x.tolist(), T.tolist(), strict=True))
    )


@pytest.mark.parametrize("k", range(3))
def test_conditional_path_equals_one_call_per_horizon(k: int) -> None:
    rng = np.random.default_rng(10 + k)
    x, tx, T = _histories(rng, 2000, 60)
    p = PARAMS[k] if k != 1 else np.array([0.55, 10.6, 1.0, 11.7])  # s = 1: the log limit
    ts = np.array([4.33, 8.66, 13.0, 52.0])
    path = list(pnbd_conditional_path(p, x, tx, T, ts))
    assert len(path) == len(ts)
    for t, got in zip(ts, path, strict=True):
        assert np.array_equal(got, pnbd_conditional(p, x, tx, T, np.float64(t)))


def _old_objective(obj: PNBDObjective, theta: np.ndarray) -> tuple[float, np.ndarray]:
    """The Pareto/NBD objective as computed before the functions of T were shared."""
    p = np.exp(theta)
    r, alpha, s, beta = (float(v) for v in p)
    x, T, w = obj.x, obj.T, obj.w
    lg, dg = _log_g(p, obj.px, obj.pt, True)
    l1, l2 = lg[obj.inv1], lg[obj.inv2]
    has_dead = l1 > l2
    ratio = np.exp(np.minimum(l2 - l1, 0.0))
    log_s = np.log(s)
    la, lb = np.log1p(T / alpha), np.log1p(T / beta)
    l_alive = _old_alive(p, x, T)
    with np.errstate(divide="ignore"):
        l_dead = np.where(has_dead, log_s + l1 + np.log1p(-ratio), -np.inf)
    l_tot = np.logaddexp(l_alive, l_dead)
    lpoch, dpoch = _log_poch(r, obj.ux)
    ll = float(np.einsum("i,i->", obj.wx, lpoch)) + float(np.einsum("i,i->", w, l_tot))
    w_alive = w * np.exp(l_alive - l_tot)
    w1 = np.where(has_dead, w * np.exp(log_s + l1 - l_tot), 0.0)
    w2 = w1 * ratio
    n = len(obj.px)
    coef = np.bincount(obj.inv1, weights=w1, minlength=n) - np.bincount(
        obj.inv2, weights=w2, minlength=n
    )
    g_pairs = np.einsum("i,ij->j", coef, dg)

    def dot(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.einsum("i,i->", a, b))

    grad = np.empty(4)
    grad[0] = dot(obj.wx, dpoch) - dot(w_alive, la) + g_pairs[0]
    grad[1] = dot(w_alive, (r * T / alpha - x) / (alpha + T)) + g_pairs[1]
    grad[2] = -dot(w_alive, lb) + float(np.sum(w1 - w2)) / s + g_pairs[2]
    grad[3] = s / beta * dot(w_alive, T / (beta + T)) + g_pairs[3]
    return -ll, -(grad * p)


@pytest.mark.parametrize("k", range(len(PARAMS)))
def test_objective_equals_the_row_by_row_one(k: int) -> None:
    rng = np.random.default_rng(20 + k)
    x, tx, T = _histories(rng, 4000, 80)
    tx[:40] = np.where(x[:40] > 0, T[:40], 0.0)  # a purchase at T: no dropout term
    w = rng.integers(1, 5, len(x)).astype(np.float64)
    obj = PNBDObjective(x, tx, T, w)
    theta = np.log(PARAMS[k])
    f_new, g_new = obj(theta)
    f_old, g_old = _old_objective(obj, theta)
    assert f_new == f_old
    assert np.array_equal(g_new, g_old)


def _old_spend_loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, ...]:
    """The Gamma-Gamma log-density and gradient as computed before (gamma functions per row)."""
    p, q, gamma = (float(v) for v in params)
    a = p * x
    log_den = np.log(gamma + m * x)
    log_m, log_x = np.log(m), np.log(x)
    ll = (
        gammaln(a + q)
        - gammaln(a)
        - gammaln(q)
        + q * math.log(gamma)
        + (a - 1.0) * log_m
        + a * log_x
        - (a + q) * log_den
    )
    psi_aq = digamma(a + q)
    d_p = x * (psi_aq - digamma(a) + log_m + log_x - log_den)
    d_q = psi_aq - digamma(q) + math.log(gamma) - log_den
    d_gamma = q / gamma - (a + q) / (gamma + m * x)
    return ll, np.vstack([d_p, d_q, d_gamma])


@pytest.mark.parametrize("params", [[1.87, 1.33, 354.5], [6.25, 3.74, 15.44], [0.05, 40.0, 0.3]])
def test_spend_gamma_functions_once_per_distinct_x(params: list[float]) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(1, 40, 5000).astype(np.float64)
    m = rng.gamma(2.0, 30.0, len(x))
    prm = np.asarray(params)
    ll_ref, grad_ref = _old_spend_loglik(prm, x, m)
    for rows in (None, _spend_rows(x, m)):
        ll, grad = _loglik_and_grad(prm, x, m, rows=rows)
        assert np.array_equal(ll, ll_ref)
        assert np.array_equal(grad, grad_ref)
    assert np.array_equal(_loglik_and_grad(prm, x, m, grad=False)[0], ll_ref)


def test_two_segment_quadrature_in_place_equals_concatenated() -> None:
    rng = np.random.default_rng(11)
    a = rng.uniform(1.0, 400.0, 300)
    b = rng.uniform(0.1, 30.0, 300)
    eps = 10.0 ** rng.uniform(-14.0, -5.0, 300)  # long intervals: two segments
    z = 1.0 - eps
    big_l = -np.log(eps)
    cut = np.log(a) + 3.0
    assert np.all(cut < big_l)
    zero = np.zeros(len(a))
    parts = (
        _segment(a[:, None], zero, cut, power=False),
        _segment(a[:, None], cut, big_l, power=False),
    )
    y, lm, log_f = (np.concatenate(pair, axis=1) for pair in zip(*parts, strict=True))
    for gradient in (False, True):
        ref = _finish(a, b, z, y.copy(), lm, log_f, gradient)
        got = _quadrature(a, b, z, eps, gradient)
        for u, v in zip(got, ref, strict=True):
            assert np.array_equal(u, v)
    assert len(_NODES[0]) * 2 == y.shape[1]


@pytest.mark.parametrize("gradient", [False, True])
def test_series_with_one_c0_equals_the_per_element_sums(gradient: bool) -> None:
    rng = np.random.default_rng(13)
    m = 400
    a = rng.uniform(0.5, 300.0, m)
    z = rng.uniform(0.0, 0.97, m)
    c0 = np.full(m, 2.21)  # shared: c0 + n and h_c(n) run as scalars
    b = a + 1.0 - c0
    keep = b > 0
    a, z, c0, b = a[keep], z[keep], c0[keep], b[keep]
    log_eps = np.log1p(-z)
    need = np.maximum(_n_terms(b, c0, z, np.log(z), log_eps), 2)
    order = np.argsort(-need, kind="stable")
    a, b, c0, z, log_eps, need = (v[order] for v in (a, b, c0, z, log_eps, need))
    shared = _series(a, b, c0, z, log_eps, need, gradient)
    # one more element with another c0 turns the shared path off; the others are unchanged
    extra = [
        np.append(v, w)
        for v, w in zip((a, b, c0, z, log_eps), (3.0, 1.5, 2.5, 0.2, np.log1p(-0.2)), strict=True)
    ]
    each = _series(*extra, np.append(need, 2), gradient)
    for u, v in zip(shared, each, strict=True):
        assert np.array_equal(u, v[:-1])
