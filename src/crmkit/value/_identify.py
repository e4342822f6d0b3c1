"""Deciding whether a maximum-likelihood fit is identified, flat, or runs to the edge.

Where the data cannot pin a parameter down, the optimiser stops somewhere
along a ridge or an asymptote of the likelihood, and exactly where depends on
floating-point details (library versions, the order of sums). The verdict
must not: it is taken from the likelihood itself with fixed thresholds, so
that one data set always gets one outcome.

* **Runs to the edge** (:class:`~crmkit.exceptions.ConvergenceError`,
  decided by :func:`~crmkit.value._mle.fit_mle`): the optimum lies on the
  edge of the search box ``[-EDGE, EDGE]`` of the log-parameters and beats
  the optimum in the box narrowed by :data:`CLIMB` by more than
  :data:`RISE_TOLERANCE`: the log-likelihood still rises at the edge (it
  grows without bound, or peaks beyond ``exp(EDGE)``).
  An optimiser that gives up beyond ``exp(EDGE - CLIMB)`` with the
  likelihood still rising raises alike.
* **Flat** (a :class:`~crmkit.exceptions.ConvergenceWarning` from the
  model, :func:`diagnose`): a parameter on the edge where the likelihood
  has levelled off, or a direction along which moving the parameters by a
  factor of ``e`` changes the log-likelihood by less than
  :data:`FLAT_TOLERANCE`. Those parameters' standard errors are NaN.
* Otherwise the fit is identified. When a probe finds a point better than
  the optimiser's by more than :data:`RISE_TOLERANCE` (it stopped early on a
  slowly rising ridge), the optimiser goes on from there first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import numpy as np
import numpy.typing as npt

__all__ = [
    "EDGE",
    "FLAT_TOLERANCE",
    "CLEAR_CURVATURE",
    "CLIMB",
    "MODERATE",
    "NOISE_FACTOR",
    "FLAT_LOADING",
    "RISE_TOLERANCE",
    "at_edge",
    "Verdict",
    "diagnose",
    "log_hessian",
]

FloatArray = npt.NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

#: The search box of the log-parameters is ``[-EDGE, EDGE]`` (``exp(20) ~ 4.9e8``):
#: beyond, the likelihoods' terms cancel to rounding noise.
EDGE = 20.0
#: Rise of the log-likelihood over the last ``CLIMB`` log-units of the box above
#: which a fit "runs to the edge".
RISE_TOLERANCE = 1e-2
#: Log-units by which the box is narrowed to see whether the likelihood still rises at its edge.
CLIMB = 4.0
#: Change of the log-likelihood, for parameters moved by a factor of ``e``, below which flat.
FLAT_TOLERANCE = 1e-3
#: The change must also exceed this multiple of the objective's rounding noise at the optimum.
NOISE_FACTOR = 8.0
#: With every log-parameter within ``+-MODERATE`` and every curvature of the
#: log-likelihood (per squared log-unit) at least ``CLEAR_CURVATURE``, the
#: fit is identified without probing (the probes would find changes of at
#: least ``CLEAR_CURVATURE / 2``, far above :data:`FLAT_TOLERANCE`).
MODERATE = 18.0
CLEAR_CURVATURE = 1.0
#: Share of a flat direction (absolute component of the unit vector) that names a parameter.
FLAT_LOADING = 0.2


def at_edge(theta: FloatArray) -> npt.NDArray[np.bool_]:
    """Which log-parameters sit on the edge of the search box.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        Log-parameters.

    Returns
    -------
    ndarray of bool, shape (n_params,)

    Examples
    --------
    >>> import numpy as np
    >>> at_edge(np.array([0.0, 30.0, -29.9999])).tolist()
    [False, True, True]
    """
    return np.asarray(np.abs(theta) >= EDGE - 1e-3, dtype=bool)


def log_hessian(natural: FloatArray, params: FloatArray, grad_log: FloatArray) -> FloatArray:
    """Hessian with respect to the log-parameters from the one in natural parameters.

    Parameters
    ----------
    natural : ndarray of shape (n_params, n_params)
        Hessian of the objective in the natural parameters.
    params : ndarray of shape (n_params,)
        The natural parameters.
    grad_log : ndarray of shape (n_params,)
        Gradient with respect to the log-parameters.

    Returns
    -------
    ndarray of shape (n_params, n_params)
        ``diag(p) H diag(p) + diag(grad_log)``, symmetrised.

    Examples
    --------
    >>> import numpy as np
    >>> log_hessian(np.array([[2.0]]), np.array([3.0]), np.array([0.0])).tolist()
    [[18.0]]
    """
    h = params[:, None] * natural * params[None, :] + np.diag(grad_log)
    return np.asarray(0.5 * (h + h.T), dtype=np.float64)


def _probe_directions(hess_log: FloatArray) -> list[FloatArray]:
    """Unit directions to probe: the Hessian's eigenvectors, each axis, each pair of axes.

    A pair ``e_i +- e_j`` is the straight line in log-parameters along which
    a ratio or a product of two parameters stays fixed: the degenerate
    limits of the gamma and beta mixtures (``r, alpha -> infinity`` with
    ``r / alpha`` fixed, ``p -> infinity`` with ``p * gamma`` fixed, ...)
    run exactly along them, whatever a noisy Hessian says.
    """
    k = len(hess_log)
    out: list[FloatArray] = []
    if np.all(np.isfinite(hess_log)):
        _, vectors = np.linalg.eigh(hess_log)
        out.extend(np.asarray(vectors[:, j], dtype=np.float64) for j in range(k))
    eye = np.eye(k)
    out.extend(eye[i] for i in range(k))
    for i in range(k):
        for j in range(i + 1, k):
            out.append((eye[i] + eye[j]) / np.sqrt(2.0))
            out.append((eye[i] - eye[j]) / np.sqrt(2.0))
    return out


def _value(objective: Objective, theta: FloatArray) -> float:
    try:
        f = float(objective(theta)[0])
    except (FloatingPointError, ValueError, ZeroDivisionError):
        return float(np.nan)
    return f


def _change(objective: Objective, theta: FloatArray, f0: float) -> float:
    try:
        f = float(objective(theta)[0])
    except (FloatingPointError, ValueError, ZeroDivisionError):
        return float(np.inf)
    return abs(f - f0) if np.isfinite(f) else float(np.inf)


def _clearly_identified(theta: FloatArray, hess_log: FloatArray) -> bool:
    """Whether the quadratic model alone settles it: curved everywhere, nothing extreme."""
    if not np.all(np.isfinite(hess_log)) or np.max(np.abs(theta)) > MODERATE:
        return False
    return bool(np.linalg.eigvalsh(hess_log)[0] >= CLEAR_CURVATURE)


@attrs.frozen
class Verdict:
    """The outcome of :func:`diagnose`.

    Parameters
    ----------
    flat : tuple of str
        Parameters the data cannot pin down (their standard errors are NaN).
    better : ndarray of shape (n_params,) or None, default=None
        A probed point (inside the box) where the objective is lower by more
        than :data:`RISE_TOLERANCE` plus the noise allowance: the optimiser
        stopped short of the maximum and must go on from there.

    Examples
    --------
    >>> Verdict(("alpha",)).flat
    ('alpha',)
    """

    flat: tuple[str, ...]
    better: FloatArray | None = None


def _noise(objective: Objective, theta: FloatArray, f0: float) -> float:
    """Rounding noise of the objective at ``theta``: the largest change for a step of 1e-6."""
    noise = max(_change(objective, theta + 1e-6 * e, f0) for e in np.eye(len(theta)))
    return noise if np.isfinite(noise) else 0.0


def diagnose(
    objective: Objective, theta: FloatArray, hess_log: FloatArray, names: Sequence[str]
) -> Verdict:
    """Name the parameters that the data cannot pin down at an optimum.

    Probed directions (unit vectors of the log-parameters): the eigenvectors
    of ``hess_log``, every axis and every pair of axes (``e_i +- e_j``). A
    direction is flat when a step of 1 along it, one way or the other (all
    parameters along it by a factor of ``e``), changes the objective by
    less than :data:`FLAT_TOLERANCE` plus :data:`NOISE_FACTOR` times its
    rounding noise at ``theta`` (the largest change for a step of ``1e-6``
    along an axis; negligible except at extreme parameters, where the
    likelihood's terms cancel). The parameters with a component of at
    least :data:`FLAT_LOADING` in a flat direction are named, and so are
    parameters on the edge of the box. A probed point inside the box whose
    objective is lower by more than :data:`RISE_TOLERANCE` (plus the same
    noise allowance) is returned as ``better`` instead: ``theta`` is no
    maximum (an optimiser stopped early on a slowly rising ridge).

    A fit with every log-parameter within ``+-MODERATE`` and every
    eigenvalue of ``hess_log`` at least :data:`CLEAR_CURVATURE` is
    identified without probing.

    Parameters
    ----------
    objective : callable
        ``theta -> (objective, gradient)``, minimised (a negative
        log-likelihood, penalised if the fit was).
    theta : ndarray of shape (n_params,)
        The optimum (log-parameters).
    hess_log : ndarray of shape (n_params, n_params)
        Hessian of the objective in log-parameters at ``theta``.
    names : sequence of str
        Parameter names.

    Returns
    -------
    Verdict

    Examples
    --------
    >>> import numpy as np
    >>> def obj(t):  # depends on t[0] - t[1] only: flat along (1, 1)
    ...     u = t[0] - t[1]
    ...     return float(u**2), np.array([2 * u, -2 * u])
    >>> diagnose(obj, np.zeros(2), np.full((2, 2), np.nan), ["r", "alpha"]).flat
    ('r', 'alpha')
    >>> def bowl(t):
    ...     return float(t @ t), 2 * t
    >>> diagnose(bowl, np.zeros(2), 2 * np.eye(2), ["r", "alpha"]).flat
    ()
    """
    theta = np.asarray(theta, dtype=np.float64)
    hess_log = np.asarray(hess_log, dtype=np.float64)
    edge = at_edge(theta)
    if not edge.any() and _clearly_identified(theta, hess_log):
        return Verdict(())
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        f0 = float(objective(theta)[0])
        allowance = NOISE_FACTOR * _noise(objective, theta, f0)
        flagged = edge.copy()
        best_f, best_point = f0, theta
        for d in _probe_directions(hess_log):
            changes = []
            for point in (theta + d, theta - d):
                f = _value(objective, point)
                changes.append(abs(f - f0) if np.isfinite(f) else np.inf)
                if f < best_f and not np.any(np.abs(point) > EDGE):
                    best_f, best_point = f, point
            if min(changes) < FLAT_TOLERANCE + allowance:
                flagged |= np.abs(d) >= FLAT_LOADING
    if f0 - best_f > RISE_TOLERANCE + allowance:
        return Verdict((), best_point)
    return Verdict(tuple(n for n, flag in zip(names, flagged, strict=True) if flag))
