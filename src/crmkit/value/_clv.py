"""Customer lifetime value from a purchase model and a spend model, and value to date."""

from __future__ import annotations

import math
import numbers
from typing import Any, Protocol, overload, runtime_checkable

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Interval, Options, Predicate, validate_params
from crmkit.data import TIME_UNITS
from crmkit.exceptions import CrmkitError, InvalidParameterError, SchemaError, SchemaFailure
from crmkit.value._margin import MARGIN, resolve_margin

__all__ = ["PurchaseModelLike", "SpendModelLike", "clv", "historic_value"]

FloatArray = npt.NDArray[np.float64]
_DAYS_PER_YEAR = 365.25


@runtime_checkable
class PurchaseModelLike(Protocol):
    """What :func:`clv` needs from a purchase model (BetaGeo, ParetoNBD ...).

    Examples
    --------
    >>> from crmkit.value import GammaGamma
    >>> isinstance(GammaGamma(), PurchaseModelLike)
    False
    """

    def conditional_expected_purchases(self, view: Any, t: Any) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units."""

    def expected_purchases(self, t: Any) -> Any:
        """Expected purchases of a new customer in its first ``t`` time units."""


@runtime_checkable
class SpendModelLike(Protocol):
    """What :func:`clv` needs from a spend model (GammaGamma).

    Examples
    --------
    >>> from crmkit.value import GammaGamma
    >>> isinstance(GammaGamma(), SpendModelLike)
    True
    """

    def expected_spend(self, view: Any) -> pd.Series:
        """Expected spend per future transaction of each customer."""


def _finite_real(low_open: bool) -> Predicate:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            return False
        return float(v) > 0 if low_open else float(v) >= 0

    return Predicate(check, "a finite float > 0" if low_open else "a finite float >= 0")


_CONSTRAINTS: dict[str, list[Any]] = {
    "horizon": [_finite_real(True)],
    "discount_rate": [_finite_real(False)],
    "time_unit": [Options(frozenset(TIME_UNITS))],
    "steps": [None, Interval("int", 1, None)],
    "margin": [Interval("real", 0, 1, closed="right")],
}


#: The longest horizon, in years: model extrapolations beyond it mean nothing, and the
#: work (one sub-period per month by default) stays bounded.
MAX_HORIZON_YEARS = 100.0
#: The most sub-periods a horizon may be cut into.
MAX_STEPS = 10_000
#: The highest annual discount rate (1000 % a year): beyond it every future is worth 0.
MAX_DISCOUNT_RATE = 10.0


def check_bounds(
    who: str, horizon: float, discount_rate: float, time_unit: str, steps: int | None
) -> None:
    """Refuse a horizon, discount rate or number of steps that is valid but meaningless.

    Parameters
    ----------
    who : str
        The function, for messages.
    horizon : float
        In time units (already checked to be finite and > 0).
    discount_rate : float
        Annual (already checked to be finite and >= 0).
    time_unit : {"D", "W", "M"}
        The unit of ``horizon``.
    steps : int or None
        Sub-periods (already checked to be >= 1).

    Raises
    ------
    InvalidParameterError
        When the horizon exceeds :data:`MAX_HORIZON_YEARS` years, the rate
        :data:`MAX_DISCOUNT_RATE`, or ``steps`` :data:`MAX_STEPS` or the
        number of days in the horizon.

    Examples
    --------
    >>> check_bounds("clv", 52.0, 0.1, "W", None)
    >>> check_bounds("clv", 1e5, 0.1, "W", None)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'horizon' parameter of clv must be at most ...
    """
    days = TIME_UNITS[time_unit]
    limit = MAX_HORIZON_YEARS * _DAYS_PER_YEAR / days
    if horizon > limit:
        raise InvalidParameterError(
            f"The 'horizon' parameter of {who} must be at most {limit:,.0f} (time unit "
            f"{time_unit!r}: {MAX_HORIZON_YEARS:g} years); the purchase models cannot "
            "meaningfully extrapolate further and the work would grow without bound. "
            f"Got {horizon!r} instead."
        )
    if discount_rate > MAX_DISCOUNT_RATE:
        raise InvalidParameterError(
            f"The 'discount_rate' parameter of {who} must be at most {MAX_DISCOUNT_RATE:g} "
            f"(it is ANNUAL: 0.1 is 10 % a year; {MAX_DISCOUNT_RATE:g} discounts a year "
            f"ahead to 1/{1 + MAX_DISCOUNT_RATE:g}). Got {discount_rate!r} instead."
        )
    if steps is not None:
        most = min(MAX_STEPS, max(1, math.ceil(horizon * days)))
        if steps > most:
            raise InvalidParameterError(
                f"The 'steps' parameter of {who} must be at most {most:,} here (one "
                f"sub-period per day of the horizon, and at most {MAX_STEPS:,}). "
                f"Got {steps!r} instead."
            )


def _grid(
    horizon: float, discount_rate: float, time_unit: str, steps: int | None
) -> tuple[FloatArray, FloatArray]:
    """Ends of the sub-periods (time units) and their discount factors."""
    days = TIME_UNITS[time_unit]
    if steps is None:
        steps = max(1, math.ceil(horizon * days / (_DAYS_PER_YEAR / 12.0) - 1e-9))
    ends = horizon * np.arange(1, steps + 1, dtype=np.float64) / steps
    factors = (1.0 + discount_rate) ** (-(ends * days / _DAYS_PER_YEAR))
    return ends, np.asarray(factors, dtype=np.float64)


def _as_values(series: Any, n: int, who: str, index: pd.Index) -> FloatArray:
    arr = np.asarray(series, dtype=np.float64).reshape(-1)
    if len(arr) != n:
        raise CrmkitError(f"{who} returned {len(arr)} values for {n} customers")
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = list(np.asarray(index, dtype=object)[bad][:5])
        raise CrmkitError(f"{who} returned non-finite values for rows {rows}")
    return arr


def _clv_values(
    purchase_model: Any,
    spend: FloatArray,
    view: Any,
    ends: FloatArray,
    factors: FloatArray,
    index: pd.Index,
) -> FloatArray:
    """Discounted expected revenue per customer, before the margin.

    A built-in model's ``_conditional_path`` gives every sub-period's
    cumulative expectation from one read of the view and one P(alive);
    other models are asked once per sub-period.
    """
    total = np.zeros(len(spend))
    previous = np.zeros(len(spend))
    who = f"{type(purchase_model).__name__}.conditional_expected_purchases"
    path = getattr(purchase_model, "_conditional_path", None)
    if path is not None:
        cums = path(view, ends)
    else:
        cums = (purchase_model.conditional_expected_purchases(view, float(e)) for e in ends)
    for cum_raw, factor in zip(cums, factors, strict=True):
        cum = _as_values(cum_raw, len(spend), who, index)
        total += (cum - previous) * factor
        previous = cum
    out: FloatArray = total * spend
    return out


def _index_of(view: Any, n: int) -> pd.Index:
    return view.index if isinstance(view, pd.DataFrame) else pd.RangeIndex(n)


@overload
def clv(
    purchase_model: PurchaseModelLike,
    spend_model: SpendModelLike,
    view: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    time_unit: str = ...,
    steps: int | None = ...,
    margin: float | str | pd.Series = ...,
    interval: None = ...,
) -> pd.Series: ...


@overload
def clv(
    purchase_model: PurchaseModelLike,
    spend_model: SpendModelLike,
    view: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    time_unit: str = ...,
    steps: int | None = ...,
    margin: float | str | pd.Series = ...,
    interval: float,
) -> pd.DataFrame: ...


def clv(
    purchase_model: PurchaseModelLike,
    spend_model: SpendModelLike,
    view: pd.DataFrame,
    *,
    horizon: float,
    discount_rate: float,
    time_unit: str = "W",
    steps: int | None = None,
    margin: float | str | pd.Series = 1.0,
    interval: float | None = None,
) -> pd.Series | pd.DataFrame:
    """Customer lifetime value: discounted expected revenue (or margin) over a horizon.

    The horizon is cut into ``steps`` equal sub-periods ending at
    ``t_1 < ... < t_K = horizon``; the purchases expected in sub-period
    ``k``, ``E[X(t_k)] - E[X(t_{k-1})]`` given the customer's history, are
    valued at the customer's expected spend per transaction and discounted
    from the end of the sub-period::

        clv = margin * spend * sum_k (E[X(t_k)] - E[X(t_{k-1})]) / (1 + d) ** y_k

    where ``y_k`` is ``t_k`` in years (``t_k`` time units times the unit's
    length in days over 365.25) and ``d`` the annual discount rate.

    Parameters
    ----------
    purchase_model : fitted purchase model
        Provides ``conditional_expected_purchases(view, t)`` (e.g.
        :class:`~crmkit.value.BetaGeo`).
    spend_model : fitted spend model
        Provides ``expected_spend(view)`` (e.g.
        :class:`~crmkit.value.GammaGamma`).
    view : DataFrame
        The customer view, with the columns both models read.
    horizon : float
        How far ahead, in time units (> 0, at most 100 years).
    discount_rate : float
        ANNUAL discount rate (>= 0, at most 10), e.g. 0.1 for 10 % a year,
        whatever the time unit; converted with the unit's length.
    time_unit : {"D", "W", "M"}, default="W"
        The time unit of the view and of ``horizon`` (days, weeks, average
        months).
    steps : int, optional
        Number of sub-periods; default one per (average) month of the
        horizon, at least 1, at most one per day of the horizon and 10,000.
        More steps discount more precisely.
    margin : float, str or Series, default=1.0
        Share of revenue kept as margin: one share in (0, 1] for everyone
        (1 gives revenue), the name of a view column, or a Series indexed
        by customer (aligned to the view; every customer needed) with each
        customer's own share (finite, <= 1; negative for a loss-making
        customer).
    interval : float, optional
        A level in (0, 1), e.g. 0.9: also return each customer's interval
        from the sampling distribution of both models' parameters (delta
        method: the parameters' log-scale covariance, covariate
        coefficients included, pushed through central differences of the
        CLV; lower bounds floored at 0 when every margin is >= 0). It
        covers the estimation error of the parameters only, not the
        randomness of the customer's future purchases, and assumes
        approximately normal estimates (large samples). Needs models with
        a finite covariance (not ``from_params``).

    Returns
    -------
    Series of shape (n_customers,) or DataFrame
        Named ``clv``, indexed like ``view``; with ``interval`` a DataFrame
        with columns ``clv``, ``clv_low`` and ``clv_high``.

    Raises
    ------
    InvalidParameterError
        For a bad ``horizon``, ``discount_rate``, ``time_unit``, ``steps`` or
        ``margin`` (also beyond the bounds that keep the numbers meaningful and
        the work finite: a horizon of 100 years, an annual rate of 10, one
        step per day), or models without the methods :func:`clv` calls.
    SchemaError
        For a view the models cannot read, or a per-customer margin that is
        missing or invalid (naming the rows).
    NotFittedError
        When a model is not fitted.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "RFM and
       CLV: using iso-value curves for customer base analysis". Journal of
       Marketing Research 42(4), 415-430.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.value import GammaGamma
    >>> class Steady:  # two purchases per week, for everyone, for ever
    ...     def conditional_expected_purchases(self, view, t):
    ...         return pd.Series(2.0 * t, index=view.index)
    ...     def expected_purchases(self, t):
    ...         return 2.0 * t
    >>> view = pd.DataFrame({"frequency": [0, 3], "monetary_value": [0.0, 40.0]},
    ...                     index=pd.Index(["a", "b"], name="customer_id"))
    >>> spend = GammaGamma.from_params(p=2.0, q=3.0, gamma=10.0)
    >>> clv(Steady(), spend, view, horizon=52, discount_rate=0.0).round(1)
    customer_id
    a    1040.0
    b    3380.0
    Name: clv, dtype: float64
    >>> clv(Steady(), spend, view, horizon=52, discount_rate=0.1, margin=0.3).round(1)
    customer_id
    a    296.5
    b    963.5
    Name: clv, dtype: float64
    >>> view["margin_share"] = [0.3, 0.5]
    >>> clv(Steady(), spend, view, horizon=52, discount_rate=0.1, margin="margin_share").round(1)
    customer_id
    a    296.5
    b    1605.8
    Name: clv, dtype: float64
    """
    validate_params(
        "clv",
        {
            "horizon": horizon,
            "discount_rate": discount_rate,
            "time_unit": time_unit,
            "steps": steps,
            "margin": margin,
            "interval": interval,
        },
        {
            **_CONSTRAINTS,
            "margin": MARGIN,
            "interval": [None, Interval("real", 0, 1, closed="neither")],
        },
    )
    check_bounds("clv", float(horizon), float(discount_rate), time_unit, steps)
    for name, model, protocol, needs in (
        (
            "purchase_model",
            purchase_model,
            PurchaseModelLike,
            "conditional_expected_purchases and expected_purchases",
        ),
        ("spend_model", spend_model, SpendModelLike, "expected_spend"),
    ):
        if not isinstance(model, protocol):
            raise InvalidParameterError(
                f"The {name!r} parameter of clv must be an object with {needs}. "
                f"Got {type(model).__name__} instead."
            )
    ends, factors = _grid(float(horizon), float(discount_rate), time_unit, steps)
    spend_series = spend_model.expected_spend(view)
    n = len(spend_series)
    index = _index_of(view, n)
    spend = _as_values(spend_series, n, f"{type(spend_model).__name__}.expected_spend", index)
    share = resolve_margin(margin, view, index, "clv")
    values = _clv_values(purchase_model, spend, view, ends, factors, index) * share
    out: pd.Series = pd.Series(values, index=index, name="clv", dtype=np.float64)
    if interval is None:
        return out
    from crmkit.value._intervals import delta_interval  # _intervals imports this module

    def values_of(pm: Any, sm: Any) -> FloatArray:
        sp = _as_values(sm.expected_spend(view), n, "expected_spend", index)
        return np.asarray(_clv_values(pm, sp, view, ends, factors, index) * share)

    _, low, high = delta_interval(
        values_of, (purchase_model, spend_model), float(interval), ("purchase", "spend")
    )
    if np.all(np.asarray(share) >= 0):
        low = np.maximum(low, 0.0)
    table: pd.DataFrame = pd.DataFrame(
        {"clv": values, "clv_low": low, "clv_high": high}, index=index
    )
    return table


def _read_money(view: pd.DataFrame, column: str, failures: list[SchemaFailure]) -> FloatArray:
    raw = view[column].to_numpy()
    if raw.dtype.kind == "b" or raw.dtype.kind not in "iuf":
        failures.append(
            SchemaFailure(
                frame="view",
                column=column,
                check=f"must be numeric, got dtype {raw.dtype}",
                n_failing=len(raw),
            )
        )
        return np.zeros(len(raw))
    arr = raw.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = tuple(np.asarray(view.index, dtype=object)[bad][:5].tolist())
        failures.append(
            SchemaFailure(
                frame="view",
                column=column,
                check="has NaN or infinite values",
                n_failing=int(bad.sum()),
                rows=rows,
                values=tuple(arr[bad][:5].tolist()),
            )
        )
    return arr


def historic_value(view: pd.DataFrame, margin: float | None = None) -> pd.DataFrame:
    """Revenue and margin each customer has brought to date.

    Parameters
    ----------
    view : DataFrame
        The customer view with a ``revenue`` column (total amount to date;
        negative values, net refunds, are kept) and optionally ``margin``.
    margin : float, optional
        Share of revenue kept as margin, in (0, 1]. When given, the margin is
        ``revenue * margin`` (a ``margin`` column of the view is then not
        used); when None the view's ``margin`` column is used if present.

    Returns
    -------
    DataFrame
        Indexed like ``view``: ``revenue`` and, when known, ``margin``.

    Raises
    ------
    SchemaError
        A missing ``revenue`` column; non-numeric, NaN or infinite values.
    InvalidParameterError
        For a bad ``margin``, or a ``view`` that is not a DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"revenue": [120.0, 35.5], "margin": [40.0, 10.0]},
    ...                     index=pd.Index(["a", "b"], name="customer_id"))
    >>> historic_value(view)
                 revenue  margin
    customer_id
    a              120.0    40.0
    b               35.5    10.0
    >>> historic_value(view, margin=0.25)["margin"].tolist()
    [30.0, 8.875]
    """
    if not isinstance(view, pd.DataFrame):
        raise InvalidParameterError(
            f"historic_value expects a customer view (DataFrame); got {type(view).__name__}"
        )
    validate_params(
        "historic_value", {"margin": margin}, {"margin": [None, _CONSTRAINTS["margin"][0]]}
    )
    if "revenue" not in view.columns:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view", column="revenue", check="is missing (required by historic_value)"
                )
            ]
        )
    failures: list[SchemaFailure] = []
    data = {"revenue": _read_money(view, "revenue", failures)}
    if margin is not None:
        data["margin"] = data["revenue"] * float(margin)
    elif "margin" in view.columns:
        data["margin"] = _read_money(view, "margin", failures)
    if failures:
        raise SchemaError(failures)
    out: pd.DataFrame = pd.DataFrame(data, index=view.index)
    return out
