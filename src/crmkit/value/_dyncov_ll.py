"""Likelihood and predictions of the Pareto/NBD with time-varying covariates.

The model of Bachmann, Meierer & Näf (2021): while alive, customer ``i``
buys at rate ``lambda_i exp(gamma_p' z_p(t))`` and drops out at rate
``mu_i exp(gamma_d' z_d(t))``, with ``lambda_i ~ Gamma(r, alpha)`` and
``mu_i ~ Gamma(s, beta)`` and covariates ``z(t)`` piecewise constant (one
value per period, e.g. per week). With the cumulative effects
``A(t) = integral_0^t exp(gamma_p' z_p(u)) du`` and
``B(t) = integral_0^t exp(gamma_d' z_d(u)) du`` (``t`` in time units since
the first purchase), ``x`` repeat purchases at ``t_1 .. t_x`` (the last at
``t_x``) and observation until ``T``:

``L = Gamma(r+x)/Gamma(r) alpha^r beta^s exp(gamma_p' sum_j z_p(t_j))
[(alpha+A(T))^-(r+x) (beta+B(T))^-s + s integral_{t_x}^T b(u)
(alpha+A(u))^-(r+x) (beta+B(u))^-(s+1) du]``.

On a piece ``k`` where the effects ``a_k``, ``b_k`` are constant,
``alpha + A(u) = a_k (P_k + u)`` and ``beta + B(u) = b_k (Q_k + u)``, so the
piece's share of the integral is ``a_k^-(r+x) b_k^-s [G(lo) - G(hi)] / m``
with the tail integral ``G`` of the plain Pareto/NBD (``m = r+s+x``,
``G(u) = M^-m 2F1(m, c; m+1; z)``, ``M = max(P_k, Q_k) + u``,
``z = |P_k - Q_k| / M``), which is the paper's closed form; everything is
in log space, the hypergeometric function from
:mod:`crmkit.value._hyp2f1`. With constant covariates the pieces telescope
to the time-invariant covariate model; with all coefficients 0 to the
plain Pareto/NBD.

A *path* is a flat table of pieces, sorted by customer then time: each
piece has the customer's position ``cust``, bounds ``lo < hi`` in the
customer's time, and the covariate rows ``zp``, ``zd`` in force.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import digamma, gammaln

from crmkit.value._hyp2f1 import log_hyp2f1_c_a1

__all__ = ["Path", "dyn_conditional", "dyn_loglik", "dyn_loglik_grad", "dyn_p_alive"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@attrs.frozen
class Path:
    """Pieces of constant covariates, sorted by customer then time.

    Parameters
    ----------
    n : int
        Number of customers.
    cust : ndarray of shape (n_pieces,)
        Customer position of each piece (non-decreasing).
    lo, hi : ndarray of shape (n_pieces,)
        Bounds of each piece in the customer's time units (``lo < hi``),
        contiguous within a customer.
    zp, zd : ndarray of shape (n_pieces, k_purchase) and (n_pieces, k_dropout)
        Purchase and dropout covariate rows in force on each piece.

    Examples
    --------
    >>> p = Path(1, np.array([0, 0]), np.array([0.0, 1.0]), np.array([1.0, 2.5]),
    ...          np.zeros((2, 0)), np.array([[0.0], [1.0]]))
    >>> p.effects(np.zeros(0), np.array([np.log(2.0)]))[1].tolist()
    [1.0, 2.0]
    """

    n: int
    cust: IntArray
    lo: FloatArray
    hi: FloatArray
    zp: FloatArray
    zd: FloatArray

    def effects(self, gp: FloatArray, gd: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``exp(gamma_p' z_p)`` and ``exp(gamma_d' z_d)`` of each piece."""
        ea = np.asarray(np.exp(self.zp @ gp), dtype=np.float64)
        return ea, np.asarray(np.exp(self.zd @ gd), dtype=np.float64)

    def cumulative(self, eff: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Cumulative effect at each piece's start, and each customer's total."""
        inc = eff * (self.hi - self.lo)
        total = np.asarray(np.bincount(self.cust, weights=inc, minlength=self.n), dtype=np.float64)
        return _exclusive_cumsum(inc[:, None], self.cust)[:, 0], total


def _exclusive_cumsum(inc: FloatArray, cust: IntArray) -> FloatArray:
    """Sum of ``inc`` over the customer's earlier pieces, shape ``inc.shape``.

    Summed within each customer from 0 (a running total over all customers
    minus an offset would carry the rounding of the whole sum into every
    customer, making the likelihood jitter with the parameters).
    """
    if inc.shape[1] == 0 or len(inc) == 0:
        return np.zeros(inc.shape)
    running = pd.DataFrame(inc).groupby(cust, sort=False).cumsum().to_numpy(dtype=np.float64)
    return np.asarray(running - inc, dtype=np.float64)


def _segment_logsumexp(values: FloatArray, idx: IntArray, n: int) -> FloatArray:
    """``log(sum(exp(values)))`` per segment ``idx`` (``-inf`` for empty ones)."""
    top = np.full(n, -np.inf)
    np.maximum.at(top, idx, values)
    shift = np.where(np.isfinite(top), top, 0.0)
    total = np.bincount(idx, weights=np.exp(values - shift[idx]), minlength=n)
    with np.errstate(divide="ignore"):
        return np.asarray(np.log(total) + shift, dtype=np.float64)


def _log_tail(
    r: float, s: float, x: FloatArray, p_at: FloatArray, q_at: FloatArray, gradient: bool
) -> tuple[FloatArray, FloatArray]:
    """``log G`` where ``alpha+A = a p_at``, ``beta+B = b q_at``, and its gradient.

    The gradient columns are the derivatives wrt ``r``, ``s``, ``p_at`` and
    ``q_at`` (zeros unless ``gradient``).
    """
    m = r + s + x
    alpha_side = p_at >= q_at
    big = np.where(alpha_side, p_at, q_at)
    small = np.where(alpha_side, q_at, p_at)
    b = np.where(alpha_side, s + 1.0, r + x)
    c0 = np.where(alpha_side, r + x, s + 1.0)
    f = log_hyp2f1_c_a1(
        m, b, (big - small) / big, one_minus_z=small / big, c0=c0, gradient=gradient
    )
    log_big = np.log(big)
    value = np.asarray(f.value - m * log_big, dtype=np.float64)
    grad = np.zeros((len(m), 4))
    if gradient:
        base = f.d_a - log_big
        grad[:, 0] = base + np.where(alpha_side, 0.0, f.d_b)
        grad[:, 1] = base + np.where(alpha_side, f.d_b, 0.0)
        d_big = f.d_z * small / big**2 - m / big
        d_small = -f.d_z / big
        grad[:, 2] = np.where(alpha_side, d_big, d_small)
        grad[:, 3] = np.where(alpha_side, d_small, d_big)
    return value, grad


#: Gauss-Legendre nodes and weights on [0, 1] for short pieces.
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)
_GL_NODES = 0.5 * (_GL_NODES + 1.0)
_GL_WEIGHTS = 0.5 * _GL_WEIGHTS


def _piece_integrals(
    r: float,
    s: float,
    x: FloatArray,
    p_lo: FloatArray,
    q_lo: FloatArray,
    length: FloatArray,
    gradient: bool,
) -> tuple[FloatArray, FloatArray]:
    """``log(G(lo) - G(lo + length))`` of each piece and its gradient wrt ``r, s, P, Q``.

    ``G(lo) - G(hi) = m integral_0^length (P + u)^-(r+x) (Q + u)^-(s+1) du``
    with ``P``, ``Q`` at ``lo``. A piece short against its distance to the
    integrand's poles (``length <= min(P, Q) / 2``) is integrated by
    12-point Gauss-Legendre (error far below rounding there, where the
    difference of the closed form loses digits); a long one by the closed
    form.
    """
    m = r + s + x
    value = np.empty(len(x))
    grad = np.zeros((len(x), 4))
    short = length <= 0.5 * np.minimum(p_lo, q_lo)
    i = np.flatnonzero(short)
    if len(i):
        u = length[i, None] * _GL_NODES
        lp, lq = np.log(p_lo[i, None] + u), np.log(q_lo[i, None] + u)
        log_f = -(r + x[i, None]) * lp - (s + 1.0) * lq + np.log(length[i, None] * _GL_WEIGHTS)
        top = np.max(log_f, axis=1, keepdims=True)
        wf = np.exp(log_f - top)
        total = np.sum(wf, axis=1)
        value[i] = np.log(m[i]) + top[:, 0] + np.log(total)
        if gradient:
            wf /= total[:, None]
            grad[i, 0] = 1.0 / m[i] - np.sum(wf * lp, axis=1)
            grad[i, 1] = 1.0 / m[i] - np.sum(wf * lq, axis=1)
            grad[i, 2] = -(r + x[i]) * np.sum(wf / (p_lo[i, None] + u), axis=1)
            grad[i, 3] = -(s + 1.0) * np.sum(wf / (q_lo[i, None] + u), axis=1)
    j = np.flatnonzero(~short)
    if len(j):
        g_lo, dg_lo = _log_tail(r, s, x[j], p_lo[j], q_lo[j], gradient)
        g_hi, dg_hi = _log_tail(r, s, x[j], p_lo[j] + length[j], q_lo[j] + length[j], gradient)
        delta = np.minimum(g_hi - g_lo, 0.0)
        with np.errstate(divide="ignore"):
            value[j] = g_lo + np.log(-np.expm1(delta))
        if gradient:  # d log(G_lo - G_hi) = dG_lo + rho (dG_lo - dG_hi)
            with np.errstate(divide="ignore", over="ignore"):
                rho = np.where(delta < 0, 1.0 / np.expm1(-delta), 0.0)
            grad[j] = dg_lo + rho[:, None] * (dg_lo - dg_hi)
    return value, grad


def _cumulative_z(path: Path, eff: FloatArray, z: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Derivatives of the cumulative effect at each piece's start and of each total."""
    inc = (eff * (path.hi - path.lo))[:, None] * z
    total = np.zeros((path.n, z.shape[1]))
    np.add.at(total, path.cust, inc)
    return _exclusive_cumsum(inc, path.cust), total


def _parts(
    p: FloatArray,
    gp: FloatArray,
    gd: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    path: Path,
    gradient: bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Log of the alive term and of the bracket (times ``alpha^r beta^s``), per customer.

    With ``gradient``, also the gradient of the summed log bracket wrt
    ``(r, alpha, s, beta, gp, gd)``; otherwise an empty array.
    """
    r, alpha, s, beta = (float(v) for v in p)
    kp, kd = len(gp), len(gd)
    ea, eb = path.effects(gp, gd)
    a0, a_total = path.cumulative(ea)
    b0, b_total = path.cumulative(eb)
    alive = -r * np.log1p(a_total / alpha) - x * np.log(alpha + a_total)
    alive = alive - s * np.log1p(b_total / beta)
    keep = path.hi > np.maximum(path.lo, tx[path.cust])
    c = path.cust[keep]
    lo, hi, start = np.maximum(path.lo, tx[path.cust])[keep], path.hi[keep], path.lo[keep]
    ea_k, eb_k = ea[keep], eb[keep]
    xk = x[c]
    # alpha + A(u) = ea * (base_a + u) on the piece
    base_a = (alpha + a0[keep]) / ea_k - start
    base_b = (beta + b0[keep]) / eb_k - start
    diff, dd = _piece_integrals(r, s, xk, base_a + lo, base_b + lo, hi - lo, gradient)
    m = r + s + xk
    dead = (
        np.log(s)
        - np.log(m)
        + r * np.log(alpha)
        + s * np.log(beta)
        - (r + xk) * np.log(ea_k)
        - s * np.log(eb_k)
        + diff
    )
    terms = np.concatenate([alive, dead])
    owner = np.concatenate([np.arange(path.n), c])
    bracket = _segment_logsumexp(terms, owner, path.n)
    if not gradient:
        return alive, bracket, np.zeros(0)
    weight = np.exp(terms - bracket[owner])
    w_alive, w_dead = weight[: path.n], weight[path.n :]
    # alive term
    da0, da_total = _cumulative_z(path, ea, path.zp)
    db0, db_total = _cumulative_z(path, eb, path.zd)
    g = np.zeros(4 + kp + kd)
    g[0] = -np.sum(w_alive * np.log1p(a_total / alpha))
    g[1] = np.sum(w_alive * (r / alpha - (r + x) / (alpha + a_total)))
    g[2] = -np.sum(w_alive * np.log1p(b_total / beta))
    g[3] = np.sum(w_alive * (s / beta - s / (beta + b_total)))
    g[4 : 4 + kp] = -((w_alive * (r + x) / (alpha + a_total)) @ da_total)
    g[4 + kp :] = -((w_alive * s / (beta + b_total)) @ db_total)
    # dead pieces (dd: derivatives of the piece's log integral wrt r, s, P, Q)
    zp, zd = path.zp[keep], path.zd[keep]
    # P = (alpha + A_start)/ea - start + u; Q likewise
    dp_alpha = 1.0 / ea_k
    dp_gp = da0[keep] / ea_k[:, None] - ((alpha + a0[keep]) / ea_k)[:, None] * zp
    dq_beta = 1.0 / eb_k
    dq_gd = db0[keep] / eb_k[:, None] - ((beta + b0[keep]) / eb_k)[:, None] * zd
    g[0] += np.sum(w_dead * (np.log(alpha) - np.log(ea_k) - 1.0 / m + dd[:, 0]))
    g[1] += np.sum(w_dead * (r / alpha + dd[:, 2] * dp_alpha))
    g[2] += np.sum(w_dead * (1.0 / s + np.log(beta) - np.log(eb_k) - 1.0 / m + dd[:, 1]))
    g[3] += np.sum(w_dead * (s / beta + dd[:, 3] * dq_beta))
    g[4 : 4 + kp] += (w_dead * dd[:, 2]) @ dp_gp - (w_dead * (r + xk)) @ zp
    g[4 + kp :] += (w_dead * dd[:, 3]) @ dq_gd - (w_dead * s) @ zd
    return alive, bracket, g


def dyn_loglik_grad(
    p: FloatArray,
    gp: FloatArray,
    gd: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    sp: FloatArray,
    path: Path,
) -> tuple[float, FloatArray]:
    """Summed log-likelihood and its gradient wrt ``(r, alpha, s, beta, gp, gd)``.

    Arguments as in :func:`dyn_loglik`.

    Examples
    --------
    >>> path = Path(1, np.array([0, 0]), np.array([0.0, 10.0]), np.array([10.0, 30.0]),
    ...             np.array([[0.0], [1.0]]), np.zeros((2, 0)))
    >>> p = np.array([0.553, 10.578, 0.606, 11.669])
    >>> f, g = dyn_loglik_grad(p, np.array([0.3]), np.zeros(0), np.array([2.0]),
    ...                        np.array([20.0]), np.array([[1.0]]), path)
    >>> g.shape
    (5,)
    """
    r = float(p[0])
    _, bracket, g = _parts(p, gp, gd, x, tx, path, gradient=True)
    ll = gammaln(r + x) - gammaln(r) + sp @ gp + bracket
    g = g.copy()
    g[0] += float(np.sum(digamma(r + x) - digamma(r)))
    g[4 : 4 + len(gp)] += np.sum(sp, axis=0)
    return float(np.sum(ll)), g


def dyn_loglik(
    p: FloatArray,
    gp: FloatArray,
    gd: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    sp: FloatArray,
    path: Path,
) -> FloatArray:
    """Log-likelihood of each customer, shape ``(n_customers,)``.

    Parameters
    ----------
    p : ndarray of shape (4,)
        ``r, alpha, s, beta``.
    gp, gd : ndarray
        Purchase and dropout coefficients.
    x, tx : ndarray of shape (n_customers,)
        Repeat purchases and the time of the last one.
    sp : ndarray of shape (n_customers, k_purchase)
        Sum of the purchase covariate rows at the repeat purchases.
    path : Path
        The calibration path, covering ``[0, T]`` of each customer.

    Returns
    -------
    ndarray of shape (n_customers,)

    Examples
    --------
    >>> path = Path(1, np.array([0]), np.array([0.0]), np.array([30.0]),
    ...             np.zeros((1, 0)), np.zeros((1, 0)))
    >>> p = np.array([0.553, 10.578, 0.606, 11.669])
    >>> dyn_loglik(p, np.zeros(0), np.zeros(0), np.array([2.0]), np.array([20.0]),
    ...            np.zeros((1, 0)), path).round(4).tolist()
    [-8.8362]
    """
    r = float(p[0])
    _, bracket, _ = _parts(p, gp, gd, x, tx, path)
    return np.asarray(gammaln(r + x) - gammaln(r) + sp @ gp + bracket, dtype=np.float64)


def dyn_p_alive(
    p: FloatArray, gp: FloatArray, gd: FloatArray, x: FloatArray, tx: FloatArray, path: Path
) -> FloatArray:
    """Probability of being alive at ``T``, shape ``(n_customers,)``.

    Examples
    --------
    >>> path = Path(1, np.array([0]), np.array([0.0]), np.array([38.0]),
    ...             np.zeros((1, 0)), np.zeros((1, 0)))
    >>> p = np.array([0.553, 10.578, 0.606, 11.669])
    >>> dyn_p_alive(p, np.zeros(0), np.zeros(0), np.array([0.0]), np.array([0.0]),
    ...             path).round(3).tolist()
    [0.3]
    """
    alive, bracket, _ = _parts(p, gp, gd, x, tx, path)
    return np.asarray(np.exp(alive - bracket), dtype=np.float64)


def dyn_conditional(
    p: FloatArray,
    gp: FloatArray,
    gd: FloatArray,
    x: FloatArray,
    tx: FloatArray,
    path: Path,
    future: Path,
) -> FloatArray:
    """Expected purchases on the ``future`` path given the calibration ``path``.

    ``P(alive at T) (r+x)/(alpha+A(T)) sum_k a_k integral_k ((beta+B(T)) /
    (beta+B(u)))^s du``, each piece's integral in closed form.

    Parameters
    ----------
    p, gp, gd, x, tx, path
        As in :func:`dyn_loglik`.
    future : Path
        The pieces after ``T`` (``lo``/``hi`` in the customer's time).

    Returns
    -------
    ndarray of shape (n_customers,)

    Examples
    --------
    >>> path = Path(1, np.array([0]), np.array([0.0]), np.array([38.0]),
    ...             np.zeros((1, 0)), np.zeros((1, 0)))
    >>> future = Path(1, np.array([0]), np.array([38.0]), np.array([90.0]),
    ...               np.zeros((1, 0)), np.zeros((1, 0)))
    >>> p = np.array([0.553, 10.578, 0.606, 11.669])
    >>> dyn_conditional(p, np.zeros(0), np.zeros(0), np.array([2.0]), np.array([30.0]),
    ...                 path, future).round(3).tolist()
    [1.89]
    """
    r, alpha, s, beta = (float(v) for v in p)
    alive, bracket, _ = _parts(p, gp, gd, x, tx, path)
    _, a_total = path.cumulative(path.effects(gp, gd)[0])
    _, b_total = path.cumulative(path.effects(gp, gd)[1])
    fa, fb = future.effects(gp, gd)
    fb0, _ = future.cumulative(fb)
    c = future.cust
    q_end = beta + b_total[c]
    q_start = q_end + fb0
    u = np.log1p(fb * (future.hi - future.lo) / q_start)
    if abs(s - 1.0) < 1e-10:
        frac = u
    else:
        frac = -np.expm1((1.0 - s) * u) / (s - 1.0)
    piece = fa * (q_start / fb) * np.exp(s * (np.log(q_end) - np.log(q_start))) * frac
    integral = np.bincount(c, weights=piece, minlength=future.n)
    return np.asarray(
        np.exp(alive - bracket) * (r + x) / (alpha + a_total) * integral, dtype=np.float64
    )
