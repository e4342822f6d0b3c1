"""Deciding whether a maximum-likelihood fit is identified, flat, or runs to the edge.

Where the data cannot pin a parameter down, the optimiser stops somewhere
along a ridge or an asymptote of the likelihood, and exactly where depends on
floating-point details (library versions, the order of sums). The verdict
must not: it is taken from the likelihood itself with fixed thresholds, so
that one data set always gets one outcome.

* **Runs to the edge** (:class:`~crmkit.exceptions.ConvergenceError`):
  along some direction of the log-parameters the log-likelihood still rises,
  out toward the edge of the parameter space, by more than
  :data:`RISE_TOLERANCE`. It has no maximum the model can report (it grows
  without bound, or peaks beyond ``exp(EDGE)``).
* **Flat** (a :class:`~crmkit.exceptions.ConvergenceWarning` from the
  model): it does not rise, but along some direction moving the parameters
  by a factor of ``e`` changes it by less than :data:`FLAT_TOLERANCE` (it
  levels off toward a degenerate limit, or a ridge), or a parameter sits on
  the edge of the search box. Those parameters' standard errors are NaN.
* Otherwise the fit is identified.
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
    "MODERATE",
    "NOISE_FACTOR",
    "FLAT_LOADING",
    "PROBE",
    "RISE_TOLERANCE",
    "at_edge",
    "Verdict",
    "diagnose",
    "log_hessian",
]

FloatArray = npt.NDArray[np.float64]
Objective = Callable[[FloatArray], tuple[float, FloatArray]]

#: The search box of the log-parameters is ``[-EDGE, EDGE]`` (``exp(30) ~ 1e13``).
EDGE = 30.0
#: How much further out (log-units) the edge probe searches.
PROBE = 10.0
#: Log-likelihood rise toward the edge above which a fit "runs to the edge".
RISE_TOLERANCE = 1e-2
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
    rising : tuple of str
        When the log-likelihood keeps rising toward the edge: the limits it
        rises toward (``"q -> infinity"``, ...); empty otherwise.
    rise : float
        By how much it rises there (0 when it does not).
    toward : ndarray of shape (n_params,) or None, default=None
        The log-parameters where it rose most (None when it does not).

    Examples
    --------
    >>> Verdict((), (), 0.0).flat
    ()
    """

    flat: tuple[str, ...]
    rising: tuple[str, ...]
    rise: float
    toward: FloatArray | None = None


def _march(
    objective: Objective, theta: FloatArray, d: FloatArray, f0: float
) -> tuple[float, float]:
    """Lowest objective along the ray ``theta + t d``, ``t = 1, 2, 4, ...``, inside the box."""
    best, where = f0, 0.0
    t = 1.0
    while np.all(np.abs(theta + t * d) <= EDGE):
        try:
            f = float(objective(theta + t * d)[0])
        except (FloatingPointError, ValueError, ZeroDivisionError):
            break
        if not np.isfinite(f) or f > f0 + 1.0:  # clearly worse out there
            break
        if f < best:
            best, where = f, t
        t *= 2.0
    return best, where


def diagnose(
    objective: Objective, theta: FloatArray, hess_log: FloatArray, names: Sequence[str]
) -> Verdict:
    """Decide whether a fit is identified, flat, or rising toward the edge.

    Probed directions (unit vectors of the log-parameters): the eigenvectors
    of ``hess_log``, every axis and every pair of axes (``e_i +- e_j``).
    Along each, both ways, the objective is evaluated at ``t = 1, 2, 4, ...``
    log-units out to ``EDGE + PROBE``.

    * If it falls anywhere below its value at ``theta`` by more than
      :data:`RISE_TOLERANCE` plus :data:`NOISE_FACTOR` times its rounding
      noise there (the largest change for a step of ``1e-6`` along an
      axis), the log-likelihood keeps rising toward the edge: ``rising``
      names the limits.
    * Else a direction is flat when a step of ``t = 1`` (all parameters
      along it by a factor of ``e``) changes it by less than
      :data:`FLAT_TOLERANCE` (plus the same noise allowance) both ways; the
      parameters with a component of at least :data:`FLAT_LOADING` are
      named, and so are parameters on the edge of the box.

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
    >>> diagnose(bowl, np.zeros(2), 2 * np.eye(2), ["r", "alpha"])
    Verdict(flat=(), rising=(), rise=0.0)
    >>> def ramp(t):  # the likelihood grows without bound as r -> infinity
    ...     return -float(t[0]), np.array([-1.0, 0.0])
    >>> diagnose(ramp, np.zeros(2), np.zeros((2, 2)), ["r", "alpha"]).rising
    ('r -> infinity',)
    """
    theta = np.asarray(theta, dtype=np.float64)
    hess_log = np.asarray(hess_log, dtype=np.float64)
    edge = at_edge(theta)
    if not edge.any() and _clearly_identified(theta, hess_log):
        return Verdict((), (), 0.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        f0 = float(objective(theta)[0])
        # rounding noise of the objective here (large at extreme parameters)
        noise = max(_change(objective, theta + 1e-6 * e, f0) for e in np.eye(len(theta)))
        allowance = NOISE_FACTOR * (noise if np.isfinite(noise) else 0.0)
        flagged = edge.copy()
        best_rise, best_dir, best_t = 0.0, np.zeros(len(theta)), 0.0
        for d in _probe_directions(hess_log):
            steps = []
            for sign in (1.0, -1.0):
                steps.append(_change(objective, theta + sign * d, f0))
                lowest, t = _march(objective, theta, sign * d, f0)
                if f0 - lowest > best_rise:
                    best_rise, best_dir, best_t = f0 - lowest, sign * d, t
            if min(steps) < FLAT_TOLERANCE + allowance:
                flagged |= np.abs(d) >= FLAT_LOADING
        if best_rise > RISE_TOLERANCE + allowance:
            # the rise must also stand out of the rounding noise where it was found
            far = theta + best_t * best_dir
            f_far = f0 - best_rise
            far_noise = max(_change(objective, far + 1e-6 * e, f_far) for e in np.eye(len(theta)))
            if not best_rise > RISE_TOLERANCE + NOISE_FACTOR * far_noise:
                best_rise = 0.0
    if best_rise > RISE_TOLERANCE + allowance:
        rising = tuple(
            f"{n} -> {'infinity' if v > 0 else '0'}"
            for n, v in zip(names, best_dir, strict=True)
            if abs(v) >= FLAT_LOADING
        )
        return Verdict((), rising, best_rise, theta + best_t * best_dir)
    return Verdict(tuple(n for n, flag in zip(names, flagged, strict=True) if flag), (), 0.0)
