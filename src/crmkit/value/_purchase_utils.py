"""Helpers shared by the purchase models: collapsing, Newton polish, argument checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.exceptions import (
    SchemaError,
    SchemaFailure,
)
from crmkit.value._identify import EDGE
from crmkit.value._inputs import collapse
from crmkit.value._mle import Objective

FloatArray = npt.NDArray[np.float64]

_WARM_START_ROWS = 60_000
_WARM_START_SIZE = 20_000

_MIX = np.uint64(0x9E3779B97F4A7C15)


def collapse_rows(
    arrays: Sequence[FloatArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray, npt.NDArray[np.intp]]:
    """Collapse identical rows into weighted unique rows, fast and exactly.

    Rows are grouped by a hash of their values; the grouping is then verified
    value by value (a hash collision falls back to an exact sort-based
    grouping), so the result is always exact. Unique rows come in order of
    first appearance.

    Parameters
    ----------
    arrays : sequence of ndarray of shape (n,)
        The float columns that define identical customers (finite values).
    weights : ndarray of shape (n,)
        Case weights.

    Returns
    -------
    unique : list of ndarray of shape (m,)
        The distinct rows, column by column.
    weights : ndarray of shape (m,)
        Summed weights of each distinct row.
    inverse : ndarray of shape (n,)
        For each input row, its distinct row.

    Examples
    --------
    >>> import numpy as np
    >>> u, w, inv = collapse_rows([np.array([2.0, 1.0, 2.0]), np.zeros(3)], np.ones(3))
    >>> u[0].tolist(), w.tolist(), inv.tolist()
    ([2.0, 1.0], [2.0, 1.0], [0, 1, 0])
    """
    n = len(arrays[0])
    if n == 0:
        return (
            [np.asarray(a, dtype=np.float64).copy() for a in arrays],
            weights.copy(),
            np.zeros(0, dtype=np.intp),
        )
    cols = [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]
    h = np.zeros(n, dtype=np.uint64)
    for col in cols:
        # +0.0 turns -0.0 into 0.0 so that equal values hash alike
        h = (h * _MIX) ^ pd.util.hash_array(col + 0.0)
    codes_raw, uniques = pd.factorize(h)
    codes = np.asarray(codes_raw, dtype=np.intp)
    k = len(uniques)
    first = np.empty(k, dtype=np.intp)
    first[codes[::-1]] = np.arange(n - 1, -1, -1, dtype=np.intp)
    rep = first[codes]
    if not all(np.array_equal(col[rep], col) for col in cols):  # a hash collision
        return collapse(cols, weights)
    w = np.bincount(codes, weights=weights, minlength=k).astype(np.float64)
    return [col[first] for col in cols], w, codes


def newton_minimize(
    objective: Objective,
    hessian: Callable[[FloatArray], FloatArray],
    theta0: FloatArray,
    max_steps: int = 6,
    *,
    reuse_hessian: bool = False,
    tol: float = 1e-13,
) -> tuple[FloatArray, bool, int]:
    """Damped (quasi-)Newton iterations on log-parameters, with a convergence verdict.

    Parameters
    ----------
    objective : callable
        ``theta -> (negative log-likelihood, gradient wrt theta)``.
    hessian : callable
        ``theta -> Hessian of the negative log-likelihood wrt the natural
        parameters ``exp(theta)``.
    theta0 : ndarray of shape (n_params,)
        Starting log-parameters, near the optimum.
    max_steps : int, default=6
        Newton iterations at most.
    reuse_hessian : bool, default=False
        Evaluate the Hessian once, at ``theta0``, and refine it by BFGS
        updates from the gradients of the steps (quasi-Newton from an exact
        start, for a Hessian that costs many objective evaluations).
    tol : float, default=1e-13
        Converged when the Newton decrement ``g' H^-1 g`` (about twice the
        distance to the optimum in the objective) is at most
        ``tol * max(1, |f|)``.

    Returns
    -------
    theta : ndarray of shape (n_params,)
        The last accepted log-parameters (``theta0`` when no step helps).
    converged : bool
        Whether the decrement test held there.
    steps : int
        Accepted Newton steps.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> def obj(theta):  # exponential data, rate = exp(theta)
    ...     lam = np.exp(theta[0])
    ...     return float(lam * x.sum() - len(x) * theta[0]), np.array([lam * x.sum() - len(x)])
    >>> hess = lambda theta: np.array([[len(x) / np.exp(theta[0]) ** 2]])
    >>> theta, converged, steps = newton_minimize(obj, hess, np.log([0.4]), 20)
    >>> round(float(np.exp(theta[0])), 10), converged
    (0.5, True)
    """
    theta: FloatArray = np.asarray(theta0, dtype=np.float64).copy()
    f, g = objective(theta)
    if not (np.isfinite(f) and np.all(np.isfinite(g))):
        return theta, False, 0
    h: FloatArray | None = None
    steps = 0
    for _ in range(max_steps + 1):
        if h is None or not reuse_hessian:
            h = _log_hessian(np.asarray(hessian(theta), dtype=np.float64), theta, g)
            if h is None:
                return theta, False, steps
        try:
            chol = np.linalg.cholesky(h)
        except np.linalg.LinAlgError:
            return theta, False, steps
        step = -np.linalg.solve(chol.T, np.linalg.solve(chol, g))
        decrement = -float(g @ step)  # about twice the distance to the optimum in f
        if not np.isfinite(decrement):
            return theta, False, steps
        if decrement <= tol * max(1.0, abs(f)):
            return theta, True, steps
        if steps == max_steps:
            break
        t = 1.0
        for _ in range(8):
            cand = theta + t * step
            if np.all(np.abs(cand) < EDGE - 1.0):
                fc, gc = objective(cand)
                if np.isfinite(fc) and fc <= f - 1e-4 * t * decrement:
                    break
            t *= 0.5
        else:
            return theta, False, steps
        cand = np.asarray(cand, dtype=np.float64)
        if reuse_hessian:  # BFGS update of the Hessian approximation
            s_k, y_k = cand - theta, gc - g
            sy = float(s_k @ y_k)
            if sy > 1e-12 * float(np.linalg.norm(s_k) * np.linalg.norm(y_k)):
                hs = h @ s_k
                h = h - np.outer(hs, hs) / float(s_k @ hs) + np.outer(y_k, y_k) / sy
        theta, f, g = cand, fc, gc
        steps += 1
    return theta, False, steps


def _log_hessian(natural: FloatArray, theta: FloatArray, g: FloatArray) -> FloatArray | None:
    """Hessian wrt ``theta = log p`` from the natural one; positive definite or None.

    Away from the optimum ``p H p + diag(g)`` may be indefinite: then the
    Newton step of the natural parameters (``p H p``) is taken.
    """
    p = np.exp(theta)
    scaled = p[:, None] * natural * p[None, :]
    for h in (scaled + np.diag(g), scaled):
        if np.all(np.isfinite(h)) and np.all(np.linalg.eigvalsh(0.5 * (h + h.T)) > 0):
            return np.asarray(0.5 * (h + h.T), dtype=np.float64)
    return None


def check_count(value: Any, name: str, who: str) -> int:
    """Check a count argument (``n_customers`` ...): an int ``>= 0``.

    Parameters
    ----------
    value : object
        The candidate.
    name : str
        The argument's name, for messages.
    who : str
        The caller, for messages.

    Returns
    -------
    int

    Raises
    ------
    SchemaError
        Naming the argument and the value.

    Examples
    --------
    >>> check_count(3, "n_customers", "BetaGeo.sample")
    3
    >>> check_count(-1, "n_customers", "BetaGeo.sample")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - argument['n_customers']: must be an int >= 0 (BetaGeo.sample) (1 row; values [-1])
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="argument",
                    column=name,
                    check=f"must be an int >= 0 ({who})",
                    n_failing=1,
                    rows=(),
                    values=(value,),
                )
            ]
        )
    return int(value)


def check_argument(
    value: Any, name: str, *, integer: bool = False, who: str = "model"
) -> FloatArray:
    """Check a prediction argument (``t``, ``n`` ...) and return it as floats.

    Parameters
    ----------
    value : float or array-like
        Scalar or array; must be numeric, finite and ``>= 0``.
    name : str
        The argument's name, for messages.
    integer : bool, default=False
        Whether whole numbers are required.
    who : str, default="model"
        The caller, for messages.

    Returns
    -------
    ndarray
        float64, same shape as ``value`` (0-d for a scalar).

    Raises
    ------
    SchemaError
        Naming the argument and the first bad values.

    Examples
    --------
    >>> check_argument([1, 2.5], "t").tolist()
    [1.0, 2.5]
    >>> check_argument(-1, "t", who="BetaGeo.expected_purchases")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - argument['t']: must be finite and >= 0 (BetaGeo.expected_purchases) (1 row; values [-1.0])
    """
    raw = np.asarray(value)
    if raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
        raise SchemaError(
            [
                SchemaFailure(
                    frame="argument",
                    column=name,
                    check=f"must be numeric ({who}), got dtype {raw.dtype}",
                )
            ]
        )
    arr = raw.astype(np.float64)
    flat = arr.reshape(-1)
    bad = ~np.isfinite(flat) | (flat < 0)
    if bad.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="argument",
                    column=name,
                    check=f"must be finite and >= 0 ({who})",
                    n_failing=int(bad.sum()),
                    rows=(),
                    values=tuple(flat[bad][:5].tolist()),
                )
            ]
        )
    if integer:
        frac = flat != np.floor(flat)
        if frac.any():
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="argument",
                        column=name,
                        check=f"must hold whole numbers ({who})",
                        n_failing=int(frac.sum()),
                        rows=(),
                        values=tuple(flat[frac][:5].tolist()),
                    )
                ]
            )
    return arr


def per_customer(value: FloatArray, n: int, name: str, who: str) -> FloatArray:
    """Check that an argument is a scalar or holds one value per customer.

    Parameters
    ----------
    value : ndarray
        As returned by :func:`check_argument`.
    n : int
        Number of customers.
    name, who : str
        For the message.

    Returns
    -------
    ndarray
        ``value`` unchanged.

    Raises
    ------
    SchemaError
        When the shape is neither ``()`` nor ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> per_customer(np.array(2.0), 3, "t", "demo").shape
    ()
    >>> per_customer(np.ones(2), 3, "t", "demo")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - argument['t']: must be a scalar or hold one value per customer (3) (demo)
    """
    if value.ndim == 0 or value.shape == (n,):
        return value
    raise SchemaError(
        [
            SchemaFailure(
                frame="argument",
                column=name,
                check=f"must be a scalar or hold one value per customer ({n}) ({who})",
            )
        ]
    )


def expm1_ratio(e: float, L: FloatArray) -> FloatArray:
    """Evaluate ``-expm1(e * L) / e`` stably, with its limit ``-L`` at ``e = 0``.

    Parameters
    ----------
    e : float
        The exponent's factor.
    L : ndarray
        Values (usually ``log(1 - z) <= 0``).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> expm1_ratio(0.0, np.array([-2.0])).tolist()
    [2.0]
    >>> float(np.round(expm1_ratio(1.0, np.array([-np.log(2.0)]))[0], 12))
    0.5
    """
    if abs(e) < 1e-12:
        return np.asarray(-L * (1.0 + 0.5 * e * L), dtype=np.float64)
    return np.asarray(-np.expm1(e * L) / e, dtype=np.float64)


def near_one(fn: Callable[[float], FloatArray], value: float, width: float = 1e-4) -> FloatArray:
    """Evaluate ``fn(value)``, interpolating linearly across a removable singularity at 1.

    Closed forms with a factor ``1 / (value - 1)`` lose digits as ``value``
    approaches 1; within ``width`` of 1 the function is evaluated at
    ``1 +- width`` and interpolated (the error is of order ``width**2``).

    Parameters
    ----------
    fn : callable
        ``fn(value) -> ndarray``, smooth in ``value``.
    value : float
        Where to evaluate.
    width : float, default=1e-4
        Half-width of the interpolated band.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda a: np.array([(2.0**(a - 1) - 1) / (a - 1)])  # -> log(2) at a = 1
    >>> float(np.round(near_one(f, 1.0)[0], 8))
    0.69314718
    """
    if abs(value - 1.0) >= width:
        return fn(value)
    lo = fn(1.0 - width)
    hi = fn(1.0 + width)
    frac = (value - (1.0 - width)) / (2.0 * width)
    return np.asarray(lo + (hi - lo) * frac, dtype=np.float64)
