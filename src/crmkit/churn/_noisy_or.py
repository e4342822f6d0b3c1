"""The noisy-OR combination of signal strengths, its attribution and its fit."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, logit

from crmkit.exceptions import ConvergenceError

__all__ = ["noisy_or", "fit_noisy_or", "fit_noisy_or_weights"]

FloatArray = npt.NDArray[np.float64]
_EDGE = 1e-4  # weights and base rate are kept in [_EDGE, 1 - _EDGE] while learning


def noisy_or(
    strengths: FloatArray, weights: FloatArray, base_rate: float | FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Churn risk as a noisy-OR of weighted signals, and each signal's share of it.

    ``risk = 1 - (1 - base_rate) * prod_k (1 - weight_k * strength_k)``: each
    signal independently "causes" churn with probability ``weight_k *
    strength_k``. The risk is split over the signals in proportion to their
    hazards ``-log(1 - weight_k * strength_k)`` (which add up, with the base
    rate's, to ``-log(1 - risk)``); the base rate's share is not returned.

    Parameters
    ----------
    strengths : numpy.ndarray of float, shape (n_customers, n_signals)
        Signal strengths in [0, 1].
    weights : numpy.ndarray of float, shape (n_signals,)
        Weights in [0, 1).
    base_rate : float or numpy.ndarray of float, shape (n_customers,)
        Risk when no signal fires, in [0, 1] (one per customer, e.g. a
        purchase model's probability of no purchase, or one for all).

    Returns
    -------
    risk : numpy.ndarray of float, shape (n_customers,)
    contributions : numpy.ndarray of float, shape (n_customers, n_signals)

    Examples
    --------
    >>> risk, parts = noisy_or(np.array([[1.0, 0.5]]), np.array([0.2, 0.4]), 0.0)
    >>> round(float(risk[0]), 4), round(float(parts.sum()), 4)
    (0.36, 0.36)
    """
    s = np.asarray(strengths, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    n, k = s.shape
    hazards = np.empty((n, k), dtype=np.float64, order="F")  # filled column by column
    with np.errstate(divide="ignore"):  # a base rate of 1: survival 0
        base_log = np.log1p(-np.asarray(base_rate, dtype=np.float64))
    log_survive = np.array(np.broadcast_to(base_log, (n,)), dtype=np.float64)
    for j in range(k):  # column by column: identical arithmetic for any number of rows
        hazards[:, j] = -np.log1p(-w[j] * s[:, j])
        log_survive = log_survive - hazards[:, j]
    risk = -np.expm1(log_survive)
    total = -log_survive
    finite = (total > 0) & np.isfinite(total)
    share = np.where(finite, risk / np.where(finite, total, 1.0), 0.0)
    contributions = hazards * share[:, None]
    return risk, contributions


def fit_noisy_or(
    strengths: FloatArray,
    y: npt.NDArray[np.bool_],
    weights: FloatArray,
    base_rate: float,
    prior_strength: float,
) -> tuple[FloatArray, float]:
    """Maximum a-posteriori noisy-OR weights and base rate from churn labels.

    Parameters are fitted on the logit scale with a Gaussian prior centred on
    the given weights and base rate (precision ``prior_strength``), so that
    signals that never fire keep their prior weight and small samples stay
    near the defaults. Identical rows are collapsed first.

    Parameters
    ----------
    strengths : numpy.ndarray of float, shape (n_customers, n_signals)
        Signal strengths in [0, 1].
    y : numpy.ndarray of bool, shape (n_customers,)
        Churn labels.
    weights : numpy.ndarray of float, shape (n_signals,)
        Prior weights.
    base_rate : float
        Prior base rate.
    prior_strength : float
        Precision of the prior on the logit scale (> 0).

    Returns
    -------
    weights : numpy.ndarray of float, shape (n_signals,)
    base_rate : float

    Raises
    ------
    ConvergenceError
        When the optimiser fails.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = (rng.random((4000, 1)) < 0.3).astype(float)
    >>> y = rng.random(4000) < 1 - (1 - 0.05) * (1 - 0.5 * s[:, 0])
    >>> w, b = fit_noisy_or(s, y, np.array([0.2]), 0.02, 1.0)
    >>> round(float(w[0]), 1), abs(b - 0.05) < 0.02
    (0.5, True)
    """
    s = np.asarray(strengths, dtype=np.float64)
    yy = np.asarray(y, dtype=np.float64)
    rows = np.column_stack([s, yy])
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    cs, cy, cw = unique[:, :-1], unique[:, -1], counts.astype(np.float64)
    prior = logit(np.clip(np.r_[base_rate, weights], _EDGE, 1.0 - _EDGE))
    bound = float(logit(1.0 - _EDGE))

    def objective(params: FloatArray) -> tuple[float, FloatArray]:
        base = expit(params[0])
        w = expit(params[1:])
        ws = cs * w[None, :]
        log_surv = np.log1p(-base) + np.log1p(-ws).sum(axis=1)
        log_p = np.log(-np.expm1(np.minimum(log_surv, -1e-300)))
        ll = np.where(cy > 0, log_p, log_surv)
        diff = params - prior
        value = -float(cw @ ll) + 0.5 * prior_strength * float(diff @ diff)
        # d ll / d log_surv: 1 for stayers, -(1 - p) / p for churners
        dl = np.where(cy > 0, -np.exp(log_surv - log_p), 1.0) * cw
        grad = np.empty_like(params)
        grad[0] = float(dl.sum()) * base
        dws = -(cs * (w * (1.0 - w))[None, :]) / (1.0 - ws)
        grad[1:] = -(dl[:, None] * dws).sum(axis=0)
        grad += prior_strength * diff
        return value, grad

    x = _minimize_logits(objective, prior, bound, "SignalRules: learning the weights")
    return np.asarray(expit(x[1:]), dtype=np.float64), float(expit(x[0]))


def fit_noisy_or_weights(
    strengths: FloatArray,
    y: npt.NDArray[np.bool_],
    weights: FloatArray,
    base: FloatArray,
    prior_strength: float,
) -> FloatArray:
    """Maximum a-posteriori noisy-OR weights on top of a fixed per-customer base risk.

    As :func:`fit_noisy_or`, but the base risk of each customer is given
    (e.g. a purchase model's probability of no purchase) and only the signal
    weights are learned, on the logit scale with a Gaussian prior centred on
    ``weights`` (precision ``prior_strength``). A signal that adds nothing to
    the base risk ends with a weight near 0.

    Parameters
    ----------
    strengths : numpy.ndarray of float, shape (n_customers, n_signals)
        Signal strengths in [0, 1].
    y : numpy.ndarray of bool, shape (n_customers,)
        Churn labels.
    weights : numpy.ndarray of float, shape (n_signals,)
        Prior weights.
    base : numpy.ndarray of float, shape (n_customers,)
        Each customer's risk when no signal fires, in [0, 1].
    prior_strength : float
        Precision of the prior on the logit scale (> 0).

    Returns
    -------
    numpy.ndarray of float, shape (n_signals,)

    Raises
    ------
    ConvergenceError
        When the optimiser fails.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = rng.uniform(0.1, 0.6, 6000)
    >>> s = (rng.random((6000, 2)) < 0.3).astype(float)
    >>> y = rng.random(6000) < 1 - (1 - base) * (1 - 0.4 * s[:, 0])  # signal 2 adds nothing
    >>> w = fit_noisy_or_weights(s, y, np.array([0.2, 0.2]), base, 1.0)
    >>> round(float(w[0]), 1), bool(w[1] < 0.05)
    (0.4, True)
    """
    s0 = np.asarray(strengths, dtype=np.float64)
    y0 = np.asarray(y, dtype=bool)
    b0 = np.asarray(base, dtype=np.float64)
    order = np.lexsort((y0, *s0.T[::-1], b0)[::-1])  # a canonical order: sums ignore row order
    s, yy = s0[order], y0[order]
    b = np.clip(b0[order], 0.0, 1.0 - 1e-12)
    log_base = np.log1p(-b)
    prior = logit(np.clip(np.asarray(weights, dtype=np.float64), _EDGE, 1.0 - _EDGE))
    bound = float(logit(1.0 - _EDGE))

    def objective(params: FloatArray) -> tuple[float, FloatArray]:
        w = expit(params)
        ws = s * w[None, :]
        log_surv = log_base + np.log1p(-ws).sum(axis=1)
        log_p = np.log(-np.expm1(np.minimum(log_surv, -1e-300)))
        ll = np.where(yy, log_p, log_surv)
        diff = params - prior
        value = -float(ll.sum()) + 0.5 * prior_strength * float(diff @ diff)
        dl = np.where(yy, -np.exp(log_surv - log_p), 1.0)
        dws = -(s * (w * (1.0 - w))[None, :]) / (1.0 - ws)
        grad = -(dl[:, None] * dws).sum(axis=0) + prior_strength * diff
        return value, grad

    x = _minimize_logits(objective, prior, bound, "AliveChurn: learning the signal weights")
    return np.asarray(expit(x), dtype=np.float64)


def _minimize_logits(
    objective: Callable[[FloatArray], tuple[float, FloatArray]],
    prior: FloatArray,
    bound: float,
    what: str,
) -> FloatArray:
    """Minimise a penalised objective over logits in ``[-bound, bound]``, from ``prior``."""
    result = minimize(
        objective,
        prior.copy(),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-bound, bound)] * len(prior),
        options={"maxiter": 500},
    )
    if not np.all(np.isfinite(result.x)):
        raise ConvergenceError(f"{what} failed ({result.message})")
    return np.asarray(result.x, dtype=np.float64)
