"""The shifted-beta-geometric (sBG) model of contract renewals."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt
from scipy.special import betaln, digamma, hyp2f1

from crmkit._params import Interval
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure
from crmkit.value._base import ValueModel
from crmkit.value._mle import fit_mle
from crmkit.value._survivors import frame_error as _frame_error
from crmkit.value._survivors import read_survivors as _read_survivors

__all__ = ["ShiftedBetaGeo", "ShiftedBetaGeoParams"]

FloatArray = npt.NDArray[np.float64]
SeedLike = int | np.random.Generator | None


@attrs.frozen
class ShiftedBetaGeoParams:
    """Parameters of the shifted-beta-geometric model.

    Parameters
    ----------
    alpha, beta : float
        The beta distribution of the per-period churn probability ``theta``
        across customers (mean churn ``alpha / (alpha + beta)``).

    Examples
    --------
    >>> ShiftedBetaGeoParams(0.704, 1.182).beta
    1.182
    """

    alpha: float
    beta: float


class ShiftedBetaGeo(ValueModel):
    """Shifted-beta-geometric model of retention in a contractual setting.

    Every customer renews at the end of each period with a constant
    probability ``1 - theta`` until churning; ``theta`` varies across
    customers as ``Beta(alpha, beta)``. The lifetime ``T`` (periods a
    customer stays, ``T >= 1``) then has ``P(T > t) = B(alpha, beta + t) /
    B(alpha, beta)``, and the retention rate rises with tenure as the
    customers likeliest to churn leave first.

    The model is fitted on survivor counts of one or more cohorts: the
    number of customers still active at periods ``0, 1, ..., k`` (period 0
    is the cohort's size). Periods are whatever the contract renews on
    (years, months ...).

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters, ``penalizer * (alpha**2 + beta**2)``.

    Attributes
    ----------
    params_ : ShiftedBetaGeoParams
        Fitted ``alpha`` and ``beta``.
    standard_errors_ : ShiftedBetaGeoParams
        Their standard errors.
    covariance_ : ndarray of shape (2, 2)
        Their asymptotic covariance.
    log_likelihood_ : float
        Log-likelihood at the estimates.
    n_customers_ : float
        Customers fitted on (sum of the cohorts' initial sizes).
    n_cohorts_ : int
        Cohorts fitted on.
    converged_ : bool
        Whether the optimiser converged.
    n_iter_ : int
        Optimiser iterations.

    References
    ----------
    .. [1] Fader, P. S. and Hardie, B. G. S. (2007). "How to project customer
       retention". Journal of Interactive Marketing 21(1), 76-90.
    .. [2] Fader, P. S. and Hardie, B. G. S. (2010). "Customer-base valuation
       in a contractual setting: the perils of ignoring heterogeneity".
       Marketing Science 29(1), 85-93.

    Examples
    --------
    >>> regular = [100, 63.1, 46.8, 38.2, 32.6, 28.9, 26.2, 24.1]  # % of 1,000
    >>> model = ShiftedBetaGeo().fit(regular, n=1000)
    >>> model.params_  # doctest: +ELLIPSIS
    ShiftedBetaGeoParams(alpha=0.704..., beta=1.182...)
    >>> model.survival([8, 9, 10]).round(3)
    array([0.22 , 0.204, 0.191])
    >>> model.retention([1, 5, 10]).round(3)
    array([0.627, 0.88 , 0.935])
    """

    _params_class: ClassVar[type[Any]] = ShiftedBetaGeoParams
    _parameter_constraints: ClassVar[Mapping[str, list[Any]]] = {
        "penalizer": [Interval("real", 0, None)],
    }

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def fit(self, survivors: Any, n: Any = None) -> ShiftedBetaGeo:
        """Fit the model to cohorts' survivor counts.

        Parameters
        ----------
        survivors : array-like, sequence of array-likes or DataFrame
            One cohort: customers active at periods ``0..k`` (a list, array
            or Series). Several cohorts: a sequence of such sequences (of
            any lengths) or a DataFrame with one row per cohort and one
            column per period, ``NaN`` after a cohort's last observed
            period. Counts must be whole numbers, non-increasing, with a
            positive first value.
        n : float or sequence of float, optional
            When given, ``survivors`` are percentages (first value 100) of
            cohorts of ``n`` customers (one ``n`` for all cohorts or one per
            cohort).

        Returns
        -------
        ShiftedBetaGeo
            ``self``, fitted.

        Raises
        ------
        SchemaError
            Non-numeric, NaN (other than trailing), infinite or negative
            values, rising counts, fractional counts without ``n``, no
            period after period 0, fewer than two periods in every cohort,
            or nobody churning (the model cannot then be identified).
        ConvergenceError
            When the likelihood has no finite maximum.

        Examples
        --------
        >>> cohorts = [[1000, 631, 468, 382], [800, 510, 370]]
        >>> ShiftedBetaGeo().fit(cohorts).n_customers_
        1800.0
        """
        self._validate_params()
        cohorts = _read_survivors(survivors, n)
        k = max(len(c) for _, c in cohorts) - 1
        lost = np.zeros(k)
        censored = np.zeros(k)
        for _, c in cohorts:
            lost[: len(c) - 1] += c[:-1] - c[1:]
            censored[len(c) - 2] += c[-1]
        if lost.sum() <= 0:
            raise _frame_error("shows nobody churning: the churn distribution is not identified")
        t = np.arange(1.0, k + 1.0)

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            alpha, beta = np.exp(theta)
            ll, grad = _loglik_and_grad(alpha, beta, t, lost, censored)
            return -ll, -grad * np.exp(theta)

        churn = float(lost.sum() / (lost.sum() + np.sum(censored * t) + np.sum(lost * (t - 1))))
        churn = min(max(churn, 0.01), 0.99)
        result = fit_mle(
            objective,
            [churn, 1.0 - churn],
            names=["alpha", "beta"],
            penalizer=float(self.penalizer),
            model="ShiftedBetaGeo",
            starts=[[1.0, 1.0], [0.1, 0.5], [5.0, 20.0]],
        )
        self._store_result(result, float(sum(c[0] for _, c in cohorts)))
        self.n_cohorts_ = len(cohorts)
        return self

    @classmethod
    def from_params(cls, alpha: float, beta: float) -> ShiftedBetaGeo:
        """Build a fitted-state model with the given parameters.

        ``standard_errors_``, ``covariance_`` and ``log_likelihood_`` are
        NaN; ``n_customers_`` and ``n_cohorts_`` are 0.

        Parameters
        ----------
        alpha, beta : float
            Positive, finite parameters.

        Returns
        -------
        ShiftedBetaGeo

        Raises
        ------
        InvalidParameterError
            For a parameter that is not a positive finite number.

        Examples
        --------
        >>> ShiftedBetaGeo.from_params(alpha=1.0, beta=1.0).retention(1)
        array(0.5)
        """
        for name, value in (("alpha", alpha), ("beta", beta)):
            ok = Interval("real", 0, None, closed="neither").accepts(value)
            if not ok or not math.isfinite(float(value)):
                raise InvalidParameterError(
                    f"ShiftedBetaGeo.from_params: {name!r} must be a finite float > 0; "
                    f"got {value!r}"
                )
        model = cls()
        model.params_ = ShiftedBetaGeoParams(float(alpha), float(beta))
        model.standard_errors_ = ShiftedBetaGeoParams(np.nan, np.nan)
        model.covariance_ = np.full((2, 2), np.nan)
        model.log_likelihood_ = float("nan")
        model.n_customers_ = 0.0
        model.n_cohorts_ = 0
        model.converged_ = True
        model.n_iter_ = 0
        return model

    # ---------------------------------------------------------- predictions
    def survival(self, t: Any) -> FloatArray:
        """Share of a new cohort still active after ``t`` periods, ``P(T > t)``.

        Parameters
        ----------
        t : int or array-like of int
            Periods, ``>= 0``.

        Returns
        -------
        ndarray
            Same shape as ``t``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For negative or fractional ``t``.

        Examples
        --------
        >>> ShiftedBetaGeo.from_params(alpha=1.0, beta=1.0).survival([0, 1, 3])
        array([1.  , 0.5 , 0.25])
        """
        alpha, beta = self._param_array()
        tt = _periods(t, "survival", 0)
        return np.asarray(np.exp(betaln(alpha, beta + tt) - betaln(alpha, beta)), dtype=np.float64)

    def retention(self, t: Any) -> FloatArray:
        """Retention rate at renewal ``t``, ``P(T > t | T > t - 1)``.

        ``(beta + t - 1) / (alpha + beta + t - 1)``: it rises with ``t``.

        Parameters
        ----------
        t : int or array-like of int
            Renewal number, ``>= 1``.

        Returns
        -------
        ndarray
            Same shape as ``t``; ``1 - retention(t)`` is the churn rate among
            customers still active at ``t - 1``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For ``t < 1`` or fractional ``t``.

        Examples
        --------
        >>> ShiftedBetaGeo.from_params(alpha=1.0, beta=1.0).retention([1, 2, 3])
        array([0.5       , 0.66666667, 0.75      ])
        """
        alpha, beta = self._param_array()
        tt = _periods(t, "retention", 1)
        return np.asarray((beta + tt - 1.0) / (alpha + beta + tt - 1.0), dtype=np.float64)

    def churn_probability(self, t: Any) -> FloatArray:
        """Probability that a new customer churns at renewal ``t``, ``P(T = t)``.

        This is unconditional (it sums to 1 over ``t = 1, 2, ...``); the
        churn rate among those still active is ``1 - retention(t)``.

        Parameters
        ----------
        t : int or array-like of int
            Renewal number, ``>= 1``.

        Returns
        -------
        ndarray
            Same shape as ``t``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For ``t < 1`` or fractional ``t``.

        Examples
        --------
        >>> ShiftedBetaGeo.from_params(alpha=1.0, beta=1.0).churn_probability([1, 2])
        array([0.5       , 0.16666667])
        """
        alpha, beta = self._param_array()
        tt = _periods(t, "churn_probability", 1)
        log_p = betaln(alpha + 1.0, beta + tt - 1.0) - betaln(alpha, beta)
        return np.asarray(np.exp(log_p), dtype=np.float64)

    def expected_lifetime(self, n_renewals: Any = 0) -> FloatArray:
        """Expected number of periods a customer stays, counting the current one.

        For a customer who has renewed ``n`` times (``n = 0``: a new
        customer), the remaining lifetime including the period just begun
        has mean ``(alpha + beta + n - 1) / (alpha - 1)``.

        Parameters
        ----------
        n_renewals : int or array-like of int, default=0
            Renewals made so far.

        Returns
        -------
        ndarray
            Same shape as ``n_renewals``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        InvalidParameterError
            When ``alpha <= 1``: the mean lifetime is then infinite (many
            customers have a churn probability near 0); use
            :meth:`discounted_expected_residual_lifetime` instead.
        SchemaError
            For negative or fractional ``n_renewals``.

        Examples
        --------
        >>> ShiftedBetaGeo.from_params(alpha=3.0, beta=4.0).expected_lifetime([0, 2])
        array([3., 4.])
        """
        alpha, beta = self._param_array()
        n = _periods(n_renewals, "expected_lifetime", 0, name="n_renewals")
        if alpha <= 1:
            raise InvalidParameterError(
                f"ShiftedBetaGeo has alpha = {alpha:.4g} <= 1: the expected lifetime is "
                "infinite; use discounted_expected_residual_lifetime(discount_rate) instead"
            )
        return np.asarray((alpha + beta + n - 1.0) / (alpha - 1.0), dtype=np.float64)

    def discounted_expected_residual_lifetime(
        self, discount_rate: float, n_renewals: Any = 0
    ) -> FloatArray:
        """Discounted expected residual lifetime (DERL) of an active customer, in payments.

        For a customer who has made ``n`` renewals (``n = 0``: acquired, not
        yet renewed), evaluated just before the next renewal decision:
        ``sum_{t > n} P(T > t | T > n) / (1 + d)**(t - n - 1)`` =
        ``(beta + n) / (alpha + beta + n) * 2F1(1, beta + n + 1; alpha + beta + n + 1;
        1 / (1 + d))``. Multiply by the margin per period for the customer's
        residual value. A new customer's discounted expected lifetime, its
        first payment at acquisition included, is ``1 + DERL(n=0) / (1 + d)``.

        Parameters
        ----------
        discount_rate : float
            Discount rate per period, ``> 0``.
        n_renewals : int or array-like of int, default=0
            Renewals made so far.

        Returns
        -------
        ndarray
            Same shape as ``n_renewals``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        InvalidParameterError
            For a bad discount rate.
        SchemaError
            For negative or fractional ``n_renewals``.

        References
        ----------
        .. [1] Fader, P. S. and Hardie, B. G. S. (2010), see the class.

        Examples
        --------
        >>> m = ShiftedBetaGeo.from_params(alpha=1.0, beta=1.0)
        >>> m.discounted_expected_residual_lifetime(0.1, [0, 4]).round(4)
        array([1.8015, 4.6965])
        """
        alpha, beta = self._param_array()
        z = 1.0 / (1.0 + _rate(discount_rate))
        n = _periods(n_renewals, "discounted_expected_residual_lifetime", 0, name="n_renewals")
        ratio = (beta + n) / (alpha + beta + n)
        out = np.asarray(ratio * hyp2f1(1.0, beta + n + 1.0, alpha + beta + n + 1.0, z))
        _finite(out, "discounted_expected_residual_lifetime")
        return out.astype(np.float64)

    def sample(self, n_customers: int, n_periods: int, *, seed: SeedLike = None) -> FloatArray:
        """Simulate one cohort's survivor counts from the fitted parameters.

        Parameters
        ----------
        n_customers : int
            Cohort size (>= 1).
        n_periods : int
            Periods observed after period 0 (>= 1).
        seed : int, Generator or None, default=None
            Random seed.

        Returns
        -------
        ndarray of shape (n_periods + 1,)
            Customers active at periods ``0..n_periods`` (as floats), ready
            for :meth:`fit`.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        InvalidParameterError
            For a bad ``n_customers`` or ``n_periods``.

        Examples
        --------
        >>> ShiftedBetaGeo.from_params(alpha=1.0, beta=1.0).sample(100, 3, seed=0)[0]
        np.float64(100.0)
        """
        alpha, beta = self._param_array()
        for name, value in (("n_customers", n_customers), ("n_periods", n_periods)):
            if not Interval("int", 1, None).accepts(value):
                raise InvalidParameterError(
                    f"ShiftedBetaGeo.sample: {name!r} must be an int >= 1; got {value!r}"
                )
        rng = np.random.default_rng(seed)
        theta = rng.beta(alpha, beta, size=int(n_customers))
        lifetime = rng.geometric(np.clip(theta, 1e-300, 1.0))
        t = np.arange(int(n_periods) + 1)
        out: FloatArray = (lifetime[None, :] > t[:, None]).sum(axis=1).astype(np.float64)
        return out

    # ------------------------------------------------------------- state
    def _get_state(self) -> dict[str, Any] | None:
        state = super()._get_state()
        if state is not None:
            state["n_cohorts"] = int(self.n_cohorts_)
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self.n_cohorts_ = int(state.get("n_cohorts", 0))


def _loglik_and_grad(
    alpha: float, beta: float, t: FloatArray, lost: FloatArray, censored: FloatArray
) -> tuple[float, FloatArray]:
    """Log-likelihood of churn counts ``lost`` at ``t`` and ``censored`` survivors at ``t``."""
    b0 = betaln(alpha, beta)
    log_p = betaln(alpha + 1.0, beta + t - 1.0) - b0
    log_s = betaln(alpha, beta + t) - b0
    ll = float(np.dot(lost, log_p) + np.dot(censored, log_s))
    psi_ab = digamma(alpha + beta)
    psi_abt = digamma(alpha + beta + t)
    dp_a = digamma(alpha + 1.0) - psi_abt - digamma(alpha) + psi_ab
    dp_b = digamma(beta + t - 1.0) - psi_abt - digamma(beta) + psi_ab
    ds_a = psi_ab - psi_abt
    ds_b = digamma(beta + t) - psi_abt - digamma(beta) + psi_ab
    grad = np.array(
        [np.dot(lost, dp_a) + np.dot(censored, ds_a), np.dot(lost, dp_b) + np.dot(censored, ds_b)]
    )
    return ll, grad


def _periods(t: Any, who: str, minimum: int, name: str = "t") -> FloatArray:
    arr = np.asarray(t)
    ok = arr.dtype.kind in "iuf" and arr.size > 0
    if ok:
        f = arr.astype(np.float64)
        ok = bool(np.all(np.isfinite(f)) and np.all(f == np.floor(f)) and np.all(f >= minimum))
    if not ok:
        values = tuple(np.atleast_1d(arr).ravel()[:5].tolist())
        raise SchemaError(
            [
                SchemaFailure(
                    frame="argument",
                    column=name,
                    check=f"must be whole numbers >= {minimum} (ShiftedBetaGeo.{who})",
                    values=values,
                )
            ]
        )
    return arr.astype(np.float64)


def _rate(discount_rate: Any) -> float:
    ok = Interval("real", 0, None, closed="neither").accepts(discount_rate)
    if not ok or not math.isfinite(float(discount_rate)):
        raise InvalidParameterError(
            f"'discount_rate' must be a finite float > 0 (per period); got {discount_rate!r}"
        )
    return float(discount_rate)


def _finite(value: Any, who: str) -> None:
    if not np.all(np.isfinite(value)):
        raise InvalidParameterError(
            f"ShiftedBetaGeo.{who}: the series did not converge to a finite value for these "
            "parameters and discount rate; use a larger discount rate"
        )
