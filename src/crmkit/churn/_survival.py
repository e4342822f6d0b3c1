"""SurvivalChurn: a Weibull lifetime model censored by the silence since the last purchase."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import minimize

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval, Predicate, column_names
from crmkit.churn._common import (
    check_churn_view,
    check_labels,
    column_values,
    format_reasons,
    score_frame,
)
from crmkit.churn._features import FeatureMap, default_log_columns
from crmkit.churn._weibull import Histories, history_loglik, p_gone_by
from crmkit.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    ModelFileError,
    SchemaError,
    SchemaFailure,
)
from crmkit.plugins import CHURN_SCORE_COLUMNS, PluginBase

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["SurvivalChurn", "DEFAULT_COVARIATES"]

FloatArray = npt.NDArray[np.float64]

#: Covariates read by default: the trend, the spend and the CRM aggregates
#: behind the early-warning signals (the purchase history enters the
#: likelihood itself).
DEFAULT_COVARIATES: tuple[str, ...] = (
    "purchase_trend",
    "monetary_value",
    "last_nps",
    "mean_csat",
    "n_complaints_open",
    "days_since_complaint",
    "days_since_address_change",
    "n_decision_makers_left",
    "days_since_contact_left",
)

_HISTORY = ("frequency", "recency", "T")


def _is_covariates(value: Any) -> bool:
    names = column_names(allow_empty=True)
    return names.accepts(value) and not set(value) & set(_HISTORY)


#: Covariates: column names other than the purchase history, which enters the
#: likelihood itself.
_COVARIATES = Predicate(
    _is_covariates,
    "a tuple of distinct column names without 'frequency', 'recency' and 'T' (the "
    "purchase history enters the likelihood; it cannot also be a covariate)",
)
_WEAK = 1e-3  # precision of the weak prior on log r, log alpha, log c and the intercept
#: bounds of log r, log alpha, log c and the intercept (c >= 1/3 keeps the quadrature exact)
_COEF_BOUND = (-10.0, 10.0)  # per standard deviation of a covariate, on the log scale
_BOUNDS = [(-12.0, 12.0), (-25.0, 25.0), (np.log(0.34), np.log(10.0)), (-40.0, 40.0)]


class SurvivalChurn(PluginBase):
    """Probability of dropping out within a horizon, from a Weibull lifetime model.

    The customer's lifetime (from the first purchase to the unseen moment of
    leaving) is Weibull with shape ``c`` and scale ``exp(eta_i)``, ``eta_i =
    intercept + covariates_i @ coef`` (an accelerated failure time model: a
    covariate with a negative coefficient shortens lifetimes). While alive,
    the customer buys as a Poisson process whose rate varies across
    customers as ``Gamma(r, alpha)``. The lifetime is censored: the customer
    was alive at the last purchase, and the time since then (``T -
    recency``) is the span in which a silent customer may already have left;
    the history's likelihood weighs "alive at ``T``" against "left at
    ``tau`` in ``(recency, T]``" (see :mod:`crmkit.churn._weibull`). With
    ``c = 1`` and no covariates this is the Pareto/NBD with a common dropout
    rate; ``c < 1`` gives a hazard that falls with age (as a mix of
    customers with different dropout rates does), ``c > 1`` one that rises.

    The parameters maximise the likelihood of all histories (the integral
    over the silent span by 32-point Gauss-Legendre quadrature), with an L2
    penalty ``l2 / 2 * ||coef||**2`` and a weak prior on the log-parameters
    ``r``, ``alpha``, ``c`` and the intercept; by L-BFGS-B with the analytic
    gradient. Covariates are standardised (optionally on a signed log
    scale) with missing-value indicators, as in :class:`LogisticChurn`.

    ``churn_risk`` is the posterior probability that the customer has left
    by ``horizon`` time units after the as-of date: gone already (silently)
    or leaving within the horizon.

    Signals: ``signal_history`` is the risk of a customer with the same
    purchase history and average covariates (all standardised covariates
    0); the difference to ``churn_risk`` is split over the covariates in
    proportion to their terms that push in its direction
    (``signal_<column>``). The signals add up to ``churn_risk``.

    Parameters
    ----------
    columns : tuple of str, optional
        Covariate columns; default :data:`DEFAULT_COVARIATES`; ``()`` for
        none. ``frequency``, ``recency`` and ``T`` form the history and
        cannot be covariates.
    log_columns : tuple of str, optional
        Covariates on the signed log scale; default the skewed ones (see
        :func:`crmkit.churn.default_log_columns`).
    horizon : float, default=26.0
        Horizon in the view's time unit (26 weeks is half a year).
    l2 : float, default=1.0
        Penalty on the squared covariate coefficients (> 0).
    min_contribution : float, default=0.01
        Smallest signal listed in ``reasons``.
    max_iter : int, default=2000
        Optimiser iterations at most.

    Attributes
    ----------
    features_ : FeatureMap
        Standardisation and indicators of the covariates.
    r_, alpha_ : float
        Gamma shape and rate of the purchase rates.
    shape_ : float
        Weibull shape ``c`` of the lifetime.
    intercept_ : float
        Log lifetime scale of an average customer.
    coef_ : numpy.ndarray of float, shape (n_features,)
        Covariate (then indicator) coefficients on the log lifetime scale.
    log_likelihood_ : float
        Log-likelihood at the estimates (without the penalty).
    n_iter_ : int
        Optimiser iterations.
    converged_ : bool
        Whether the optimiser converged.

    Notes
    -----
    Labels given to ``fit`` are checked but not used: the model learns from
    the purchase histories.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your
    customers: who are they and what will they do next? Management Science
    33(1), 1-24.
    Kalbfleisch, J. D. & Prentice, R. L. (2002). The Statistical Analysis of
    Failure Time Data, 2nd ed., ch. 2 (Weibull accelerated failure time
    models). Wiley.

    Examples
    --------
    >>> from crmkit.testing import make_customer_view
    >>> view = make_customer_view(300, seed=2)
    >>> model = SurvivalChurn(columns=("purchase_trend",), horizon=13.0).fit(view)
    >>> out = model.score(view)
    >>> bool(out["churn_risk"].between(0, 1).all()), model.converged_
    (True, True)
    >>> total = out["signal_history"] + out["signal_purchase_trend"]
    >>> bool(np.allclose(total, out["churn_risk"]))
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "columns": [_COVARIATES, None],
        "log_columns": [
            column_names(allow_empty=True),
            None,
        ],
        "horizon": [Interval("float", 0, None, closed="neither")],
        "l2": [Interval("float", 0, None, closed="neither")],
        "min_contribution": [Interval("float", 0, 1)],
        "max_iter": [Interval("int", 1, None)],
    }  # fmt: skip

    def __init__(
        self,
        *,
        columns: tuple[str, ...] | None = None,
        log_columns: tuple[str, ...] | None = None,
        horizon: float = 26.0,
        l2: float = 1.0,
        min_contribution: float = 0.01,
        max_iter: int = 2000,
    ) -> None:
        self.columns = columns
        self.log_columns = log_columns
        self.horizon = horizon
        self.l2 = l2
        self.min_contribution = min_contribution
        self.max_iter = max_iter

    def _covariates(self) -> tuple[str, ...]:
        columns = self._validated("columns")
        return DEFAULT_COVARIATES if columns is None else tuple(columns)

    @property
    def requires(self) -> tuple[str, ...]:
        """``frequency``, ``recency``, ``T`` and the covariates.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> SurvivalChurn(columns=("last_nps",)).requires
        ('frequency', 'recency', 'T', 'last_nps')
        """
        return (*_HISTORY, *self._covariates())

    @property
    def provides(self) -> tuple[str, ...]:
        """``churn_risk``, ``reasons``, ``signal_history`` and ``signal_<covariate>``.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> SurvivalChurn(columns=("last_nps",)).provides
        ('churn_risk', 'reasons', 'signal_history', 'signal_last_nps')
        """
        return (*CHURN_SCORE_COLUMNS, "signal_history",
                *(f"signal_{c}" for c in self._covariates()))  # fmt: skip

    def _check_view(self, view: pd.DataFrame, who: str) -> tuple[pd.DataFrame, Histories]:
        view = check_churn_view(view, f"SurvivalChurn.{who}", self.requires, filled=_HISTORY)
        x, t_x, T = (column_values(view, c) for c in _HISTORY)
        bad = (x < 0) | (t_x < 0) | (t_x > T)
        if bad.any():
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view", column="recency",
                        check="must satisfy 0 <= recency <= T with frequency >= 0",
                        n_failing=int(bad.sum()), rows=tuple(view.index[bad][:5].tolist()),
                    )
                ]
            )  # fmt: skip
        return view, Histories(x, t_x, T)

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Self:
        """Fit the lifetime model to the purchase histories by penalised maximum likelihood.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.
        y : pandas.Series of bool, optional
            Churn labels; checked, not used.

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters.
        SchemaError
            For missing or invalid columns or bad labels.
        ConvergenceError
            When the optimiser ends at a non-finite point.

        Warns
        -----
        ConvergenceWarning
            When the optimiser stops before converging.

        Examples
        --------
        See :class:`SurvivalChurn`.
        """
        self._validate_params()
        view, data = self._check_view(view, "fit")
        if y is not None:
            check_labels(y, view, "SurvivalChurn.fit")
        cov = self._covariates()
        logs = default_log_columns(cov) if self.log_columns is None else tuple(self.log_columns)
        features = FeatureMap.fit(view, cov, logs)
        design = features.design(view)
        n, p = design.shape
        l2 = float(self.l2)
        # start: c = 1, r = 1, alpha from the mean purchase rate, lifetimes ~ 4 x the ages
        mean_T = max(float(np.mean(data.T)) if n else 1.0, 1e-6)
        mean_x = float(np.mean(data.x)) if n else 0.0
        rate_scale = np.log(mean_T / max(mean_x, 0.1))
        start = np.r_[0.0, rate_scale, 0.0, np.log(4.0 * mean_T), np.zeros(p)]
        start[:4] = np.clip(start[:4], [b[0] for b in _BOUNDS], [b[1] for b in _BOUNDS])
        centre = start[:4].copy()
        scale = float(max(n, 1))

        def objective(params: FloatArray) -> tuple[float, FloatArray]:
            r, alpha, c = np.exp(params[:3])
            beta = params[4:]
            eta = params[3] + design @ beta
            ll, d_eta, d_r, d_alpha, d_c = history_loglik(data, eta, r, alpha, c)
            diff = params[:4] - centre
            value = -float(ll.sum()) + 0.5 * l2 * float(beta @ beta)
            value += 0.5 * _WEAK * float(diff @ diff)
            grad = np.empty_like(params)
            grad[0] = -r * float(d_r.sum())
            grad[1] = -alpha * float(d_alpha.sum())
            grad[2] = -c * float(d_c.sum())
            grad[3] = -float(d_eta.sum())
            grad[:4] += _WEAK * diff
            grad[4:] = -(design.T @ d_eta) + l2 * beta
            return value / scale, grad / scale  # per customer: steps of a sensible size

        bounds = [*_BOUNDS, *([_COEF_BOUND] * p)]
        result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": int(self.max_iter), "gtol": 1e-8})  # fmt: skip
        if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
            raise ConvergenceError(f"SurvivalChurn: the fit failed ({result.message})")
        _, grad = objective(result.x)
        ok = bool(result.success) or float(np.max(np.abs(grad))) <= 1e-5
        if not ok:
            warnings.warn(
                f"SurvivalChurn: the optimiser stopped after {result.nit} iterations without "
                f"converging ({result.message}); raise max_iter or l2",
                ConvergenceWarning,
                stacklevel=2,
            )
        params = np.asarray(result.x, dtype=np.float64)
        r, alpha, c = (float(v) for v in np.exp(params[:3]))
        eta = params[3] + design @ params[4:]
        ll = history_loglik(data, eta, r, alpha, c)[0]
        self.features_ = features
        self.r_ = r
        self.alpha_ = alpha
        self.shape_ = c
        self.intercept_ = float(params[3])
        self.coef_ = params[4:].copy()
        self.log_likelihood_ = float(ll.sum())
        self.n_iter_ = int(result.nit)
        self.converged_ = ok
        return self

    def _terms(self, view: pd.DataFrame) -> FloatArray:
        """Per-customer covariate terms on the log scale, one column per covariate."""
        z, indicators = self.features_.transform(view)
        k = len(self.features_.columns)
        parts = z * self.coef_[None, :k]
        owners = np.flatnonzero(self.features_.has_indicator)
        for j, col in enumerate(owners):
            parts[:, col] = parts[:, col] + indicators[:, j] * self.coef_[k + j]
        return np.asarray(parts, dtype=np.float64)

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Score each customer: probability of having left by the end of the horizon.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``churn_risk``, ``reasons``,
            ``signal_history`` and ``signal_<covariate>``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns.

        Examples
        --------
        See :class:`SurvivalChurn`.
        """
        check_is_fitted(self, "coef_")
        view, data = self._check_view(view, "score")
        terms = self._terms(view)
        eta = np.full(len(view), self.intercept_, dtype=np.float64)
        for j in range(terms.shape[1]):  # column by column: the same sums for any row count
            eta = eta + terms[:, j]
        h = float(self.horizon)
        args = (self.r_, self.alpha_, self.shape_, h)
        risk = p_gone_by(data, eta, *args)
        base = p_gone_by(data, np.full(len(view), self.intercept_), *args)
        diff = risk - base
        direction = np.where(diff >= 0, 1.0, -1.0)
        # a negative term shortens the lifetime and so raises the risk
        push = np.maximum(-terms * direction[:, None], 0.0)
        total = push.sum(axis=1) if push.shape[1] else np.zeros(len(view))
        share = np.where(total > 0, diff / np.where(total > 0, total, 1.0), 0.0)
        parts = push * share[:, None]
        names = ("history", *self.features_.columns)
        signals = np.column_stack([base, parts]) if parts.shape[1] else base[:, None]
        reasons = format_reasons(signals, names, minimum=float(self.min_contribution))
        return score_frame(view.index, risk, reasons,
                           {n: signals[:, j] for j, n in enumerate(names)})  # fmt: skip

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "coef_"):
            return None
        return {
            "features": self.features_.to_state(),
            "r": self.r_,
            "alpha": self.alpha_,
            "shape": self.shape_,
            "intercept": self.intercept_,
            "coef": self.coef_,
            "log_likelihood": self.log_likelihood_,
            "n_iter": self.n_iter_,
            "converged": self.converged_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        features = FeatureMap.from_state(state["features"])
        coef = np.asarray(state["coef"], dtype=np.float64)
        if coef.shape != (features.n_features,):
            raise ModelFileError(
                f"malformed fitted state for SurvivalChurn: 'coef' must hold one value per "
                f"covariate ({features.n_features}); got shape {coef.shape}"
            )
        self.features_ = features
        self.r_ = float(state["r"])
        self.alpha_ = float(state["alpha"])
        self.shape_ = float(state["shape"])
        self.intercept_ = float(state["intercept"])
        self.coef_ = coef
        self.log_likelihood_ = float(state["log_likelihood"])
        self.n_iter_ = int(state["n_iter"])
        self.converged_ = bool(state["converged"])
