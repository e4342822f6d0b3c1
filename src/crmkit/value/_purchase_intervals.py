"""Per-customer intervals for P(alive) and conditional expected purchases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Interval, validate_params
from crmkit.exceptions import InvalidParameterError
from crmkit.value._intervals import delta_interval

__all__ = ["purchase_intervals"]

FloatArray = npt.NDArray[np.float64]

#: P(alive) is kept this far from 0 and 1 before taking its logit.
_EDGE = 1e-12


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, _EDGE, 1.0 - _EDGE)
    out: FloatArray = np.log(q) - np.log1p(-q)
    return out


def _expit(v: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * v))
    return out


def _check_model(model: Any) -> None:
    for method in ("p_alive", "conditional_expected_purchases"):
        if not callable(getattr(model, method, None)):
            raise InvalidParameterError(
                "The 'model' parameter of purchase_intervals must be a fitted purchase model "
                f"with p_alive and conditional_expected_purchases. Got {type(model).__name__} "
                "instead."
            )


def _check_covariance(model: Any) -> None:
    cov = getattr(model, "covariance_", None)
    if cov is None or not np.all(np.isfinite(np.asarray(cov, dtype=np.float64))):
        raise InvalidParameterError(
            "purchase_intervals needs the covariance of the model's estimates (covariance_); "
            f"this {type(model).__name__} has none (built with from_params, or its standard "
            "errors are undefined). Fit the model on data first."
        )


def purchase_intervals(
    model: Any,
    view: pd.DataFrame | Mapping[str, Any],
    *,
    t: float | None = None,
    level: float = 0.9,
) -> pd.DataFrame:
    """Each customer's P(alive) (and expected purchases) with an interval.

    The interval reflects the estimation error of the model's parameters
    (and covariate coefficients): they are taken as normal with the
    covariance of their estimates, and the delta method carries that
    uncertainty to each customer's ``logit(P(alive))`` and
    ``log(expected purchases)``; the ends are transformed back, so
    P(alive) stays in [0, 1] and expected purchases positive. It does not
    include the randomness of the customer's future purchases (a customer
    with ``p_alive = 0.6`` is alive or not; the interval is about the 0.6),
    and relies on approximately normal estimates (enough customers). A
    customer whose value does not depend on the parameters (e.g. the
    BG/NBD's ``p_alive = 1`` without repeat purchases) gets a zero-width
    interval.

    Parameters
    ----------
    model : fitted purchase model
        E.g. :class:`ParetoNBD` or :class:`BetaGeo` (with or without
        covariates), fitted on data so that it has ``covariance_``.
    view : DataFrame or mapping of str to array-like
        The customer view with the model's columns (and covariates).
    t : float, optional
        A horizon > 0 in the model's time unit: also give the expected
        number of purchases in the next ``t`` with its interval.
    level : float, default=0.9
        Coverage of the intervals, in (0, 1).

    Returns
    -------
    DataFrame
        Indexed like ``view``: ``p_alive``, ``p_alive_low``,
        ``p_alive_high`` and, with ``t``, ``expected_purchases``,
        ``expected_purchases_low``, ``expected_purchases_high``.

    Raises
    ------
    InvalidParameterError
        For a bad ``t`` or ``level``, or a model without predictions or
        without the covariance of its estimates.
    NotFittedError
        Before ``model.fit``.
    SchemaError
        For missing or invalid columns of ``view``.

    See Also
    --------
    clv : Customer lifetime value, with ``interval=`` on the same footing.

    References
    ----------
    Greene, W. H. (2012). *Econometric Analysis*, 7th ed., the delta method.

    Examples
    --------
    >>> from crmkit.value import ParetoNBD, purchase_intervals
    >>> truth = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> view = truth.sample(2000, 39.0, seed=1)
    >>> out = purchase_intervals(ParetoNBD().fit(view), view.head(3), t=52.0)
    >>> list(out.columns)
    ['p_alive', 'p_alive_low', 'p_alive_high', 'expected_purchases', \
'expected_purchases_low', 'expected_purchases_high']
    >>> inside = (out["p_alive_low"] <= out["p_alive"]) & (out["p_alive"] <= out["p_alive_high"])
    >>> bool(inside.all())
    True
    """
    validate_params(
        "purchase_intervals",
        {"t": t, "level": level},
        {
            "t": [None, Interval("real", 0, None, closed="neither")],
            "level": [Interval("real", 0, 1, closed="neither")],
        },
    )
    _check_model(model)
    p_alive = model.p_alive(view)  # NotFittedError / SchemaError first
    _check_covariance(model)
    index = p_alive.index
    columns: dict[str, FloatArray] = {}

    def logit_p(m: Any) -> FloatArray:
        return _logit(np.asarray(m.p_alive(view), dtype=np.float64))

    _, low, high = delta_interval(logit_p, [model], float(level), ["purchase"])
    columns["p_alive"] = np.asarray(p_alive, dtype=np.float64)
    p = columns["p_alive"]
    fixed = low == high  # the value does not move with the parameters
    columns["p_alive_low"] = np.where(fixed, p, np.minimum(_expit(low), p))
    columns["p_alive_high"] = np.where(fixed, p, np.maximum(_expit(high), p))
    if t is not None:
        horizon = float(t)

        def log_expected(m: Any) -> FloatArray:
            e = np.asarray(m.conditional_expected_purchases(view, horizon), dtype=np.float64)
            out: FloatArray = np.log(np.maximum(e, np.finfo(np.float64).tiny))
            return out

        _, low, high = delta_interval(log_expected, [model], float(level), ["purchase"])
        expected = model.conditional_expected_purchases(view, horizon)
        columns["expected_purchases"] = np.asarray(expected, dtype=np.float64)
        columns["expected_purchases_low"] = np.minimum(np.exp(low), columns["expected_purchases"])
        columns["expected_purchases_high"] = np.maximum(np.exp(high), columns["expected_purchases"])
    table: pd.DataFrame = pd.DataFrame(columns, index=index)
    return table
