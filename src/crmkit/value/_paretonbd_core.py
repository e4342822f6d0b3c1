"""Numerics of the Pareto/NBD model: likelihood, analytic gradient, predictions, sampling.

See :mod:`crmkit.value._paretonbd` for the formulas.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import special

from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.value._hyp2f1 import log_hyp2f1_c_a1, log_tanh_sinh
from crmkit.value._mle import MLEResult, Objective
from crmkit.value._purchase import collapse_rows, expm1_ratio

FloatArray = npt.NDArray[np.float64]


def _log_g(
    p: FloatArray, x: FloatArray, t: FloatArray, gradient: bool
) -> tuple[FloatArray, FloatArray]:
    """``log(alpha^r beta^s G(t))`` for rows ``(x, t)`` and its gradient wrt the parameters.

    ``alpha^r beta^s`` is folded in relative form (``-r log1p(t/alpha)`` ...)
    so that large ``r`` or ``s`` cause no cancellation in the sums.
    """
    r, alpha, s, beta = (float(v) for v in p)
    a = r + s + x
    if alpha >= beta:
        m = alpha + t
        z = (alpha - beta) / m
        eps = (beta + t) / m
        b = np.full_like(a, s + 1.0)
        c0 = r + x
        log_m = np.log(m)
        lead = -r * np.log1p(t / alpha) + s * (np.log(beta) - log_m)
    else:
        m = beta + t
        z = (beta - alpha) / m
        eps = (alpha + t) / m
        b = r + x
        c0 = np.full_like(a, s + 1.0)
        log_m = np.log(m)
        lead = r * (np.log(alpha) - log_m) - s * np.log1p(t / beta)
    f = log_hyp2f1_c_a1(a, b, z, one_minus_z=eps, c0=c0, gradient=gradient)
    value = lead - x * log_m + f.value - np.log(a)
    grad = np.zeros((len(a), 4))
    if gradient:
        da = -log_m + f.d_a - 1.0 / a
        grad[:, 0] = da + np.log(alpha)
        grad[:, 2] = da + np.log(beta)
        if alpha >= beta:
            grad[:, 2] += f.d_b
            grad[:, 1] = r / alpha - a / m + f.d_z * eps / m
            grad[:, 3] = s / beta - f.d_z / m
        else:
            grad[:, 0] += f.d_b
            grad[:, 3] = s / beta - a / m + f.d_z * eps / m
            grad[:, 1] = r / alpha - f.d_z / m
    return value, grad


def _log_poch(r: float, ux: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``log Gamma(r+x) - log Gamma(r)`` and its ``r``-derivative for distinct ``x``.

    Summed as ``sum_{k<x} log(r+k)`` (no cancellation for large ``r``) up to
    ``x = 10^5``, by gamma functions beyond.
    """
    k = int(min(ux.max(initial=0.0), 1e5))
    steps = r + np.arange(k)
    cum_log = np.concatenate([[0.0], np.cumsum(np.log(steps))])
    cum_inv = np.concatenate([[0.0], np.cumsum(1.0 / steps)])
    idx = np.minimum(ux, k).astype(np.intp)
    far = ux > k
    value = np.where(far, special.gammaln(r + ux) - special.gammaln(r), cum_log[idx])
    deriv = np.where(far, special.digamma(r + ux) - special.digamma(r), cum_inv[idx])
    return value, deriv


def _dot(a: FloatArray, b: FloatArray) -> float:
    """``sum(a * b)`` without BLAS (whose threads stall on busy machines)."""
    return float(np.einsum("i,i->", a, b))


def _argument_error(name: str, wanted: str, shape: tuple[int, ...], who: str) -> SchemaError:
    failure = SchemaFailure(
        frame="argument", column=name, check=f"must be {wanted}, got shape {shape} ({who})"
    )
    return SchemaError([failure])


def _alive(
    p: FloatArray, x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log(alpha^r beta^s (alpha+T)^-(r+x) (beta+T)^-s)`` in relative form,
    with ``log1p(T/alpha)`` and ``log1p(T/beta)``."""
    r, alpha, s, beta = (float(v) for v in p)
    la, lb = np.log1p(T / alpha), np.log1p(T / beta)
    return -r * la - x * np.log(alpha + T) - s * lb, la, lb


def _distinct_pairs(
    x: FloatArray, ts: tuple[FloatArray, ...], ux: FloatArray, inv_x: npt.NDArray[np.intp]
) -> tuple[FloatArray, FloatArray, list[npt.NDArray[np.intp]]]:
    """The distinct pairs ``(x, t)`` over ``t`` in each of ``ts``, and each row's pair.

    ``ux[inv_x]`` is ``x`` (``ux`` distinct). The pairs come in no particular
    order; one index array per array of ``ts``. Hash-based: no sorting.
    """
    n = len(x)
    codes_t, ut = pd.factorize(np.concatenate(ts) + 0.0)  # +0.0: -0.0 and 0.0 alike
    ut = np.asarray(ut, dtype=np.float64)
    key = np.tile(inv_x.astype(np.int64), len(ts)) * len(ut) + codes_t
    size = len(ux) * len(ut)
    if size <= 4 * len(key) + 1024:  # a table of all combinations
        seen = np.zeros(size, dtype=bool)
        seen[key] = True
        ids = np.flatnonzero(seen)
        inv = (np.cumsum(seen) - 1)[key]
    else:
        codes, ids = pd.factorize(key)
        inv = np.asarray(codes)
    inv = np.asarray(inv, dtype=np.intp).reshape(-1)
    pairs_x, pairs_t = ux[ids // len(ut)], ut[ids % len(ut)]
    return pairs_x, pairs_t, [inv[k * n : (k + 1) * n] for k in range(len(ts))]


def _log_g_rows(
    p: FloatArray,
    x: FloatArray,
    ts: tuple[FloatArray, ...],
    ux: FloatArray,
    inv_x: npt.NDArray[np.intp],
) -> list[FloatArray]:
    """``_log_g(p, x, t)[0]`` for each ``t`` of ``ts``, evaluated once per distinct ``(x, t)``.

    Without the gradient every element of :func:`_log_g` is computed on its
    own (the method of the tail integral included), so the values equal the
    row-by-row ones exactly.
    """
    px, pt, invs = _distinct_pairs(x, ts, ux, inv_x)
    lg, _ = _log_g(p, px, pt, False)
    return [lg[i] for i in invs]


def _parts(
    p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log Gamma(r+x)/Gamma(r)``, the log alive term and ``log(s I)``, per row.

    The last two include ``alpha^r beta^s``; the log-likelihood is
    ``first + logaddexp(second, third)``.
    """
    codes, uniq = pd.factorize(x + 0.0)
    ux, inv = np.asarray(uniq, dtype=np.float64), np.asarray(codes, dtype=np.intp)
    log_c = _log_poch(float(p[0]), ux)[0][inv]
    l1, l2 = _log_g_rows(p, x, (tx, T), ux, inv)
    with np.errstate(divide="ignore"):  # G(t_x) = G(T) (t_x = T): no dropout term
        log_i = l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0)))
    return log_c, _alive(p, x, T)[0], np.where(l1 > l2, np.log(float(p[2])) + log_i, -np.inf)


def pnbd_loglik(p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """Per-row log-likelihood of histories ``(x, t_x, T)``."""
    log_c, l_alive, l_dead = _parts(p, x, tx, T)
    return np.asarray(log_c + np.logaddexp(l_alive, l_dead), dtype=np.float64)


class PNBDObjective:
    """Negative log-likelihood and its analytic gradient wrt log-parameters.

    For collapsed rows ``(x, t_x, T)`` with weights. The tail integral ``G``
    is evaluated once per distinct ``(x, t)`` pair over both ``t = t_x``
    and ``t = T`` (the alive term with them), the gamma functions once per
    distinct ``x``, the functions of ``T`` alone once per distinct ``T``:
    elementwise, so the values are those of a row-by-row computation.
    """

    def __init__(self, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray) -> None:
        self.x, self.tx, self.T, self.w = x, tx, T, w
        self.ux, self.inv_x = np.unique(x, return_inverse=True)
        both = [np.concatenate([x, x]), np.concatenate([tx, T])]
        (self.px, self.pt), _, inv = collapse_rows(both, np.ones(2 * len(x)))
        self.inv1, self.inv2 = inv[: len(x)], inv[len(x) :]
        self.wx = np.bincount(self.inv_x, weights=w, minlength=len(self.ux)).astype(np.float64)
        codes, uT = pd.factorize(T + 0.0)
        self.by_T = (np.asarray(uT, dtype=np.float64), np.asarray(codes, dtype=np.intp))

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        p = np.exp(np.asarray(theta, dtype=np.float64))
        r, alpha, s, beta = (float(v) for v in p)
        w = self.w
        lg, dg = _log_g(p, self.px, self.pt, True)
        l1, l2 = lg[self.inv1], lg[self.inv2]
        has_dead = l1 > l2
        ratio = np.exp(np.minimum(l2 - l1, 0.0))  # G(T) / G(t_x) <= 1
        log_s = np.log(s)
        # functions of (x, T) once per pair, of T once per distinct T: the same values
        px, pt, inv2 = self.px, self.pt, self.inv2
        l_alive = _alive(p, px, pt)[0][inv2]
        uT, gT = self.by_T
        log1p_ta, log1p_tb = np.log1p(uT / alpha)[gT], np.log1p(uT / beta)[gT]
        with np.errstate(divide="ignore"):
            l_dead = np.where(has_dead, log_s + l1 + np.log1p(-ratio), -np.inf)
        l_tot = np.logaddexp(l_alive, l_dead)
        lpoch, dpoch = _log_poch(r, self.ux)
        ll = _dot(self.wx, lpoch) + _dot(w, l_tot)
        # shares of the alive term and of the two tail integrals in L
        w_alive = w * np.exp(l_alive - l_tot)
        w1 = np.where(has_dead, w * np.exp(log_s + l1 - l_tot), 0.0)
        w2 = w1 * ratio
        n_pairs = len(self.px)
        coef = np.bincount(self.inv1, weights=w1, minlength=n_pairs) - np.bincount(
            self.inv2, weights=w2, minlength=n_pairs
        )
        g_pairs = np.einsum("i,ij->j", coef, dg)
        grad = np.empty(4)
        grad[0] = _dot(self.wx, dpoch) - _dot(w_alive, log1p_ta) + g_pairs[0]
        grad[1] = _dot(w_alive, ((r * pt / alpha - px) / (alpha + pt))[inv2]) + g_pairs[1]
        grad[2] = -_dot(w_alive, log1p_tb) + float(np.sum(w1 - w2)) / s + g_pairs[2]
        grad[3] = s / beta * _dot(w_alive, (uT / (beta + uT))[gT]) + g_pairs[3]
        return -ll, -(grad * p)


def polish(objective: Objective, result: MLEResult, penalizer: float) -> MLEResult:
    """One Newton step from the optimiser's stopping point, kept only if it helps.

    L-BFGS-B stops on a relative decrease of the objective; along the flat
    ``beta`` direction of the Pareto/NBD likelihood that can leave the
    estimate visibly short of the maximum. The step uses the observed
    information that :func:`fit_mle` already computed (``covariance``).
    """
    cov = result.covariance
    if cov is None or not np.all(np.isfinite(cov)):
        return result
    p = np.asarray(result.params, dtype=np.float64)
    f0, g0 = objective(np.log(p))
    grad = g0 / p + 2.0 * penalizer * p  # natural scale, penalised
    hess = np.linalg.inv(cov) + 2.0 * penalizer * np.eye(len(p))
    delta = -np.linalg.solve(hess, grad)
    new = p + delta
    if not np.all(np.isfinite(delta)) or np.any(np.abs(delta) > 0.05 * p):
        return result
    if -float(grad @ delta) <= 1e-13 * max(1.0, abs(f0)):  # at the maximum already (Newton)
        return result
    f1, _ = objective(np.log(new))
    pen0, pen1 = penalizer * float(np.sum(p**2)), penalizer * float(np.sum(new**2))
    if not np.isfinite(f1) or f1 + pen1 > f0 + pen0 + 1e-12 * max(1.0, abs(f0)):
        return result
    return attrs.evolve(result, params=new, log_likelihood=-float(f1))


def pnbd_start(x: FloatArray, T: FloatArray, w: FloatArray) -> list[list[float]]:
    """Starting points: purchase rate from the data, dropouts on the scale of ``T``."""
    rate = _dot(w, x) / max(_dot(w, T), 1e-12)
    alpha0 = float(np.clip(1.0 / max(rate, 1e-8), 1e-6, 1e6))
    beta0 = float(np.clip(_dot(w, T) / max(float(w.sum()), 1e-12), 1e-3, 1e6))
    return [
        [1.0, alpha0, 1.0, beta0],
        [0.5, 0.5 * alpha0, 0.5, 0.5 * beta0],
        [2.0, 2.0 * alpha0, 2.0, 4.0 * beta0],
    ]


# ---------------------------------------------------------------- predictions
def pnbd_p_alive(p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
    """P(active at T | x, t_x, T) = alive term / (alive term + s I)."""
    _, l_alive, l_dead = _parts(p, x, tx, T)
    return np.asarray(np.exp(l_alive - np.logaddexp(l_alive, l_dead)), dtype=np.float64)


def pnbd_p_no_purchase(
    p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray
) -> FloatArray:
    """P(no purchase in (T, T + t] | x, t_x, T).

    The likelihood of ``(x, t_x, T)`` is the density of ``x`` purchases with
    the last at ``t_x`` and none in ``(t_x, T]``, so the probability of no
    purchase in ``(T, T + t]`` is ``L(x, t_x, T + t) / L(x, t_x, T)``: with
    ``L = C [A(T) + s (G(t_x) - G(T))]`` (``A`` the alive term, ``G`` the tail
    integral of :func:`_log_g`), the ratio is ``[A(T+t) + s (G(t_x) -
    G(T+t))] / [A(T) + s (G(t_x) - G(T))]``. Equivalently ``1 - p_alive +
    p_alive * P(no purchase | alive)``, where an active customer with rate
    ``lambda ~ Gamma(r+x, alpha+T)`` and remaining lifetime ``tau`` (Lomax
    with ``s, beta+T``) buys nothing in ``min(tau, t)``. Computed in log space.
    """
    x, tx, T, t = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, tx, T, t))
    _, alive_now, dead_now = _parts(p, x, tx, T)
    _, alive_later, dead_later = _parts(p, x, tx, T + t)
    log_ratio = np.logaddexp(alive_later, dead_later) - np.logaddexp(alive_now, dead_now)
    return np.asarray(np.clip(np.exp(np.minimum(log_ratio, 0.0)), 0.0, 1.0), dtype=np.float64)


def pnbd_conditional(
    p: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    t: FloatArray,
    alive: FloatArray | None = None,
) -> FloatArray:
    """E[purchases in (T, T + t] | x, t_x, T].

    Given alive at ``T``: ``lambda ~ Gamma(r+x, alpha+T)`` and
    ``mu ~ Gamma(s, beta+T)``, so the expectation is
    ``(r+x)/(alpha+T) * (beta+T)/(s-1) * [1 - ((beta+T)/(beta+T+t))^(s-1)]``
    (``log(1 + t/(beta+T))`` at ``s = 1``), times P(alive) (``alive``:
    :func:`pnbd_p_alive` of the same customers, computed once for many
    horizons).
    """
    r, alpha, s, beta = (float(v) for v in p)
    x, tx, T, t = np.broadcast_arrays(x, tx, T, t)
    lead = (r + x) / (alpha + T) * (beta + T)
    horizon = expm1_ratio(s - 1.0, -np.log1p(t / (beta + T)))
    if alive is None:
        alive = pnbd_p_alive(p, x, tx, T)
    return np.asarray(alive * lead * horizon, dtype=np.float64)


def pnbd_conditional_path(
    p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, ts: FloatArray
) -> Iterator[FloatArray]:
    """:func:`pnbd_conditional` for each scalar horizon of ``ts``, exactly, sharing the work.

    P(alive) and ``alive * (r+x)/(alpha+T) * (beta+T)`` are computed once; the
    horizon factor, a function of ``T`` alone, once per distinct ``T``.
    """
    r, alpha, s, beta = (float(v) for v in p)
    alive_lead = pnbd_p_alive(p, x, tx, T) * ((r + x) / (alpha + T) * (beta + T))
    uT, inv = np.unique(T, return_inverse=True)
    inv = inv.reshape(-1)
    for t in ts:
        horizon = expm1_ratio(s - 1.0, -np.log1p(np.float64(t) / (beta + uT)))
        yield np.asarray(alive_lead * horizon[inv], dtype=np.float64)


def pnbd_expected(p: FloatArray, t: FloatArray) -> FloatArray:
    """E[X(t)] for a new customer: ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``."""
    r, alpha, s, beta = (float(v) for v in p)
    out = r * beta / alpha * expm1_ratio(s - 1.0, -np.log1p(np.asarray(t) / beta))
    return np.asarray(out, dtype=np.float64).reshape(np.shape(t))


def pnbd_pmf(p: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
    """P(X(t) = n) for a new customer.

    ``P = NB(n; r, alpha/(alpha+t)) (beta/(beta+t))^s + C_n s beta^s alpha K``
    with ``C_n = Gamma(r+n) / (Gamma(r) n!)`` and
    ``K = integral_0^{t/(alpha+t)} q^n (1-q)^(r+s-1) (beta(1-q) + alpha q)^-(s+1) dq``
    (the second term: dropping out at ``u <= t`` after ``n`` purchases,
    with ``q = u / (alpha + u)``), by tanh-sinh quadrature in log space.
    """
    r, alpha, s, beta = (float(v) for v in p)
    n, t = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(t, dtype=np.float64))
    shape = n.shape
    nf, tf = n.reshape(-1), t.reshape(-1)
    log_cn = special.gammaln(r + nf) - special.gammaln(r) - special.gammaln(nf + 1.0)
    with np.errstate(divide="ignore"):
        log_pt = np.log(tf) - np.log(alpha + tf)  # log q_t
        log_1mpt = np.log(alpha) - np.log(alpha + tf)  # log(1 - q_t)
        first = (
            log_cn
            + r * log_1mpt
            + special.xlogy(nf, np.exp(log_pt))
            + s * (np.log(beta) - np.log(beta + tf))
        )
    out = np.exp(first)
    pos = np.flatnonzero(tf > 0)
    if len(pos):
        npos, lq, l1q = nf[pos, None], log_pt[pos, None], log_1mpt[pos, None]

        def log_integrand(log_v: FloatArray, log_1mv: FloatArray) -> FloatArray:
            log_q = lq + log_v
            log_1mq = np.logaddexp(l1q, lq + log_1mv)  # 1 - q_t v, without cancellation
            mix = np.logaddexp(np.log(beta) + log_1mq, np.log(alpha) + log_q)
            vals = npos * log_q + (r + s - 1.0) * log_1mq - (s + 1.0) * mix + lq
            return np.asarray(vals, dtype=np.float64)

        log_k = log_tanh_sinh(log_integrand)
        second = log_cn[pos] + np.log(s) + s * np.log(beta) + np.log(alpha) + log_k
        out[pos] = np.exp(np.logaddexp(first[pos], second))
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64).reshape(shape)


def pnbd_sample(
    p: FloatArray, n_customers: int, T: Any, seed: Any
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Simulate ``(x, t_x, T)``: Poisson purchases until an exponential dropout."""
    r, alpha, s, beta = (float(v) for v in p)
    rng = np.random.default_rng(seed)
    Tv = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    mu = rng.gamma(s, 1.0 / beta, n_customers)
    with np.errstate(divide="ignore", over="ignore"):
        life = rng.standard_exponential(n_customers) / mu
    active = np.minimum(life, Tv)
    x = rng.poisson(lam * active).astype(np.float64)
    pos = x > 0
    frac = np.zeros(n_customers)
    frac[pos] = rng.beta(x[pos], 1.0)  # the last of x uniform purchase times
    return x, frac * active, Tv


# ---------------------------------------------------------------------- model
