"""Numerics of the BG/NBD family: likelihood, gradient, Hessian and predictions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from crmkit.value._purchase import (
    expm1_ratio,
    near_one,
)

FloatArray = npt.NDArray[np.float64]

_SERIES_Z = 0.05  # below this z, the power series replaces scipy's hyp2f1


def _bg_loglik(
    p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, shift: int
) -> FloatArray:
    """Per-customer log-likelihood of the beta-geometric/NBD family."""
    r, alpha, a, b = (float(v) for v in p)
    k = x + shift
    base = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + k)
        - special.betaln(a, b)
    )
    u = -(r + x) * np.log(alpha + T)
    lratio = np.log(a) - np.log(b + np.maximum(k - 1.0, 0.0))
    d = lratio + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    out = base + u + np.where(k > 0, np.logaddexp(0.0, d), 0.0)
    return np.asarray(out, dtype=np.float64)


#: Rows per block of the likelihood evaluation (its buffers stay in cache).
_CHUNK = 8192


def _dot(u: FloatArray, v: FloatArray) -> float:
    """Inner product without BLAS (whose threads stall on a busy machine)."""
    return float(np.einsum("i,i->", u, v))


def _unique_counts(x: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Distinct values of whole-number counts and each row's position among them."""
    if len(x) and float(x.max()) < 1e7:
        xi = x.astype(np.intp)
        present = np.bincount(xi) > 0
        remap = np.cumsum(present) - 1
        return np.flatnonzero(present).astype(np.float64), remap[xi]
    xu, inv = np.unique(x, return_inverse=True)
    return xu, inv.reshape(-1)


class _BGObjective:
    """Negative log-likelihood and gradient (wrt log-parameters) for collapsed data.

    Terms that depend on the frequency only are evaluated once per distinct
    frequency. The per-row work is a fixed sequence of vector operations
    written into buffers allocated once (no temporaries per evaluation).
    """

    def __init__(
        self, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray, shift: int
    ) -> None:
        self.shift = float(shift)
        self.xu, inv = _unique_counts(x)
        self.Wx: FloatArray = np.bincount(inv, weights=w, minlength=len(self.xu)).astype(np.float64)
        self.W = float(w.sum())
        has = (x + shift) > 0
        self.Tz = np.ascontiguousarray(T[~has])
        self.wz = np.ascontiguousarray(w[~has])
        self.x = np.ascontiguousarray(x[has])
        self.tx = np.ascontiguousarray(tx[has])
        self.T = np.ascontiguousarray(T[has])
        self.w = np.ascontiguousarray(w[has])
        self.wx = self.w * self.x
        self.inv = np.ascontiguousarray(inv[has])
        self.nu = len(self.xu)
        n_pos, n_zero = len(self.x), len(self.Tz)
        self._buf = np.empty((7, min(n_pos, _CHUNK)))
        self._zbuf = np.empty((2, n_zero))

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = (float(v) for v in np.exp(theta))
        xu, k = self.xu, self.xu + self.shift
        # parts that depend on the frequency only
        ab = special.digamma(a + b) - special.digamma(a + b + k)
        per_x = (
            special.gammaln(r + xu)
            - special.gammaln(r)
            + special.gammaln(b + k)
            - special.gammaln(b)
            + special.gammaln(a + b)
            - special.gammaln(a + b + k)
        )
        ll = _dot(self.Wx, per_x) + self.W * r * math.log(alpha)
        gr = _dot(self.Wx, special.digamma(r + xu) - special.digamma(r))
        gr += self.W * math.log(alpha)
        ga = _dot(self.Wx, ab)
        gb = _dot(self.Wx, special.digamma(b + k) - special.digamma(b) + ab)
        gal = self.W * r / alpha
        # customers who cannot have dropped out (BG/NBD, x == 0)
        if len(self.Tz):
            ez, lz = self._zbuf
            np.add(self.Tz, alpha, out=ez)
            np.log(ez, out=lz)
            s = _dot(self.wz, lz)
            ll -= r * s
            gr -= s
            np.reciprocal(ez, out=ez)
            gal -= r * _dot(self.wz, ez)
        # the rest: alive at T, or dropped out after the last purchase
        if len(self.x):
            lratio_u = math.log(a) - np.log(b + np.maximum(k - 1.0, 0.0))
            sums = np.zeros(8)
            per_pi = np.zeros(self.nu)
            for lo in range(0, len(self.x), _CHUNK):
                self._chunk(lo, min(lo + _CHUNK, len(self.x)), r, alpha, lratio_u, sums, per_pi)
            s_wlT, s_wxlT, s_sp, s_pdiff, s_weT, s_wxeT, s_pet, s_pxet = sums
            ll += s_sp - r * s_wlT - s_wxlT
            gr += s_pdiff - s_wlT
            gal -= r * s_weT + s_wxeT + r * s_pet + s_pxet
            ga += float(per_pi.sum()) / a
            gb -= _dot(per_pi, 1.0 / (b + np.maximum(k - 1.0, 0.0)))
        grad = np.array([gr * r, gal * alpha, ga * a, gb * b])
        return -float(ll), -grad

    def _chunk(
        self,
        lo: int,
        hi: int,
        r: float,
        alpha: float,
        lratio_u: FloatArray,
        sums: FloatArray,
        per_pi: FloatArray,
    ) -> None:
        """Accumulate the sums of rows ``lo:hi`` (small enough to stay in cache)."""
        m = hi - lo
        eT, et, lT, diff, d, e, tmp = (buf[:m] for buf in self._buf)
        w, wx, x = self.w[lo:hi], self.wx[lo:hi], self.x[lo:hi]
        np.add(self.T[lo:hi], alpha, out=eT)
        np.add(self.tx[lo:hi], alpha, out=et)
        np.log(eT, out=lT)
        np.log(et, out=diff)
        np.subtract(lT, diff, out=diff)  # log((alpha + T) / (alpha + t_x))
        np.reciprocal(eT, out=eT)
        np.reciprocal(et, out=et)
        # d = log(a / (b + k - 1)) + (r + x) * diff: log-odds of "dropped out"
        np.take(lratio_u, self.inv[lo:hi], out=d)
        np.add(x, r, out=tmp)
        np.multiply(tmp, diff, out=tmp)
        d += tmp
        sums[0] += _dot(w, lT)
        sums[1] += _dot(wx, lT)
        # softplus(d) = max(d, 0) + log1p(exp(-|d|))
        np.abs(d, out=e)
        np.negative(e, out=e)
        np.exp(e, out=e)
        np.log1p(e, out=e)
        np.maximum(d, 0.0, out=tmp)
        e += tmp
        sums[2] += _dot(w, e)
        special.expit(d, out=e)  # P(dropped out | data)
        np.multiply(w, e, out=d)  # weight * P(dropped out)
        sums[3] += _dot(d, diff)
        sums[4] += _dot(w, eT)
        sums[5] += _dot(wx, eT)
        np.subtract(et, eT, out=et)
        sums[6] += _dot(d, et)
        np.multiply(d, x, out=tmp)
        sums[7] += _dot(tmp, et)
        per_pi += np.bincount(self.inv[lo:hi], weights=d, minlength=self.nu)

    def _hess_chunk(
        self,
        lo: int,
        hi: int,
        r: float,
        alpha: float,
        lratio_u: FloatArray,
        sums: FloatArray,
        per_x: FloatArray,
    ) -> None:
        """Accumulate the Hessian sums of rows ``lo:hi``."""
        m = hi - lo
        eT, et, diff, d, v, q, tmp = (buf[:m] for buf in self._buf)
        w, x, inv = self.w[lo:hi], self.x[lo:hi], self.inv[lo:hi]
        np.add(self.T[lo:hi], alpha, out=eT)
        np.add(self.tx[lo:hi], alpha, out=et)
        np.divide(eT, et, out=diff)
        np.log(diff, out=diff)  # log((alpha + T) / (alpha + t_x))
        np.reciprocal(eT, out=eT)
        np.reciprocal(et, out=et)
        np.take(lratio_u, inv, out=d)
        np.add(x, r, out=q)  # r + x
        np.multiply(q, diff, out=tmp)
        d += tmp
        special.expit(d, out=d)  # pi
        np.multiply(w, d, out=tmp)  # weight * pi
        per_x[3] += np.bincount(inv, weights=tmp, minlength=self.nu)
        np.subtract(1.0, d, out=v)
        v *= tmp  # weight * pi * (1 - pi)
        np.subtract(et, eT, out=et)  # 1/(alpha + t_x) - 1/(alpha + T)
        sums[2] -= _dot(tmp, et)
        np.multiply(tmp, q, out=tmp)  # weight * pi * (r + x)
        np.multiply(w, q, out=d)  # weight * (r + x)
        np.multiply(q, et, out=q)
        np.negative(q, out=q)  # q = (r + x) (1/(alpha + T) - 1/(alpha + t_x))
        # et**2 - eT**2 = (et - eT) (et + eT) with et now the difference
        sums[3] += _dot(w, eT)
        sums[6] += _dot(d, eT * eT)
        sums[5] += _dot(tmp, et * (et + 2.0 * eT))
        np.multiply(v, diff, out=d)
        sums[0] += _dot(d, diff)
        sums[1] += _dot(d, q)
        sums[7] += float(d.sum())
        per_x[0] += np.bincount(inv, weights=d, minlength=self.nu)
        np.multiply(v, q, out=d)
        sums[4] += _dot(d, q)
        sums[8] += float(d.sum())
        per_x[1] += np.bincount(inv, weights=d, minlength=self.nu)
        per_x[2] += np.bincount(inv, weights=v, minlength=self.nu)

    def hessian(self, theta: FloatArray) -> FloatArray:
        """Analytic Hessian of the negative log-likelihood in the natural parameters.

        Used by :func:`crmkit.value._mle.fit_mle` for standard errors (one
        pass over the rows instead of eight gradient evaluations).
        """
        r, alpha, a, b = (float(v) for v in np.exp(theta))
        xu, k = self.xu, self.xu + self.shift
        t1 = special.polygamma(1, a + b) - special.polygamma(1, a + b + k)
        H = np.zeros((4, 4))
        H[0, 0] = _dot(self.Wx, special.polygamma(1, r + xu) - special.polygamma(1, r))
        H[2, 2] = H[2, 3] = _dot(self.Wx, t1)
        H[3, 3] = _dot(self.Wx, special.polygamma(1, b + k) - special.polygamma(1, b) + t1)
        H[0, 1] = self.W / alpha
        H[1, 1] = -self.W * r / alpha**2
        if len(self.Tz):
            ez = 1.0 / (alpha + self.Tz)
            H[0, 1] -= _dot(self.wz, ez)
            H[1, 1] += r * _dot(self.wz, ez * ez)
        if len(self.x):
            lratio_u = math.log(a) - np.log(b + np.maximum(k - 1.0, 0.0))
            beta_u = 1.0 / (b + np.maximum(k - 1.0, 0.0))
            sums = np.zeros(9)
            per_x = np.zeros((4, self.nu))
            for lo in range(0, len(self.x), _CHUNK):
                hi = min(lo + _CHUNK, len(self.x))
                self._hess_chunk(lo, hi, r, alpha, lratio_u, sums, per_x)
            s_vdd, s_vdq, s_pe, s_weT, s_vqq, s_pe2, s_wrxeT2, s_vd, s_vq = sums
            by_vd, by_vq, by_v, by_p = per_x
            H[0, 0] += s_vdd
            H[0, 1] += s_vdq + s_pe - s_weT
            H[1, 1] += s_wrxeT2 + s_vqq + s_pe2
            H[0, 2] = s_vd / a
            H[1, 2] = s_vq / a
            H[0, 3] = -_dot(beta_u, by_vd)
            H[1, 3] = -_dot(beta_u, by_vq)
            H[2, 2] += (float(by_v.sum()) - float(by_p.sum())) / a**2
            H[3, 3] += _dot(beta_u * beta_u, by_v + by_p)
            H[2, 3] -= _dot(beta_u, by_v) / a
        out: FloatArray = -(np.triu(H) + np.triu(H, 1).T)
        return out


def _bg_start(x: FloatArray, T: FloatArray, w: FloatArray) -> list[list[float]]:
    """Starting points: the purchase rate from the data, dropout neutral."""
    rate = _dot(w, x) / max(_dot(w, T), 1e-12)
    alpha0 = 1.0 / max(rate, 1e-8)
    alpha0 = float(np.clip(alpha0, 1e-6, 1e6))
    return [[1.0, alpha0, 1.0, 2.0], [0.5, alpha0 * 0.5, 0.5, 5.0], [2.0, 2.0 * alpha0, 2.0, 1.0]]


# ---------------------------------------------------------------- predictions
def _series_g(
    Ap: FloatArray, a: float, C: FloatArray, z: FloatArray, max_terms: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Sum ``G = sum_{k>=1} (Ap)_k (a)_{k-1} / ((C)_k k!) z**k`` term by term."""
    term = Ap * z / C
    total = term.copy()
    active = np.ones(len(z), dtype=bool)
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, max_terms):
            term = term * ((Ap + k) * (a + k - 1.0) / ((C + k) * (k + 1.0)) * z)
            total += term
            active = np.abs(term) > 1e-17 * np.abs(total)
            if not active.any():
                break
    return total, ~active


def _alive_mean(R: FloatArray, B: FloatArray, a: float, s: FloatArray) -> FloatArray:
    """Expected purchases in the next ``t`` for a customer known to be active.

    ``E[(1 - exp(-lambda p t)) / p]`` with ``lambda ~ Gamma(R, alpha + T)`` and
    ``p ~ Beta(a, B)``; ``s = t / (alpha + T)``, ``z = s / (1 + s)``. In
    closed form ``C / (a - 1) [1 - (1 - z)**R 2F1(R, B; C; z)]`` with
    ``C = a + B - 1``; by Euler's transformation this is
    ``C [(1 - (1 - z)**(a - 1)) / (a - 1) - (1 - z)**(a - 1) G]`` with
    ``2F1(C - R, a - 1; C; z) = 1 + (a - 1) G``. ``G`` comes from scipy's
    ``hyp2f1`` except for small ``z`` (where ``F - 1`` would cancel) and
    where scipy fails; there its power series is summed directly. ``a``
    near 1 is interpolated; results are kept within the bounds
    ``1 - (1 - z)**R <= value <= R t / (alpha + T)`` (and ``C / (a - 1)``).
    """
    z = s / (1.0 + s)
    L = -np.log1p(s)

    def at(av: float) -> FloatArray:
        e = av - 1.0
        C = av + B - 1.0
        Ap = C - R
        lead = expm1_ratio(e, L)
        pw = np.exp(e * L)
        with np.errstate(all="ignore"):
            F = special.hyp2f1(Ap, e, C, z)
            G = (F - 1.0) / e
        small = z < _SERIES_Z
        if small.any():
            G[small], _ = _series_g(Ap[small], av, C[small], z[small], 4000)
        with np.errstate(all="ignore"):
            G *= pw
            np.subtract(lead, G, out=G)
            M = np.multiply(C, G, out=G)
        # bounds: f(1) <= (1 - (1 + p s)**-R) / p <= f(0) for p in (0, 1]
        lower = -np.expm1(R * L)
        upper = R * s
        if e > 0:
            upper = np.minimum(upper, C / e)
        with np.errstate(invalid="ignore"):
            inside = np.greater_equal(M, lower * (1 - 1e-9)) & np.less_equal(M, upper * (1 + 1e-9))
            bad = ~inside  # NaN is bad too
        if bad.any():
            Gb, _ = _series_g(Ap[bad], av, C[bad], z[bad], 200_000)
            with np.errstate(all="ignore"):
                Mb = C[bad] * (lead[bad] - pw[bad] * Gb)
            Mb = np.where(np.isfinite(Mb), Mb, upper[bad])
            M[bad] = np.clip(Mb, lower[bad], upper[bad])
        return np.asarray(M, dtype=np.float64)

    return near_one(at, a, width=1e-5)


def _bg_p_alive(
    p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, shift: int
) -> FloatArray:
    """P(active at T | x, t_x, T)."""
    r, alpha, a, b = (float(v) for v in p)
    k = x + shift
    # log-odds of having dropped out after the last purchase
    lo = np.log((alpha + T) / (alpha + tx))
    lo *= r + x
    lo += np.log(a / (b + np.maximum(k - 1.0, 0.0)))
    np.negative(lo, out=lo)
    out = special.expit(lo)
    if shift == 0:
        out[k == 0] = 1.0
    return np.asarray(out, dtype=np.float64)


def _bg_conditional(
    p: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    T: FloatArray,
    t: FloatArray,
    shift: int,
    alive: FloatArray | None = None,
) -> FloatArray:
    """E[purchases in (T, T + t] | x, t_x, T] (``alive``: P(alive), if already known)."""
    r, alpha, a, b = (float(v) for v in p)
    x, tx, T, t = np.broadcast_arrays(x, tx, T, t)
    M = _alive_mean(r + x, b + x + shift, a, t / (alpha + T))
    if alive is None:
        alive = _bg_p_alive(p, x, tx, T, shift)
    return np.asarray(alive * M, dtype=np.float64)


def _bg_expected(p: FloatArray, t: FloatArray, shift: int) -> FloatArray:
    """E[X(t)] for a new customer (of shape ``t.shape``)."""
    flat = np.atleast_1d(t).reshape(-1)
    zero = np.zeros_like(flat)
    return _bg_conditional(p, zero, zero, zero, flat, shift).reshape(np.shape(t))


def _bg_pmf(p: FloatArray, n: FloatArray, t: FloatArray, shift: int) -> FloatArray:
    """P(X(t) = n) for a new customer."""
    r, alpha, a, b = (float(v) for v in p)
    n, t = np.broadcast_arrays(n, t)
    q = t / (alpha + t)
    k = n + shift
    nb = (
        special.gammaln(r + n)
        - special.gammaln(r)
        - special.gammaln(n + 1.0)
        + r * (np.log(alpha) - np.log(alpha + t))
        + special.xlogy(n, q)
    )
    first = special.betaln(a, b + k) - special.betaln(a, b) + nb
    with np.errstate(divide="ignore"):
        tail = np.where(n > 0, special.betainc(np.maximum(n, 1.0), r, q), 1.0)
        second = np.where(
            k > 0,
            special.betaln(a + 1.0, b + np.maximum(k - 1.0, 0.0))
            - special.betaln(a, b)
            + np.log(tail),
            -np.inf,
        )
    # a probability: rounding must not take P(X(0) = 0) = 1 to 1 + 5e-14
    return np.asarray(np.minimum(np.exp(np.logaddexp(first, second)), 1.0), dtype=np.float64)


def _bg_sample(
    p: FloatArray, n_customers: int, T: Any, seed: Any, shift: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Simulate (x, t_x, T) for ``n_customers`` (vectorised)."""
    r, alpha, a, b = (float(v) for v in p)
    rng = np.random.default_rng(seed)
    Tv = np.broadcast_to(np.asarray(T, dtype=np.float64), (n_customers,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n_customers)
    drop = rng.beta(a, b, n_customers)
    n_all = rng.poisson(lam * Tv)
    # repeat purchases made before dropping out (dropout after the J-th one)
    J = rng.geometric(np.clip(drop, 1e-300, 1.0)) - shift
    x = np.minimum(n_all, J)
    # t_x: the x-th of n_all uniform arrival times on (0, T]
    pos = x > 0
    frac = np.zeros(n_customers)
    frac[pos] = rng.beta(x[pos], n_all[pos] - x[pos] + 1.0)
    return x.astype(np.float64), frac * Tv, Tv


# ---------------------------------------------------------------------- model
