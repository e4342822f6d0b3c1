"""Per-customer intervals from the sampling distribution of the models' parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import stats

from crmkit.value._equity import _log_covariance, _with_params

__all__ = ["delta_interval"]

FloatArray = npt.NDArray[np.float64]

#: Relative step (on the log-parameter / coefficient scale) of the differences.
_STEP = 1e-4


def delta_interval(
    values_of: Callable[..., FloatArray],
    models: Sequence[Any],
    level: float,
    roles: Sequence[str],
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per-customer delta-method interval of ``values_of(*models)``.

    Each model's parameters (logarithms, then any covariate coefficients)
    are taken as normal with the covariance of their estimates; the
    Jacobian of every customer's value with respect to them comes from
    central differences, and ``value +- z * sqrt(J S J')`` is the interval
    (the models are independent: their covariances form a block-diagonal
    ``S``). It reflects the estimation error of the parameters only, not
    the randomness of the customer's future purchases, and relies on the
    estimates being approximately normal (large samples).

    Parameters
    ----------
    values_of : callable
        ``values_of(*models) -> ndarray of shape (n_customers,)``.
    models : sequence of fitted models
        With ``params_`` and ``covariance_`` (and, with covariates,
        ``coef_`` and ``full_covariance_``).
    level : float
        Coverage, in (0, 1).
    roles : sequence of str
        The models' roles, for error messages (``"purchase"``, ``"spend"``).

    Returns
    -------
    value, low, high : ndarray of shape (n_customers,)

    Raises
    ------
    InvalidParameterError
        When a model has no finite covariance (built with ``from_params``,
        or a singular Hessian).

    Examples
    --------
    >>> import numpy as np
    >>> from crmkit.value import ParetoNBD
    >>> truth = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> view = truth.sample(2000, 39.0, seed=1)
    >>> m = ParetoNBD().fit(view)
    >>> v, lo, hi = delta_interval(
    ...     lambda pm: pm.p_alive(view.head(3)).to_numpy(), [m], 0.9, ["purchase"])
    >>> bool(np.all((lo <= v) & (v <= hi)))
    True
    """
    uncertainty = [_log_covariance(m, role) for m, role in zip(models, roles, strict=True)]
    base = np.asarray(values_of(*models), dtype=np.float64)
    variance = np.zeros(len(base))
    for which, (values, cov) in enumerate(uncertainty):
        k = len(attrs.fields(type(models[which].params_)))
        columns = []
        for j in range(len(values)):
            shifted = []
            for sign in (1.0, -1.0):
                moved = values.copy()
                if j < k:
                    moved[j] *= np.exp(sign * _STEP)
                else:
                    moved[j] += sign * _STEP
                pair = list(models)
                pair[which] = _with_params(models[which], moved)
                shifted.append(np.asarray(values_of(*pair), dtype=np.float64))
            columns.append((shifted[0] - shifted[1]) / (2.0 * _STEP))
        jac = np.array(columns).T  # customers x parameters
        variance += np.einsum("ij,jk,ik->i", jac, cov, jac)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    half = z * np.sqrt(np.maximum(variance, 0.0))
    return base, base - half, base + half
