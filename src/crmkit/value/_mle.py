"""Maximum-likelihood machinery shared by the value models.

Optimises on log-parameters with L-BFGS-B and an analytic gradient, adds an
optional L2 penalty, and derives standard errors from the objective's own
Hessian when it has one (analytic, or :class:`CachedObjective`'s forward
differences) and otherwise from central differences of the analytic gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from scipy import optimize

from crmkit.exceptions import ConvergenceError
from crmkit.value._identify import CLIMB, EDGE, RISE_TOLERANCE, at_edge, diagnose, log_hessian

__all__ = [
    "CachedObjective",
    "MLEResult",
    "fit_mle",
    "hessian_standard_errors",
    "hessian_covariance",
]

FloatArray = npt.NDArray[np.float64]
#: ``objective(theta) -> (negative log-likelihood, gradient wrt theta)`` where
#: ``theta = log(params)``.
Objective = Callable[[FloatArray], tuple[float, FloatArray]]


@attrs.frozen
class MLEResult:
    """The outcome of :func:`fit_mle`.

    Parameters
    ----------
    params : ndarray of shape (n_params,)
        Estimates on the natural scale.
    log_likelihood : float
        Unpenalised log-likelihood at the estimates.
    standard_errors : ndarray of shape (n_params,)
        From the inverse Hessian (natural scale); NaN where the Hessian is
        singular (reported, never used silently).
    converged : bool
        Whether the optimiser reported success.
    n_iter : int
        Iterations used.
    message : str
        The optimiser's message.
    covariance : ndarray of shape (n_params, n_params) or None, default=None
        Asymptotic covariance of the estimates (natural scale), the inverse
        observed information; all NaN when the Hessian is not positive
        definite or the likelihood is flat; None when not computed.
    flat : tuple of str, default=()
        Parameters the data cannot pin down (see
        :mod:`crmkit.value._identify`): the likelihood is flat along a
        direction that moves them, or levels off at the edge of the
        parameter space. Their standard errors are NaN.

    Examples
    --------
    >>> import numpy as np
    >>> MLEResult(np.ones(1), -1.0, np.zeros(1), True, 3, "ok").converged
    True
    """

    params: FloatArray
    log_likelihood: float
    standard_errors: FloatArray
    converged: bool
    n_iter: int
    message: str
    covariance: FloatArray | None = None
    flat: tuple[str, ...] = ()


def _penalised(objective: Objective, penalizer: float) -> Objective:
    if penalizer == 0:
        return objective

    def wrapped(theta: FloatArray) -> tuple[float, FloatArray]:
        f, g = objective(theta)
        p = np.exp(theta)
        return f + penalizer * float(np.sum(p**2)), g + 2.0 * penalizer * p**2

    return wrapped


def hessian_standard_errors(objective: Objective, params: FloatArray) -> FloatArray:
    """Standard errors on the natural scale from the observed information.

    The Hessian of the negative log-likelihood with respect to the natural
    parameters is obtained by central differences of the analytic gradient
    (chain rule from the log scale) and symmetrised.

    Parameters
    ----------
    objective : callable
        ``theta -> (negll, grad wrt theta)`` with ``theta = log(params)``.
    params : ndarray of shape (n_params,)
        The estimates (natural scale, > 0).

    Returns
    -------
    ndarray of shape (n_params,)
        NaN where the Hessian is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> def obj(theta):  # negll of N(mu, 1) data [1, 2, 3] in mu = exp(theta)
    ...     mu = np.exp(theta[0]); x = np.array([1.0, 2.0, 3.0])
    ...     return 0.5 * float(np.sum((x - mu) ** 2)), np.array([-np.sum(x - mu) * mu])
    >>> float(np.round(hessian_standard_errors(obj, np.array([2.0]))[0], 6))
    0.57735
    """
    return _standard_errors(_observed_information(objective, params))


class CachedObjective:
    """An objective that remembers its last evaluation and has a numerical Hessian.

    Optimisers and the standard-error code ask again for the point they
    just evaluated (at times through ``exp`` and ``log``, an ulp away): the
    answer is kept. :meth:`hessian` differences the analytic gradient, for
    objectives without an analytic Hessian.

    Parameters
    ----------
    objective : callable
        ``theta -> (negative log-likelihood, gradient wrt theta)``.

    Examples
    --------
    >>> import numpy as np
    >>> def obj(theta):  # negll of N(mu, 1) data [1, 2, 3] in mu = exp(theta)
    ...     mu = np.exp(theta[0]); x = np.array([1.0, 2.0, 3.0])
    ...     return 0.5 * float(np.sum((x - mu) ** 2)), np.array([-np.sum(x - mu) * mu])
    >>> cached = CachedObjective(obj)
    >>> np.round(cached.hessian(np.log([2.0])), 5).tolist()  # d2/dmu2 = n
    [[3.0]]
    """

    #: :meth:`hessian` costs an objective evaluation per parameter.
    numerical_hessian = True

    def __init__(self, objective: Objective) -> None:
        self.objective = objective
        self._last: tuple[FloatArray, float, FloatArray] | None = None

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """``(negative log-likelihood, gradient)`` at ``theta``, from memory when repeated."""
        theta = np.asarray(theta, dtype=np.float64)
        last = self._last
        if last is not None and np.all(np.abs(theta - last[0]) <= 1e-15 * (1.0 + np.abs(last[0]))):
            return last[1], last[2].copy()
        f, g = self.objective(theta)
        g = np.asarray(g, dtype=np.float64)
        self._last = (theta.copy(), float(f), g)
        return float(f), g.copy()

    def hessian(self, theta: FloatArray) -> FloatArray:
        """Hessian of the objective in the natural parameters ``exp(theta)``.

        Forward differences of the analytic gradient with steps of ``1e-7``
        relative: one evaluation per parameter besides ``theta`` itself,
        accurate to about ``1e-5`` relative (ample for standard errors and
        Newton steps); ``theta`` stays the remembered point.
        """
        theta = np.asarray(theta, dtype=np.float64)
        p = np.exp(theta)
        g0 = self(theta)[1] / p
        centre = self._last
        k = len(p)
        hess = np.empty((k, k))
        for j in range(k):
            up = p.copy()
            up[j] *= 1.0 + 1e-7
            hess[:, j] = (self(np.log(up))[1] / up - g0) / (up[j] - p[j])
        self._last = centre
        return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def _observed_information(objective: Objective, params: FloatArray) -> FloatArray:
    # an objective may carry its analytic Hessian (natural parameters)
    analytic = getattr(objective, "hessian", None)
    if callable(analytic):
        given = np.asarray(analytic(np.log(params)), dtype=np.float64)
        sym: FloatArray = 0.5 * (given + given.T)
        return sym

    def grad_natural(p: FloatArray) -> FloatArray:
        _, g = objective(np.log(p))
        return np.asarray(g, dtype=np.float64) / p

    k = len(params)
    hess = np.empty((k, k))
    for j in range(k):
        h = 1e-5 * max(abs(params[j]), 1e-8)
        up = params.copy()
        dn = params.copy()
        up[j] += h
        dn[j] = max(dn[j] - h, params[j] * 0.5)
        hess[:, j] = (grad_natural(up) - grad_natural(dn)) / (up[j] - dn[j])
    out: FloatArray = 0.5 * (hess + hess.T)
    return out


def _standard_errors(hess: FloatArray) -> FloatArray:
    k = len(hess)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    diag = np.diag(cov)
    with np.errstate(invalid="ignore"):
        return np.where(diag > 0, np.sqrt(np.where(diag > 0, diag, 0.0)), np.nan)


def _covariance(hess: FloatArray) -> FloatArray:
    k = len(hess)
    if not np.all(np.isfinite(hess)):
        return np.full((k, k), np.nan)
    try:
        np.linalg.cholesky(hess)
        inv = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full((k, k), np.nan)
    cov: FloatArray = np.asarray(0.5 * (inv + inv.T), dtype=np.float64)
    return cov


def hessian_covariance(objective: Objective, params: FloatArray) -> FloatArray:
    """Asymptotic covariance of the estimates (natural scale), the inverse observed information.

    Uses the same Hessian as :func:`hessian_standard_errors`.

    Parameters
    ----------
    objective : callable
        ``theta -> (negll, grad wrt theta)`` with ``theta = log(params)``.
    params : ndarray of shape (n_params,)
        The estimates (natural scale, > 0).

    Returns
    -------
    ndarray of shape (n_params, n_params)
        All NaN when the Hessian is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> def obj(theta):  # negll of N(mu, 1) data [1, 2, 3] in mu = exp(theta)
    ...     mu = np.exp(theta[0]); x = np.array([1.0, 2.0, 3.0])
    ...     return 0.5 * float(np.sum((x - mu) ** 2)), np.array([-np.sum(x - mu) * mu])
    >>> float(np.round(hessian_covariance(obj, np.array([2.0]))[0, 0], 6))
    0.333333
    """
    return _covariance(_observed_information(objective, params))


def fit_mle(
    objective: Objective,
    x0: Sequence[float],
    *,
    names: Sequence[str],
    penalizer: float = 0.0,
    maxiter: int = 1000,
    tol: float = 1e-10,
    model: str = "model",
    starts: Sequence[Sequence[float]] = (),
    converged_start: int | None = None,
) -> MLEResult:
    """Maximise a log-likelihood over positive parameters.

    Parameters
    ----------
    objective : callable
        ``theta -> (negative log-likelihood, gradient)`` with
        ``theta = log(params)``; must be finite where the likelihood is.
    x0 : sequence of float
        Starting values on the natural scale.
    names : sequence of str
        Parameter names, for diagnostics.
    penalizer : float, default=0.0
        L2 penalty ``penalizer * sum(params**2)`` added to the objective.
    maxiter : int, default=1000
        Optimiser iterations.
    tol : float, default=1e-10
        Relative tolerance on the objective.
    model : str, default="model"
        Model name for messages.
    starts : sequence of sequences, default=()
        Further starting points tried when the first one fails; the best
        converged result wins.
    converged_start : int, optional
        ``x0`` is already a converged optimum, reached by this many Newton
        iterations whose decrement fell below the tolerance (see
        :func:`~crmkit.value._purchase_utils.newton_minimize`): the
        optimiser is not run, only the standard errors are computed.

    Returns
    -------
    MLEResult

    Raises
    ------
    ConvergenceError
        When no start converges to a finite optimum, or the optimum runs to
        the edge of the parameter space while the likelihood keeps rising
        (see :mod:`crmkit.value._identify`); its ``diagnostics`` hold the
        last parameters, the gradient norm and the message.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> def obj(theta):  # exponential data, rate = exp(theta)
    ...     lam = np.exp(theta[0])
    ...     f = -(len(x) * np.log(lam) - lam * x.sum())
    ...     return float(f), np.array([-(len(x) - lam * x.sum())])
    >>> res = fit_mle(obj, [1.0], names=["rate"])
    >>> round(float(res.params[0]), 6)
    0.5
    """
    pen = _penalised(objective, penalizer)
    if converged_start is not None and penalizer == 0:
        theta = np.log(np.asarray(x0, dtype=np.float64))
        negll, grad = objective(theta)
        if np.isfinite(negll) and np.all(np.isfinite(grad)) and not at_edge(theta).any():
            return _conclude(
                objective,
                pen,
                theta,
                converged_start,
                _NEWTON_MESSAGE,
                names,
                penalizer,
                model,
                maxiter,
                tol,
                {"model": model, "message": _NEWTON_MESSAGE},
            )
    best: Any = None
    failed: Any = None
    diagnostics: dict[str, Any] = {}
    for start in [x0, *starts]:
        theta0 = np.log(np.asarray(start, dtype=np.float64))
        try:
            f0, _ = pen(theta0)
        except (FloatingPointError, ValueError, ZeroDivisionError):
            continue
        if not np.isfinite(f0):
            continue
        for _ in range(_LBFGS_RESTARTS + 1):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                res = optimize.minimize(
                    pen,
                    theta0,
                    jac=True,
                    method="L-BFGS-B",
                    bounds=[(-EDGE, EDGE)] * len(theta0),
                    options={"maxiter": maxiter, "ftol": tol, "gtol": 1e-8, "maxcor": 20},
                )
            ok = bool(np.isfinite(res.fun) and np.all(np.isfinite(res.x)))
            grad_norm = _projected_gradient_norm(res.x, res.jac)
            # L-BFGS-B often stops with ABNORMAL_TERMINATION at a true optimum
            # (line search cannot improve further); accept a small gradient.
            converged = ok and (bool(res.success) or grad_norm < 1e-3 * max(1.0, abs(res.fun)))
            if converged or not ok or res.fun >= f0:
                break
            # stopped short with a large gradient (a failed line search on a
            # long ridge): continue from there with a fresh curvature memory
            theta0, f0 = np.asarray(res.x, dtype=np.float64), float(res.fun)
        diagnostics = {
            "model": model,
            "message": str(res.message),
            "n_iter": int(res.nit),
            "gradient_max_abs": grad_norm,
            "last_params": dict(zip(names, np.exp(res.x).tolist(), strict=True)),
            "objective": float(res.fun),
        }
        if converged and (best is None or res.fun < best.fun):
            best = res
        if ok and not converged and (failed is None or res.fun < failed.fun):
            failed = res
        if converged and start is x0:
            break
    if best is None and failed is not None and np.any(np.abs(failed.x) >= EDGE - CLIMB):
        # the optimiser gave up far out, the likelihood still rising there
        far = np.abs(failed.x) >= EDGE - CLIMB
        limits = ", ".join(
            f"{n} -> {'0' if t < 0 else 'infinity'}"
            for n, t, e in zip(names, failed.x, far, strict=True)
            if e
        )
        raise ConvergenceError(
            f"{model} ran to the edge of the parameter space ({limits}): the optimiser "
            f"stopped beyond exp({EDGE - CLIMB:g}) with the log-likelihood still rising, so "
            "the data cannot identify the model. Use a 'penalizer' > 0 or more data.",
            diagnostics,
        )
    if best is None:
        raise ConvergenceError(
            f"{model} did not converge: {diagnostics.get('message', 'no finite start')}. "
            "Try a larger 'penalizer', check for degenerate data (e.g. nobody repeats), "
            "or rescale the time unit.",
            diagnostics,
        )
    return _conclude(
        objective,
        pen,
        np.asarray(best.x, dtype=np.float64),
        int(best.nit),
        str(best.message),
        names,
        penalizer,
        model,
        maxiter,
        tol,
        diagnostics,
    )


def _conclude(
    objective: Objective,
    pen: Objective,
    theta: FloatArray,
    n_iter: int,
    message: str,
    names: Sequence[str],
    penalizer: float,
    model: str,
    maxiter: int,
    tol: float,
    diagnostics: dict[str, Any],
) -> MLEResult:
    """The result at ``theta``, or the error when the likelihood still rises at the edge.

    Where :func:`~crmkit.value._identify.diagnose` finds a better point
    nearby, the optimiser stopped short of the maximum (on a slowly rising
    ridge): it goes on from there, at most ``_RESTARTS`` times.
    """
    for _ in range(_RESTARTS + 1):
        _check_edge(pen, theta, names, model, maxiter, tol, diagnostics)
        result, better = _result(objective, np.exp(theta), n_iter, message, names, penalizer)
        if better is None:
            return result
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = optimize.minimize(
                pen,
                better,
                jac=True,
                method="L-BFGS-B",
                bounds=[(-EDGE, EDGE)] * len(theta),
                options={"maxiter": maxiter, "ftol": tol, "gtol": 1e-8, "maxcor": 20},
            )
        if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
            break
        theta, n_iter = np.asarray(res.x, dtype=np.float64), n_iter + int(res.nit)
    raise ConvergenceError(
        f"{model} did not converge: the log-likelihood still rises after "
        f"{_RESTARTS} restarts of the optimiser. Use a 'penalizer' > 0 or more data.",
        {**diagnostics, "last_params": dict(zip(names, np.exp(theta).tolist(), strict=True))},
    )


#: Restarts of the optimiser from a better point found by the diagnosis.
_RESTARTS = 3


def _check_edge(
    pen: Objective,
    theta: FloatArray,
    names: Sequence[str],
    model: str,
    maxiter: int,
    tol: float,
    diagnostics: dict[str, Any],
) -> None:
    """Raise when ``theta`` is on the edge of the box and the likelihood still rises there."""
    edge = at_edge(theta)
    if edge.any():
        # on the edge of the box: does the likelihood still rise there?
        inner = EDGE - CLIMB
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = optimize.minimize(
                pen,
                np.clip(theta, -inner, inner),
                jac=True,
                method="L-BFGS-B",
                bounds=[(-inner, inner)] * len(theta),
                options={"maxiter": maxiter, "ftol": tol, "gtol": 1e-8, "maxcor": 20},
            )
        rise = float(res.fun) - float(pen(theta)[0])
        if not rise <= RISE_TOLERANCE:
            limits = ", ".join(
                f"{n} -> {'0' if t < 0 else 'infinity'}"
                for n, t, e in zip(names, theta, edge, strict=True)
                if e
            )
            raise ConvergenceError(
                f"{model} ran to the edge of the parameter space ({limits}): the "
                f"log-likelihood still rises there ({rise:.3g} over the last {CLIMB:g} "
                "log-units), so the data cannot identify the model. Use a 'penalizer' > 0, "
                "more data, or rescale (spend in thousands, another time unit).",
                {
                    **diagnostics,
                    "last_params": dict(zip(names, np.exp(theta).tolist(), strict=True)),
                    "rise_at_edge": rise,
                },
            )


#: Fresh L-BFGS-B runs from where one stopped short with a large gradient.
_LBFGS_RESTARTS = 3


def _projected_gradient_norm(x: FloatArray, jac: FloatArray) -> float:
    """Largest gradient component, ignoring those that push out of the box at its edge."""
    g = np.asarray(jac, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(g)):
        return float(np.inf)
    out = ((x >= EDGE - 1e-3) & (g < 0)) | ((x <= -EDGE + 1e-3) & (g > 0))
    return float(np.max(np.abs(np.where(out, 0.0, g))))


_NEWTON_MESSAGE = "Newton iterations converged (decrement below tolerance)"


def _result(
    objective: Objective,
    params: FloatArray,
    n_iter: int,
    message: str,
    names: Sequence[str],
    penalizer: float = 0.0,
) -> tuple[MLEResult, FloatArray | None]:
    negll, grad = objective(np.log(params))
    hess = _observed_information(objective, params)
    standard_errors = _standard_errors(hess)
    covariance = _covariance(hess)
    # identified, flat, or rising toward the edge: decided on the objective
    # that was maximised (with its penalty), see crmkit.value._identify
    pen_hess = hess + 2.0 * penalizer * np.eye(len(params))
    pen_grad = np.asarray(grad, dtype=np.float64) + 2.0 * penalizer * params**2
    verdict = diagnose(
        _penalised(objective, penalizer),
        np.log(params),
        log_hessian(pen_hess, params, pen_grad),
        names,
    )
    flat_now = set(verdict.flat)
    flat_now |= {n for n, se in zip(names, standard_errors, strict=True) if not np.isfinite(se)}
    ordered = tuple(n for n in names if n in flat_now)
    if ordered:
        standard_errors = np.where(np.isin(np.asarray(names), ordered), np.nan, standard_errors)
        covariance = np.full_like(covariance, np.nan)
    result = MLEResult(
        params=params,
        log_likelihood=-float(negll),
        standard_errors=standard_errors,
        converged=True,
        n_iter=n_iter,
        message=message,
        covariance=covariance,
        flat=ordered,
    )
    return result, verdict.better
