"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

The likelihood follows Fader & Hardie (2005): with ``x`` repeat purchases,
the last at ``t_x``, observed until ``T``,

``L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [(alpha+T)^-(r+x) (beta+T)^-s + s I]``

where ``I = integral_{t_x}^T (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` is the
chance of having dropped out between the last purchase and ``T``. ``I`` is
evaluated as ``G(t_x) - G(T)`` with the tail integral
``G(t) = M^-a 2F1(a, b; a+1; z) / a`` (``a = r+s+x``; ``M = alpha+t``,
``b = s+1``, ``z = (alpha-beta)/M`` when ``alpha >= beta``, else
``M = beta+t``, ``b = r+x``, ``z = (beta-alpha)/M``, so that ``0 <= z < 1``),
all in log space, with ``1 - z`` formed without cancellation and the
hypergeometric function from :mod:`crmkit.value._hyp2f1`. The gradient is
analytic, including the derivatives of ``2F1`` with respect to its
parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Constraint
from crmkit.value._covariate_model import COVARIATES, CovariateMixin
from crmkit.value._covariates import group_apply
from crmkit.value._mle import CachedObjective, MLEResult, Objective
from crmkit.value._paretonbd_core import (
    PNBDObjective,
    _argument_error,
    pnbd_conditional,
    pnbd_conditional_path,
    pnbd_expected,
    pnbd_loglik,
    pnbd_p_alive,
    pnbd_p_no_purchase,
    pnbd_pmf,
    pnbd_sample,
    pnbd_start,
    polish,
)
from crmkit.value._purchase import PurchaseModel, check_argument
from crmkit.value._simulate import ContinuousTimeMixin

__all__ = ["ParetoNBD", "ParetoNBDParams"]

FloatArray = npt.NDArray[np.float64]


@attrs.frozen
class ParetoNBDParams:
    """Parameters of the Pareto/NBD model.

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates.
    s, beta : float
        Shape and rate of the gamma distribution of dropout rates.

    Examples
    --------
    >>> ParetoNBDParams(0.553, 10.578, 0.606, 11.669).beta
    11.669
    """

    r: float
    alpha: float
    s: float
    beta: float


# ------------------------------------------------------------------ likelihood
class ParetoNBD(ContinuousTimeMixin, CovariateMixin):
    """Pareto/NBD: Poisson purchases with exponential lifetimes, both gamma-mixed.

    While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``;
    the lifetime is exponential with rate ``mu ~ Gamma(s, beta)``, independent
    of ``lambda``. Continuous time; reads ``frequency`` (repeat purchases
    ``x``), ``recency`` (``t_x``) and ``T`` from the customer view.

    The likelihood is evaluated in log space with a numerically careful
    Gauss hypergeometric function (finite for heavy buyers, arguments near
    1 and extreme parameters) and an analytic gradient.

    Time-invariant covariates (Fader & Hardie 2007; the convention of
    CLVTools, so estimates compare one to one): with purchase covariates
    ``z_p`` and dropout covariates ``z_d`` of customer ``i``,
    ``alpha_i = alpha * exp(-gamma_purchase' z_p)`` and ``beta_i = beta *
    exp(-gamma_dropout' z_d)`` (``r`` and ``s`` shared): a positive
    coefficient raises the mean purchase rate ``r / alpha_i`` or the mean
    dropout rate ``s / beta_i``. Categorical columns are one-hot encoded
    against a reference level (see :mod:`crmkit.value._covariates`). Then
    ``p_alive``, ``conditional_expected_purchases``, ``p_no_purchase`` and
    ``log_likelihood`` use each customer's own parameters (the view must
    hold the covariate columns), while ``expected_purchases``,
    ``purchase_pmf`` and ``sample`` describe a customer with all covariates
    0 (the base parameters).

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters (``penalizer * sum(params**2)``; with
        covariates also ``penalizer * sum(coef**2)``).
    purchase_covariates : list of str, optional
        View columns acting on the purchase process (``alpha``).
    dropout_covariates : list of str, optional
        View columns acting on the dropout process (``beta``).
    shared_covariates : list of str, optional
        View columns acting on both processes with one coefficient each
        (CLVTools' constrained covariates, ``names.cov.constr``), named
        ``shared.<column>`` in ``summary()``.

    Attributes
    ----------
    params_ : ParetoNBDParams
        Fitted ``r, alpha, s, beta`` (with covariates: ``alpha`` and
        ``beta`` of a customer whose covariates are all 0).
    coef_ : ndarray of shape (n_coefficients,)
        With covariates only: purchase coefficients, then dropout ones,
        named by ``coefficient_names_`` (``purchase.<column>``,
        ``dropout.<column>``; a dummy is ``column[level]``).
    coef_standard_errors_ : ndarray of shape (n_coefficients,)
        With covariates only: their standard errors (observed information).
    full_covariance_ : ndarray of shape (4 + n_coefficients, 4 + n_coefficients)
        With covariates only: covariance of the base parameters (natural
        scale) and the coefficients.
    covariates_ : CovariateDesign
        With covariates only: the columns and their encodings.
    standard_errors_ : ParetoNBDParams
        Their standard errors (observed information).
    covariance_ : ndarray of shape (4, 4)
        Their asymptotic covariance (inverse observed information).
    log_likelihood_ : float
        Log-likelihood at the estimates (without penalty).
    n_customers_ : float
        Total weight of customers fitted on.
    converged_ : bool
        Whether the optimiser converged.
    n_iter_ : int
        Optimiser iterations.

    References
    ----------
    .. [1] Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987).
       Counting your customers: who are they and what will they do next?
       Management Science, 33(1), 1-24.
    .. [2] Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the
       Pareto/NBD model and related expressions.
       http://brucehardie.com/notes/009/
    .. [3] Fader, P. S. & Hardie, B. G. S. (2006). Deriving an expression
       for P(X(t) = x) under the Pareto/NBD model.
       http://brucehardie.com/notes/012/
    .. [4] Fader, P. S. & Hardie, B. G. S. (2007). Incorporating
       time-invariant covariates into the Pareto/NBD and BG/NBD models.
       http://brucehardie.com/notes/019/

    Examples
    --------
    >>> truth = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> view = truth.sample(5000, 39.0, seed=1)
    >>> ParetoNBD().fit(view).converged_
    True
    >>> view = {"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0, 38.0]}
    >>> truth.p_alive(view).round(3).tolist()
    [0.3, 0.875]
    >>> truth.conditional_expected_purchases(view, 52).round(3).tolist()
    [0.141, 1.89]

    With a covariate on both processes:

    >>> import numpy as np
    >>> sim = truth.sample(3000, 39.0, seed=4)
    >>> sim["channel"] = np.where(np.arange(3000) % 3 == 0, "online", "shop")
    >>> m = ParetoNBD(purchase_covariates=["channel"], dropout_covariates=["channel"])
    >>> m.fit(sim).coefficient_names_
    ('purchase.channel[shop]', 'dropout.channel[shop]')
    """

    _params_class: ClassVar[type[Any]] = ParetoNBDParams
    _kind: ClassVar[str] = "pnbd"
    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        **PurchaseModel._parameter_constraints,
        "purchase_covariates": COVARIATES,
        "dropout_covariates": COVARIATES,
        "shared_covariates": COVARIATES,
    }

    def __init__(
        self,
        penalizer: float = 0.0,
        purchase_covariates: list[str] | tuple[str, ...] | None = None,
        dropout_covariates: list[str] | tuple[str, ...] | None = None,
        shared_covariates: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        self.penalizer = penalizer
        self.purchase_covariates = purchase_covariates
        self.dropout_covariates = dropout_covariates
        self.shared_covariates = shared_covariates

    def fit(self, view: pd.DataFrame | Mapping[str, Any], weights: Any = None) -> ParetoNBD:
        """Fit the model by maximum likelihood.

        Identical customers are collapsed to weighted rows first (the
        likelihood is unchanged); L-BFGS-B on the log-parameters with the
        analytic gradient is finished by one Newton step. Above 60,000
        distinct rows a weighted sample of customers is fitted first and
        quasi-Newton steps on the full data (from a Hessian by differences
        of the gradient, refined by BFGS updates) take it to the maximum.

        With covariates, identical ``(x, t_x, T, z)`` rows are collapsed,
        the fit starts from the plain estimates with all coefficients 0 (its
        log-likelihood is therefore at least the plain model's) and BFGS on
        the log base parameters and the coefficients, with the analytic
        gradient, is finished by Newton steps; standard errors come from
        the observed information (central differences of the gradient).

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency`` (whole numbers), ``recency`` and ``T``
            (``recency <= T``), and the covariate columns.
        weights : array-like of shape (n_customers,), optional
            Number of customers each row stands for.

        Returns
        -------
        ParetoNBD
            ``self``, fitted.

        Raises
        ------
        InvalidParameterError
            For an invalid ``penalizer``.
        SchemaError
            For missing or invalid columns, an empty view, a single customer,
            or data without repeat buyers.
        ConvergenceError
            When the optimiser fails.

        Examples
        --------
        >>> truth = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> view = truth.sample(300, 39.0, seed=2)
        >>> ParetoNBD().fit(view).n_customers_
        300.0

        Six customers cannot pin down four parameters: the fit warns.

        >>> import warnings
        >>> view = {"frequency": [0, 1, 3, 0, 2, 5], "recency": [0.0, 4.0, 20.0, 0.0, 9.0, 30.0],
        ...         "T": [30.0, 31.0, 32.0, 20.0, 25.0, 35.0]}
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     model = ParetoNBD().fit(view)
        >>> [type(w.message).__name__ for w in caught]
        ['ConvergenceWarning']
        """
        try:
            self._drop_covariate_state()
            if self._wants_covariates():
                self._fit_covariates(view, weights)
                return self
            return super().fit(view, weights)
        finally:
            self.__dict__.pop("_pending_objective", None)

    def _objective(self, data: tuple[FloatArray, ...], weights: FloatArray) -> Objective:
        x, tx, T = data
        # remembers its last point and differences the gradient for the Hessian
        objective = CachedObjective(PNBDObjective(x, tx, T, weights))
        # kept for the Newton polish in _store_result; fit may also build
        # objectives on subsamples (warm start): the full data has most rows
        self.__dict__.setdefault("_pending_objective", []).append(objective)
        return objective

    def _store_result(self, result: MLEResult, n_customers: float) -> None:
        pending = self.__dict__.pop("_pending_objective", [])
        if pending:
            full = max(pending, key=lambda o: len(o.objective.x))
            result = polish(full, result, float(self.penalizer))
        super()._store_result(result, n_customers)

    def _start(self, data: tuple[FloatArray, ...], weights: FloatArray) -> list[list[float]]:
        return pnbd_start(data[0], data[2], weights)

    def _loglik(self, params: FloatArray, data: tuple[FloatArray, ...]) -> FloatArray:
        return pnbd_loglik(params, *data)

    def p_alive(self, view: pd.DataFrame | Any) -> pd.Series:
        """Probability that each customer is still active at ``T``.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency``, ``recency``, ``T``.

        Returns
        -------
        Series of shape (n_customers,)
            Named ``p_alive``, in [0, 1], indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.p_alive({"frequency": [1], "recency": [2.0], "T": [39.0]}).round(3).tolist()
        [0.174]
        """
        prm = self._param_array()
        if self._uses_covariates():
            return self._by_customer(view, "p_alive", pnbd_p_alive, "p_alive")
        (x, tx, T), _, index = self._read(view, "p_alive")
        return self._series(pnbd_p_alive(prm, x, tx, T), index, "p_alive")

    def conditional_expected_purchases(self, view: pd.DataFrame | Any, t: Any) -> pd.Series:
        """Expected purchases of each customer in the next ``t`` time units.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency``, ``recency``, ``T``.
        t : float or array-like of shape (n_customers,)
            Horizon, in the view's time unit (``>= 0``).

        Returns
        -------
        Series of shape (n_customers,)
            Named ``expected_purchases``, indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns or an invalid ``t``.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> v = {"frequency": [1], "recency": [2.0], "T": [39.0]}
        >>> m.conditional_expected_purchases(v, 39).round(3).tolist()
        [0.177]
        """
        prm = self._param_array()
        who = f"{type(self).__name__}.conditional_expected_purchases"
        tv = check_argument(t, "t", who=who)
        (x, tx, T), _, index = self._read(view, "conditional_expected_purchases")
        if tv.ndim > 0 and tv.shape != (len(index),):
            raise _argument_error(
                "t", f"a scalar or one value per customer ({len(index)})", tv.shape, who
            )
        if self._uses_covariates():
            return self._by_customer(
                view, "conditional_expected_purchases", pnbd_conditional, "expected_purchases", tv
            )
        out = pnbd_conditional(prm, x, tx, T, tv)
        return self._series(out, index, "expected_purchases")

    def _conditional_path(self, view: pd.DataFrame | Any, ts: FloatArray) -> Iterator[FloatArray]:
        """``conditional_expected_purchases(view, t)`` for each scalar ``t`` of ``ts``.

        Reads the view and computes P(alive) once for all horizons (CLV's
        sub-periods); each value equals the single-horizon call's exactly.
        """
        prm = self._param_array()
        if self._uses_covariates():
            return (
                group_apply(
                    self, view, "conditional_expected_purchases", pnbd_conditional, np.float64(t)
                )[0]
                for t in ts
            )
        (x, tx, T), _, _ = self._read(view, "conditional_expected_purchases")
        return pnbd_conditional_path(prm, x, tx, T, ts)

    def p_no_purchase(self, view: pd.DataFrame | Any, t: Any) -> pd.Series:
        """Probability that each customer makes no purchase in the next ``t`` time units.

        ``P(X(T, T + t] = 0 | x, t_x, T)``, the conditional PMF at 0: the
        likelihood of the history extended by ``t`` silent time units over
        that of the history, i.e. ``1 - p_alive + p_alive * P(no purchase |
        active)`` where an active customer (rate ``Gamma(r + x, alpha + T)``,
        remaining lifetime Lomax with ``s, beta + T``) buys nothing before
        the horizon or the dropout, whichever comes first. Equals
        ``purchase_pmf(0, t)`` for a new customer (``x = t_x = T = 0``).

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency``, ``recency``, ``T``.
        t : float or array-like of shape (n_customers,)
            Horizon, in the view's time unit (``>= 0``).

        Returns
        -------
        Series of shape (n_customers,)
            Named ``p_no_purchase``, in [0, 1], indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns or an invalid ``t``.

        References
        ----------
        Fader, P. S. & Hardie, B. G. S. (2006). Deriving the conditional PMF
        of the Pareto/NBD model. http://brucehardie.com/notes/013/

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> v = {"frequency": [0, 1, 6], "recency": [0.0, 2.0, 36.0], "T": [39.0, 39.0, 39.0]}
        >>> m.p_no_purchase(v, 52).round(3).tolist()
        [0.92, 0.901, 0.129]
        """
        prm = self._param_array()
        who = f"{type(self).__name__}.p_no_purchase"
        tv = check_argument(t, "t", who=who)
        (x, tx, T), _, index = self._read(view, "p_no_purchase")
        if tv.ndim > 0 and tv.shape != (len(index),):
            raise _argument_error(
                "t", f"a scalar or one value per customer ({len(index)})", tv.shape, who
            )
        if self._uses_covariates():
            return self._by_customer(view, "p_no_purchase", pnbd_p_no_purchase, "p_no_purchase", tv)
        out = pnbd_p_no_purchase(prm, x, tx, T, tv)
        return self._series(out, index, "p_no_purchase")

    def expected_purchases(self, t: Any) -> FloatArray:
        """Expected purchases of a new customer in ``(0, t]``.

        Parameters
        ----------
        t : float or array-like
            Horizon(s), ``>= 0``.

        Returns
        -------
        ndarray
            Same shape as ``t``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For an invalid ``t``.

        Examples
        --------
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.expected_purchases([39, 78]).round(3).tolist()
        [1.213, 1.909]
        """
        prm = self._param_array()
        tv = check_argument(t, "t", who=f"{type(self).__name__}.expected_purchases")
        return pnbd_expected(prm, tv)

    def _pmf_values(self, params: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
        return pnbd_pmf(params, n, t)

    def _simulate(
        self, params: FloatArray, n_customers: int, T: FloatArray, seed: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        return pnbd_sample(params, n_customers, T, seed)
