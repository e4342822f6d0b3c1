"""Spend covariates of the Gamma-Gamma model.

The scale of a customer's spend depends on time-invariant covariates ``z``
through the rate parameter of the gamma distribution of ``nu``:
``gamma_i = gamma * exp(delta' z)``. A customer's expected mean spend per
transaction, ``p * gamma_i / (q - 1)``, is therefore multiplied by
``exp(delta_j)`` per unit of ``z_j`` (a positive coefficient, higher spend);
``p`` and ``q`` are shared. This follows the way Fader & Hardie (2007) and
CLVTools let covariates scale the rate parameters of the purchase models.
Categorical columns are one-hot encoded against a reference level as in
:mod:`crmkit.value._covariates`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from crmkit.exceptions import ConvergenceWarning
from crmkit.value._canonical import canonical_rows
from crmkit.value._covariates import (
    CovariateDesign,
    check_identified,
    design_matrix,
    encode_column,
    store_fit,
)

__all__ = ["fit_spend_covariates", "spend_gamma", "spend_loglik"]

FloatArray = npt.NDArray[np.float64]


def spend_loglik(
    p: float, q: float, gamma: FloatArray, x: FloatArray, m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-density of mean spend ``m`` over ``x`` purchases with per-row ``gamma``.

    Returns ``(ll, grad)``, ``grad`` of shape ``(3, n)``: derivatives with
    respect to ``log p``, ``log q`` and ``log gamma_i``.

    Examples
    --------
    >>> import numpy as np
    >>> ll, _ = spend_loglik(2.0, 3.0, np.array([10.0]), np.array([1.0]), np.array([10.0]))
    >>> ll.round(4).tolist()
    [-3.2834]
    """
    a = p * x
    log_den = np.log(gamma + m * x)
    log_m, log_x, log_g = np.log(m), np.log(x), np.log(gamma)
    ll = (
        gammaln(a + q) - gammaln(a) - gammaln(q) + q * log_g + (a - 1.0) * log_m
        + a * log_x - (a + q) * log_den
    )
    psi_aq = digamma(a + q)
    d_p = p * x * (psi_aq - digamma(a) + log_m + log_x - log_den)
    d_q = q * (psi_aq - digamma(q) + log_g - log_den)
    d_g = q - (a + q) * gamma / (gamma + m * x)
    return np.asarray(ll, dtype=np.float64), np.vstack([d_p, d_q, d_g])


def spend_gamma(model: Any, view: Any, who: str) -> FloatArray:
    """Each customer's ``gamma_i`` under a model fitted with spend covariates."""
    design: CovariateDesign = model.covariates_
    z = design_matrix(view, design.purchase, f"GammaGamma.{who}")
    gamma = float(model.params_.gamma)
    return np.asarray(gamma * np.exp(z @ np.asarray(model.coef_)), dtype=np.float64)


def fit_spend_covariates(
    model: Any,
    view: Any,
    x: FloatArray,
    m: FloatArray,
    w: FloatArray,
    repeat: npt.NDArray[np.bool_],
) -> None:
    """Fit ``GammaGamma(spend_covariates=...)`` on the repeat buyers.

    Starts from the plain fit with all coefficients 0 (so the
    log-likelihood is at least the plain model's); see
    :func:`crmkit.value._covariates.store_fit`.
    """
    who = "GammaGamma.fit"
    encs = tuple(encode_column(view, str(c), who) for c in model.spend_covariates)
    design = CovariateDesign(encs, (), ("spend", ""))
    z_all = design_matrix(view, encs, who)
    z = z_all[repeat]
    check_identified(encs, z, "spend", who)
    plain = type(model)(penalizer=model.penalizer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain.fit({"frequency": x, "monetary_value": m}, weights=w)
    k = z.shape[1]
    cols, cw = canonical_rows([x[repeat], m[repeat], *z.T], w[repeat])
    xu, mu = cols[0], cols[1]
    zu = np.stack(cols[2:], axis=1)
    penalizer = float(model.penalizer)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, g0 = np.exp(theta[:3])
        gamma = g0 * np.exp(zu @ theta[3:])
        ll, grad = spend_loglik(float(p), float(q), gamma, xu, mu)
        gw = grad @ cw
        full = np.concatenate([gw, (grad[2] * cw) @ zu])
        f = -float(np.dot(cw, ll))
        if penalizer:
            base = np.exp(theta[:3])
            f += penalizer * float(np.sum(base**2) + np.sum(theta[3:] ** 2))
            full[:3] -= 2.0 * penalizer * base**2
            full[3:] -= 2.0 * penalizer * theta[3:]
        return f, -full

    theta0 = np.concatenate([np.log(plain._param_array()), np.zeros(k)])
    store_fit(model, design, objective, theta0, 3, float(cw.sum()), penalizer, who)
