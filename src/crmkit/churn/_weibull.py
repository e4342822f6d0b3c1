"""Likelihood and prediction of the Weibull-lifetime purchase model of SurvivalChurn.

Per customer: ``x`` repeat purchases, ``t_x`` the time of the last one and
``T`` the age, all counted from the first purchase. While alive the
customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``
(heterogeneous across customers); the lifetime ``L`` is Weibull with shape
``c`` and scale ``exp(eta)``, ``eta`` linear in the covariates. The customer
was alive at ``t_x``; the dropout is unseen: after ``T`` (survival
``S(T)``), or somewhere in ``(t_x, T]`` -- the time since the last purchase,
during which a silent customer may already be gone. With ``G(tau) =
E[lambda**x exp(-lambda tau)] = Gamma(r + x) / Gamma(r) * alpha**r /
(alpha + tau)**(r + x)`` the likelihood of the history is

    G(T) S(T) + integral_{t_x}^{T} G(tau) f(tau) d tau

(the Pareto/NBD likelihood of Schmittlein, Morrison & Colombo (1987) when
``c = 1``). The integral is computed by Gauss-Legendre quadrature after the
substitution ``tau = t_x + (T - t_x) u**3``, which removes the singularity of
``f`` at ``tau = 0`` for ``c >= 1/3``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

__all__ = ["Histories", "history_loglik", "p_gone_by"]

FloatArray = npt.NDArray[np.float64]
N_NODES = 32
_U, _W = np.polynomial.legendre.leggauss(N_NODES)
_U = (_U + 1.0) / 2.0  # nodes on (0, 1)
_W = _W / 2.0


class Histories:
    """The customers' histories and the quadrature grid of their silent spans.

    Parameters
    ----------
    x : numpy.ndarray of float, shape (n,)
        Repeat purchases.
    t_x : numpy.ndarray of float, shape (n,)
        Time of the last purchase since the first.
    T : numpy.ndarray of float, shape (n,)
        Time from the first purchase to the as-of date.

    Attributes
    ----------
    x, t_x, T : numpy.ndarray of float, shape (n,)
    log_T : numpy.ndarray of float, shape (n,)
        ``log T`` (0 where ``T`` is 0, unused there).
    tau, log_tau, log_weight : numpy.ndarray of float, shape (n, N_NODES)
        Quadrature nodes in ``(t_x, T)``, their logs and the log weights
        (``-inf`` where ``t_x = T``).

    Examples
    --------
    >>> h = Histories(np.array([1.0]), np.array([2.0]), np.array([10.0]))
    >>> bool((h.tau > 2).all() and (h.tau < 10).all()), round(float(np.exp(h.log_weight).sum()), 6)
    (True, 8.0)
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:
        self.x = np.asarray(x, dtype=np.float64)
        self.t_x = np.asarray(t_x, dtype=np.float64)
        self.T = np.asarray(T, dtype=np.float64)
        self.has_T = self.T > 0
        self.log_T = np.log(np.where(self.has_T, self.T, 1.0))
        span = np.maximum(self.T - self.t_x, 0.0)
        self.tau = self.t_x[:, None] + span[:, None] * _U[None, :] ** 3
        self.log_tau = np.log(np.maximum(self.tau, 1e-300))
        jac = span[:, None] * 3.0 * _U[None, :] ** 2 * _W[None, :]
        with np.errstate(divide="ignore"):
            self.log_weight = np.where(jac > 0, np.log(np.where(jac > 0, jac, 1.0)), -np.inf)


def _hazard(log_hazard: FloatArray) -> FloatArray:
    """``exp(log_hazard)`` capped at ``exp(300)`` (a survival ``exp(-hazard)`` is 0 there).

    The cap keeps products with the hazard finite when an optimiser probes
    extreme parameters.
    """
    return np.asarray(np.exp(np.minimum(log_hazard, 300.0)), dtype=np.float64)


def _row_logsumexp(terms: FloatArray) -> FloatArray:
    """``log(sum(exp(terms), axis=1))``, stable; row by row the same for any row count."""
    top = terms.max(axis=1)
    safe = np.where(np.isfinite(top), top, 0.0)
    return np.asarray(safe + np.log(np.exp(terms - safe[:, None]).sum(axis=1)), dtype=np.float64)


def _log_terms(
    h: Histories, eta: FloatArray, r: float, alpha: float, c: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Log of each term of the likelihood, column 0 = alive at T, then the nodes."""
    const = gammaln(r + h.x) - gammaln(r) + r * np.log(alpha)
    log_g_T = const - (r + h.x) * np.log(alpha + h.T)
    haz_T = np.where(h.has_T, _hazard(c * (h.log_T - eta)), 0.0)
    haz_tau = _hazard(c * (h.log_tau - eta[:, None]))
    log_g_tau = const[:, None] - (r + h.x)[:, None] * np.log(alpha + h.tau)
    log_f = np.log(c) + (c - 1.0) * h.log_tau - c * eta[:, None] - haz_tau
    terms = np.empty((len(eta), N_NODES + 1), dtype=np.float64)
    terms[:, 0] = log_g_T - haz_T
    terms[:, 1:] = h.log_weight + log_g_tau + log_f
    return terms, haz_T, haz_tau


def history_loglik(
    h: Histories, eta: FloatArray, r: float, alpha: float, c: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Per-customer log-likelihood and its derivatives.

    Parameters
    ----------
    h : Histories
        The histories.
    eta : numpy.ndarray of float, shape (n,)
        Log Weibull scale of each customer's lifetime.
    r, alpha : float
        Gamma shape and rate of the purchase rates (> 0).
    c : float
        Weibull shape of the lifetime (> 0).

    Returns
    -------
    loglik : numpy.ndarray of float, shape (n,)
    d_eta, d_r, d_alpha, d_c : numpy.ndarray of float, shape (n,)
        Derivatives with respect to ``eta``, ``r``, ``alpha`` and ``c``.

    Examples
    --------
    >>> h = Histories(np.array([2.0]), np.array([20.0]), np.array([30.0]))
    >>> ll = history_loglik(h, np.array([np.log(50.0)]), 1.5, 5.0, 1.0)[0]
    >>> # the Pareto/NBD closed form with s -> infinity, beta -> infinity, s / beta = 1 / 50
    >>> lam = np.linspace(1e-6, 5, 400001)
    >>> dens = lam ** 0.5 * np.exp(-5 * lam); dens /= np.trapezoid(dens, lam)
    >>> mu = 1 / 50
    >>> like = lam**2 * mu / (lam + mu) * np.exp(-(lam + mu) * 20) + lam**3 / (
    ...     lam + mu) * np.exp(-(lam + mu) * 30)
    >>> round(float(ll[0]), 4), round(float(np.log(np.trapezoid(like * dens, lam))), 4)
    (-8.9594, -8.9594)
    """
    terms, haz_T, haz_tau = _log_terms(h, eta, r, alpha, c)
    loglik = _row_logsumexp(terms)
    pi = np.exp(terms - loglik[:, None])
    pi0, pin = pi[:, 0], pi[:, 1:]
    x = h.x
    # d/d eta: column 0 -> c H(T); nodes -> -c + c H(tau)
    d_eta = pi0 * c * haz_T + (pin * (c * haz_tau - c)).sum(axis=1)
    # d/d c
    lT = np.where(h.has_T, h.log_T - eta, 0.0)
    ltau = h.log_tau - eta[:, None]
    d_c = pi0 * (-haz_T * lT) + (pin * (1.0 / c + ltau - haz_tau * ltau)).sum(axis=1)
    # d/d r and d/d alpha: a common part plus each column's -(r + x) log(alpha + tau)
    log_a_T = np.log(alpha + h.T)
    log_a_tau = np.log(alpha + h.tau)
    d_r = (digamma(r + x) - digamma(r) + np.log(alpha)
           - pi0 * log_a_T - (pin * log_a_tau).sum(axis=1))  # fmt: skip
    d_alpha = (r / alpha - (r + x) * (pi0 / (alpha + h.T)
                                      + (pin / (alpha + h.tau)).sum(axis=1)))  # fmt: skip
    return loglik, d_eta, d_r, d_alpha, d_c


def p_gone_by(
    h: Histories, eta: FloatArray, r: float, alpha: float, c: float, horizon: float
) -> FloatArray:
    """Probability that each customer has dropped out by ``T + horizon``.

    ``1 - G(T) S(T + horizon) / likelihood``: gone already (silently, since
    the last purchase) or leaving within the horizon.

    Parameters
    ----------
    h : Histories
        The histories.
    eta : numpy.ndarray of float, shape (n,)
        Log Weibull scale of each customer's lifetime.
    r, alpha, c : float
        Model parameters.
    horizon : float
        Horizon in the view's time unit (>= 0).

    Returns
    -------
    numpy.ndarray of float, shape (n,)
        In [0, 1].

    Examples
    --------
    >>> h = Histories(np.array([0.0]), np.array([0.0]), np.array([0.0]))
    >>> round(float(p_gone_by(h, np.array([np.log(10.0)]), 1.0, 1.0, 1.0, 5.0)[0]), 4)
    0.3935
    """
    terms, _, _ = _log_terms(h, eta, r, alpha, c)
    loglik = _row_logsumexp(terms)
    end = h.T + horizon
    with np.errstate(divide="ignore"):
        log_end = np.log(end)
    haz_end = np.where(end > 0, _hazard(c * (log_end - eta)), 0.0)
    log_g_T = terms[:, 0] + np.where(h.has_T, _hazard(c * (h.log_T - eta)), 0.0)
    log_alive = np.minimum(log_g_T - haz_end - loglik, 0.0)
    return np.asarray(-np.expm1(log_alive), dtype=np.float64)
