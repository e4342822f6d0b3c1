"""Customer equity: the sum of the customers' lifetime values, with an interval."""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm

from crmkit._params import Interval, Options, validate_params
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError, SchemaFailure
from crmkit.value._clv import (
    _CONSTRAINTS,
    PurchaseModelLike,
    SpendModelLike,
    _as_values,
    _clv_values,
    _grid,
    _index_of,
    check_bounds,
)
from crmkit.value._margin import MARGIN, resolve_margin

__all__ = ["CustomerEquity", "customer_equity"]

FloatArray = npt.NDArray[np.float64]
#: The most bootstrap replicates (each may be a full CLV computation).
MAX_BOOT = 100_000
_CHUNK = 1 << 22  # resampled indices held in memory at once


@attrs.frozen
class CustomerEquity:
    """Customer equity with its interval.

    Parameters
    ----------
    total : float
        Sum of the customers' lifetime values.
    lower, upper : float
        Interval bounds at ``level``.
    std_error : float
        Standard error of ``total`` (bootstrap standard deviation, or the
        delta-method standard error).
    level : float
        Confidence level of the interval.
    interval : {"bootstrap", "delta"}
        How the interval was obtained.
    n_customers : int
        Customers summed.
    by_segment : DataFrame or None, default=None
        One row per segment (index: segment), columns ``total``, ``lower``,
        ``upper``, ``std_error``, ``n_customers``; None without segments.

    Examples
    --------
    >>> ce = CustomerEquity(100.0, 90.0, 110.0, 5.1, 0.95, "delta", 10)
    >>> ce.upper - ce.lower
    20.0
    """

    total: float
    lower: float
    upper: float
    std_error: float
    level: float
    interval: str
    n_customers: int
    by_segment: pd.DataFrame | None = attrs.field(default=None, eq=False)


def _log_covariance(model: Any, role: str) -> tuple[FloatArray, FloatArray]:
    """The model's parameters (then any covariate coefficients) and their covariance.

    The covariance is that of the parameters' logarithms, followed by the
    covariate coefficients (``coef_``, on their own scale, from the joint
    ``full_covariance_``): :func:`_moved` perturbs on that scale.
    """
    params = getattr(model, "params_", None)
    if params is None or not attrs.has(type(params)):
        raise InvalidParameterError(
            f"parameter_uncertainty=True needs a fitted {role} model with params_; "
            f"got {type(model).__name__}"
        )
    values = np.array(attrs.astuple(params), dtype=np.float64)
    cov = getattr(model, "covariance_", None)
    k = len(values)
    if cov is None or np.shape(cov) != (k, k) or not np.all(np.isfinite(cov)):
        raise InvalidParameterError(
            f"parameter_uncertainty=True needs the {role} model's covariance_ (the covariance "
            f"of its estimates); {type(model).__name__} has none (a model built with "
            "from_params, or a singular Hessian). Use parameter_uncertainty=False."
        )
    coef = model.__dict__.get("coef_")
    if coef is not None and len(coef):
        full = np.asarray(model.__dict__.get("full_covariance_"), dtype=np.float64)
        if full.shape != (k + len(coef),) * 2 or not np.all(np.isfinite(full)):
            raise InvalidParameterError(
                f"parameter_uncertainty=True needs the {role} model's full_covariance_ "
                "(covariance of its parameters and covariate coefficients); it is undefined. "
                "Use parameter_uncertainty=False."
            )
        scale = np.concatenate([values, np.ones(len(coef))])
        together = np.concatenate([values, np.asarray(coef, dtype=np.float64)])
        return together, full / np.outer(scale, scale)
    cov_log = np.asarray(cov, dtype=np.float64) / np.outer(values, values)
    return values, cov_log


def _moved(model: Any, values: FloatArray, step: FloatArray) -> FloatArray:
    """``values`` moved by ``step``: parameters on the log scale, coefficients additively."""
    k = len(attrs.fields(type(model.params_)))
    return np.concatenate([values[:k] * np.exp(step[:k]), values[k:] + step[k:]])


def _with_params(model: Any, values: FloatArray) -> Any:
    """A copy of ``model`` with parameters ``values[:k]`` and coefficients ``values[k:]``."""
    out = copy.copy(model)
    k = len(attrs.fields(type(model.params_)))
    out.params_ = type(model.params_)(*[float(v) for v in values[:k]])
    if len(values) > k:
        out.coef_ = np.array(values[k:], dtype=np.float64)
    return out


def _segments(view: pd.DataFrame, segment: Any) -> tuple[npt.NDArray[np.intp], pd.Index]:
    if not isinstance(view, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<frame>",
                    check=f"must be a DataFrame, got {type(view).__name__}",
                )
            ]
        )
    if segment is None:
        return np.zeros(len(view), dtype=np.intp), pd.Index(["all"])
    if segment not in view.columns:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view", column=str(segment), check="is missing (the segment column)"
                )
            ]
        )
    col = view[segment]
    bad = col.isna().to_numpy()
    if bad.any():
        rows = tuple(np.asarray(view.index, dtype=object)[bad][:5].tolist())
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=str(segment),
                    check="has missing segments",
                    n_failing=int(bad.sum()),
                    rows=rows,
                )
            ]
        )
    try:
        codes, labels = pd.factorize(col, sort=True)
    except TypeError:
        codes, labels = pd.factorize(col, sort=False)
    return np.asarray(codes, dtype=np.intp), pd.Index(labels, name=segment)


def _resampled_sums(values: FloatArray, n_boot: int, rng: np.random.Generator) -> FloatArray:
    """Sums of ``n_boot`` with-replacement resamples of ``values`` (same size)."""
    n = len(values)
    out = np.empty(n_boot)
    per_chunk = max(1, _CHUNK // max(n, 1))
    for start in range(0, n_boot, per_chunk):
        stop = min(n_boot, start + per_chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = values[idx].sum(axis=1)
    return out


def customer_equity(
    purchase_model: PurchaseModelLike,
    spend_model: SpendModelLike,
    view: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    time_unit: str = "W",
    steps: int | None = None,
    margin: float | str | pd.Series = 1.0,
    segment: str | None = None,
    interval: str = "bootstrap",
    n_boot: int = 1000,
    parameter_uncertainty: bool = False,
    seed: int | np.random.Generator | None = None,
    level: float = 0.95,
) -> CustomerEquity:
    """Customer equity (the sum of the customers' CLVs) with a bootstrap or delta-method interval.

    Each customer's value is :func:`~crmkit.value.clv` with the same
    arguments. The interval treats the customers as a sample from the
    population the base stands for (e.g. CDNOW's 1-in-10 sample), so its
    width relative to the total shrinks like ``1 / sqrt(n_customers)``;
    with ``parameter_uncertainty=True`` it also carries the estimation
    error of both models' parameters (from their ``covariance_``, on the
    log scale).

    * ``"bootstrap"``: ``n_boot`` replicates; each resamples the customers
      with replacement (within each segment, so segment sizes are kept) and,
      with parameter uncertainty, draws both models' parameters from their
      asymptotic normal distribution on the log scale and recomputes every
      CLV (``n_boot`` full CLV computations: slow for large bases). The
      interval is the percentile interval.
    * ``"delta"``: the customer-sampling variance ``n * var(clv)`` (per
      segment) plus, with parameter uncertainty, ``J S J'`` with ``J`` the
      derivative of the total with respect to the log-parameters (central
      differences) and ``S`` their covariance; a normal interval.

    Parameters
    ----------
    purchase_model : fitted purchase model
        Provides ``conditional_expected_purchases(view, t)``.
    spend_model : fitted spend model
        Provides ``expected_spend(view)``.
    view : DataFrame
        The customer view.
    horizon, discount_rate, time_unit, steps, margin
        As in :func:`~crmkit.value.clv` (``discount_rate`` is annual;
        ``margin`` one share, a column name or a Series by customer).
    segment : str, optional
        A column of ``view`` holding each customer's segment; adds
        ``by_segment``.
    interval : {"bootstrap", "delta"}, default="bootstrap"
        How to obtain the interval.
    n_boot : int, default=1000
        Bootstrap replicates (10 .. 100,000).
    parameter_uncertainty : bool, default=False
        Include the parameters' estimation error; needs fitted models with a
        finite ``covariance_`` (not models built with ``from_params``). With
        ``interval="bootstrap"``, a parameter draw the model cannot predict
        with (e.g. a Gamma-Gamma ``q <= 1``: infinite mean spend) is drawn
        again, and a :class:`~crmkit.exceptions.DataWarning` says how many
        were; the interval is then conditional on valid parameters.
    seed : int, Generator or None, default=None
        Random seed of the bootstrap.
    level : float, default=0.95
        Confidence level, in (0, 1).

    Returns
    -------
    CustomerEquity

    Raises
    ------
    InvalidParameterError
        For bad arguments, or parameter uncertainty without a covariance.
    SchemaError
        For a view the models cannot read or a missing/incomplete segment column.
    NotFittedError
        When a model is not fitted.

    References
    ----------
    .. [1] Efron, B. and Tibshirani, R. J. (1993). An Introduction to the
       Bootstrap. Chapman & Hall.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmkit.value import GammaGamma
    >>> class Steady:  # purchases at each customer's past weekly rate
    ...     def conditional_expected_purchases(self, view, t):
    ...         return view["frequency"] / view["T"] * t
    ...     def expected_purchases(self, t):
    ...         return 0.1 * t
    >>> rng = np.random.default_rng(0)
    >>> view = pd.DataFrame({"frequency": rng.poisson(3, 500), "T": 30.0})
    >>> view["monetary_value"] = np.where(view["frequency"] > 0, rng.gamma(5, 8, 500), 0.0)
    >>> spend = GammaGamma().fit(view)
    >>> ce = customer_equity(Steady(), spend, view, horizon=52, discount_rate=0.1, seed=1)
    >>> round(ce.total), ce.lower < ce.total < ce.upper, ce.n_customers
    (96050, True, 500)
    """
    validate_params(
        "customer_equity",
        {
            "horizon": horizon,
            "discount_rate": discount_rate,
            "time_unit": time_unit,
            "steps": steps,
            "margin": margin,
            "interval": interval,
            "n_boot": n_boot,
            "parameter_uncertainty": parameter_uncertainty,
            "seed": seed,
            "level": level,
        },
        {
            **_CONSTRAINTS,
            "margin": MARGIN,
            "interval": [Options(frozenset({"bootstrap", "delta"}))],
            "n_boot": [Interval("int", 10, MAX_BOOT)],
            "parameter_uncertainty": [bool],
            "seed": [None, Interval("int", 0, None), np.random.Generator],
            "level": [Interval("real", 0, 1, closed="neither")],
        },
    )
    check_bounds("customer_equity", float(horizon), float(discount_rate), time_unit, steps)
    ends, factors = _grid(float(horizon), float(discount_rate), time_unit, steps)
    codes, labels = _segments(view, segment)
    models = (purchase_model, spend_model)
    uncertainty = (
        (_log_covariance(purchase_model, "purchase"), _log_covariance(spend_model, "spend"))
        if parameter_uncertainty
        else None
    )

    def seg_values(pm: Any, sm: Any) -> FloatArray:
        spend_series = sm.expected_spend(view)
        index = _index_of(view, len(spend_series))
        spend = _as_values(spend_series, len(spend_series), "expected_spend", index)
        share = resolve_margin(margin, view, index, "customer_equity")
        values = _clv_values(pm, spend, view, ends, factors, index) * share
        if len(values) != len(codes):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="<frame>",
                        check="the models' output does not match the view's rows",
                    )
                ]
            )
        return values

    base = seg_values(*models)
    n_seg = len(labels)
    seg_total = np.bincount(codes, weights=base, minlength=n_seg)
    counts = np.bincount(codes, minlength=n_seg)
    if interval == "delta":
        z = float(norm.ppf(0.5 + level / 2.0))
        seg_var, total_var = _delta_variance(base, codes, n_seg, models, uncertainty, seg_values)
        seg_se = np.sqrt(seg_var)
        total_se = math.sqrt(total_var)
        seg_lower, seg_upper = seg_total - z * seg_se, seg_total + z * seg_se
        lower = float(seg_total.sum()) - z * total_se
        upper = float(seg_total.sum()) + z * total_se
    else:
        reps = _bootstrap(base, codes, n_seg, models, uncertainty, seg_values, n_boot, seed)
        tail = (1.0 - level) / 2.0
        seg_lower, seg_upper = np.quantile(reps, [tail, 1.0 - tail], axis=0)
        seg_se = reps.std(axis=0, ddof=1)
        totals = reps.sum(axis=1)
        lower, upper = (float(v) for v in np.quantile(totals, [tail, 1.0 - tail]))
        total_se = float(totals.std(ddof=1))
    table = None
    if segment is not None:
        table = pd.DataFrame(
            {
                "total": seg_total,
                "lower": seg_lower,
                "upper": seg_upper,
                "std_error": seg_se,
                "n_customers": counts.astype(np.int64),
            },
            index=labels,
        )
    return CustomerEquity(
        total=float(seg_total.sum()),
        lower=float(lower),
        upper=float(upper),
        std_error=float(total_se),
        level=float(level),
        interval=interval,
        n_customers=len(base),
        by_segment=table,
    )


_Uncertainty = tuple[tuple[FloatArray, FloatArray], tuple[FloatArray, FloatArray]] | None


def _delta_variance(
    base: FloatArray,
    codes: npt.NDArray[np.intp],
    n_seg: int,
    models: tuple[Any, Any],
    uncertainty: _Uncertainty,
    seg_values: Any,
) -> tuple[FloatArray, float]:
    """Variances of the segment totals and of the total (customers + parameters)."""
    var = np.zeros(n_seg)
    for s in range(n_seg):
        members = base[codes == s]
        if len(members) > 1:
            var[s] = float(np.var(members, ddof=1)) * len(members)
    if uncertainty is None:
        return var, float(var.sum())
    columns = []
    h = 1e-4
    for which, (values, _) in enumerate(uncertainty):
        for j in range(len(values)):
            shifted = []
            for sign in (1.0, -1.0):
                moved = values.copy()
                if j < len(attrs.fields(type(models[which].params_))):
                    moved[j] *= math.exp(sign * h)
                else:
                    moved[j] += sign * h
                pair = list(models)
                pair[which] = _with_params(models[which], moved)
                shifted.append(np.bincount(codes, weights=seg_values(*pair), minlength=n_seg))
            columns.append((shifted[0] - shifted[1]) / (2.0 * h))
    jac = np.array(columns).T  # segments x parameters
    k = len(uncertainty[0][0])
    cov = np.zeros((jac.shape[1], jac.shape[1]))
    cov[:k, :k] = uncertainty[0][1]
    cov[k:, k:] = uncertainty[1][1]
    j_total = jac.sum(axis=0)
    seg_var = var + np.einsum("ij,jk,ik->i", jac, cov, jac)
    total_var = float(var.sum() + j_total @ cov @ j_total)
    return np.maximum(seg_var, 0.0), max(total_var, 0.0)


def _sqrt_psd(cov: FloatArray) -> FloatArray:
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    out: FloatArray = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return out


def _bootstrap(
    base: FloatArray,
    codes: npt.NDArray[np.intp],
    n_seg: int,
    models: tuple[Any, Any],
    uncertainty: _Uncertainty,
    seg_values: Any,
    n_boot: int,
    seed: int | np.random.Generator | None,
) -> FloatArray:
    """Replicate segment totals, shape ``(n_boot, n_segments)``."""
    rng = np.random.default_rng(seed)
    reps = np.empty((n_boot, n_seg))
    members = [np.flatnonzero(codes == s) for s in range(n_seg)]
    if uncertainty is None:
        for s, idx in enumerate(members):
            reps[:, s] = _resampled_sums(base[idx], n_boot, rng)
        return reps
    roots = [_sqrt_psd(cov) for _, cov in uncertainty]
    redrawn = 0
    for b in range(n_boot):
        for _attempt in range(_MAX_DRAWS):
            pair = [
                _with_params(model, _moved(model, values, root @ rng.standard_normal(len(values))))
                for model, (values, _), root in zip(models, uncertainty, roots, strict=True)
            ]
            try:
                vals = seg_values(*pair)
                break
            except InvalidParameterError:  # a draw the model cannot predict with (q <= 1 ...)
                redrawn += 1
        else:
            raise InvalidParameterError(
                f"customer_equity: {_MAX_DRAWS} parameter draws in a row fell where the models "
                "cannot predict (e.g. a Gamma-Gamma q <= 1); the estimates are too uncertain "
                "for parameter_uncertainty=True"
            )
        for s, idx in enumerate(members):
            reps[b, s] = vals[idx[rng.integers(0, len(idx), len(idx))]].sum()
    if redrawn:
        warnings.warn(
            f"customer_equity: {redrawn} parameter draws fell where the models cannot predict "
            "(e.g. a Gamma-Gamma q <= 1) and were drawn again; the interval is conditional on "
            "valid parameters",
            DataWarning,
            stacklevel=3,
        )
    return reps


#: Parameter draws tried per bootstrap replicate before giving up.
_MAX_DRAWS = 100
