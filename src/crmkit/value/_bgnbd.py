"""The BG/NBD model (Fader, Hardie & Lee 2005) and the beta-geometric/NBD core.

The core functions take ``shift``: 0 for BG/NBD (a customer can drop out
only after a repeat purchase) and 1 for MBG/NBD (also at time 0), so that
``k = x + shift`` is the number of dropout opportunities survived by a
customer who is still active.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Constraint
from crmkit.value._bgnbd_core import (  # noqa: F401
    _CHUNK,
    _alive_mean,
    _bg_conditional,
    _bg_expected,
    _bg_loglik,
    _bg_p_alive,
    _bg_pmf,
    _bg_sample,
    _bg_start,
    _BGObjective,
    _dot,
    _series_g,
    _unique_counts,
)
from crmkit.value._covariate_model import COVARIATES, CovariateMixin
from crmkit.value._covariates import group_apply
from crmkit.value._mle import Objective
from crmkit.value._purchase import (
    PurchaseModel,
    check_argument,
    per_customer,
)
from crmkit.value._simulate import ContinuousTimeMixin

__all__ = ["BetaGeo", "BetaGeoFamily", "BetaGeoParams"]

FloatArray = npt.NDArray[np.float64]


@attrs.frozen
class BetaGeoParams:
    """Parameters of BG/NBD and MBG/NBD.

    Parameters
    ----------
    r, alpha : float
        Shape and rate of the gamma distribution of purchase rates.
    a, b : float
        Shapes of the beta distribution of dropout probabilities.

    Examples
    --------
    >>> BetaGeoParams(0.243, 4.414, 0.793, 2.426).alpha
    4.414
    """

    r: float
    alpha: float
    a: float
    b: float


# ------------------------------------------------------------------ likelihood
class BetaGeoFamily(ContinuousTimeMixin, CovariateMixin):
    """Shared implementation of BG/NBD and MBG/NBD (``_shift`` 0 or 1).

    Not used directly; see :class:`BetaGeo` and
    :class:`crmkit.value.ModifiedBetaGeo`. Each concrete model is a separate
    class (not a subclass of the other), so that a saved file of one never
    loads as the other.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters (``penalizer * sum(params**2)``).

    Examples
    --------
    >>> issubclass(BetaGeo, BetaGeoFamily)
    True
    """

    _params_class: ClassVar[type[Any]] = BetaGeoParams
    _shift: ClassVar[int] = 0
    _kind: ClassVar[str] = "bgnbd"

    def _alive_fn(self, p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray) -> FloatArray:
        return _bg_p_alive(p, x, tx, T, self._shift)

    def _conditional_fn(
        self, p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray
    ) -> FloatArray:
        return _bg_conditional(p, x, tx, T, t, self._shift)

    def _no_purchase_fn(
        self, p: FloatArray, x: FloatArray, tx: FloatArray, T: FloatArray, t: FloatArray
    ) -> FloatArray:
        r, alpha = float(p[0]), float(p[1])
        alive = _bg_p_alive(p, x, tx, T, self._shift)
        # P(no purchase | active) = ((alpha+T)/(alpha+T+t))^(r+x), in log space
        silent = np.exp(-(r + x) * np.log1p(t / (alpha + T)))
        return np.asarray(np.clip((1.0 - alive) + alive * silent, 0.0, 1.0), dtype=np.float64)

    def _objective(self, data: tuple[FloatArray, ...], weights: FloatArray) -> Objective:
        return _BGObjective(data[0], data[1], data[2], weights, self._shift)

    def _start(self, data: tuple[FloatArray, ...], weights: FloatArray) -> list[list[float]]:
        return _bg_start(data[0], data[2], weights)

    def _loglik(self, params: FloatArray, data: tuple[FloatArray, ...]) -> FloatArray:
        return _bg_loglik(params, data[0], data[1], data[2], self._shift)

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
        >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.p_alive({"frequency": [1], "recency": [2.0], "T": [39.0]}).round(3).tolist()
        [0.221]
        """
        prm = self._param_array()
        if self._uses_covariates():
            return self._by_customer(view, "p_alive", self._alive_fn, "p_alive")
        (x, tx, T), _, index = self._read(view, "p_alive")
        return self._series(_bg_p_alive(prm, x, tx, T, self._shift), index, "p_alive")

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
        >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> v = {"frequency": [1], "recency": [2.0], "T": [39.0]}
        >>> m.conditional_expected_purchases(v, 39).round(3).tolist()
        [0.211]
        """
        prm = self._param_array()
        tv = check_argument(t, "t", who=f"{type(self).__name__}.conditional_expected_purchases")
        (x, tx, T), _, index = self._read(view, "conditional_expected_purchases")
        per_customer(tv, len(x), "t", f"{type(self).__name__}.conditional_expected_purchases")
        if self._uses_covariates():
            return self._by_customer(
                view,
                "conditional_expected_purchases",
                self._conditional_fn,
                "expected_purchases",
                tv,
            )
        out = _bg_conditional(prm, x, tx, T, tv, self._shift)
        return self._series(
            np.broadcast_to(out, (len(index),)).copy() if out.ndim == 0 else out,
            index,
            "expected_purchases",
        )

    def _conditional_path(self, view: pd.DataFrame | Any, ts: FloatArray) -> Iterator[FloatArray]:
        """``conditional_expected_purchases(view, t)`` for each scalar ``t`` of ``ts``.

        Reads the view and computes P(alive) once for all horizons (CLV's
        sub-periods); each value equals the single-horizon call's exactly.
        """
        prm = self._param_array()
        if self._uses_covariates():
            return (
                group_apply(
                    self,
                    view,
                    "conditional_expected_purchases",
                    self._conditional_fn,
                    np.float64(t),
                )[0]
                for t in ts
            )
        (x, tx, T), _, _ = self._read(view, "conditional_expected_purchases")
        alive = _bg_p_alive(prm, x, tx, T, self._shift)
        return (_bg_conditional(prm, x, tx, T, np.float64(t), self._shift, alive) for t in ts)

    def p_no_purchase(self, view: pd.DataFrame | Any, t: Any) -> pd.Series:
        """Probability that each customer makes no purchase in the next ``t`` time units.

        ``P(X(T, T + t] = 0 | x, t_x, T) = (1 - p_alive) + p_alive *
        ((alpha + T) / (alpha + T + t))^(r + x)``: a customer who has dropped
        out buys nothing; one still active buys at a rate with posterior
        ``Gamma(r + x, alpha + T)`` and may drop out only after a purchase,
        so no purchase means a Poisson count of 0. This is the likelihood
        of the history extended by ``t`` silent time units over that of the
        history, and equals ``purchase_pmf(0, t)`` for a new customer
        (``x = t_x = T = 0``).

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
        Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your
        customers" the easy way. Marketing Science, 24(2), 275-284.

        Examples
        --------
        >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> v = {"frequency": [0, 1, 6], "recency": [0.0, 2.0, 36.0], "T": [39.0, 39.0, 39.0]}
        >>> m.p_no_purchase(v, 52).round(3).tolist()
        [0.826, 0.862, 0.149]
        """
        prm = self._param_array()
        who = f"{type(self).__name__}.p_no_purchase"
        tv = check_argument(t, "t", who=who)
        (x, tx, T), _, index = self._read(view, "p_no_purchase")
        per_customer(tv, len(x), "t", who)
        if self._uses_covariates():
            return self._by_customer(
                view, "p_no_purchase", self._no_purchase_fn, "p_no_purchase", tv
            )
        r, alpha = float(prm[0]), float(prm[1])
        x, tx, T, tb = np.broadcast_arrays(x, tx, T, tv)
        alive = _bg_p_alive(prm, x, tx, T, self._shift)
        # P(no purchase | active) = ((alpha+T)/(alpha+T+t))^(r+x), in log space
        silent = np.exp(-(r + x) * np.log1p(tb / (alpha + T)))
        out = np.clip((1.0 - alive) + alive * silent, 0.0, 1.0)
        return self._series(np.asarray(out, dtype=np.float64), index, "p_no_purchase")

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
        >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.expected_purchases([39, 78]).round(3).tolist()
        [1.197, 1.861]
        """
        prm = self._param_array()
        tv = check_argument(t, "t", who=f"{type(self).__name__}.expected_purchases")
        return _bg_expected(prm, tv, self._shift)

    def _pmf_values(self, params: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
        return _bg_pmf(params, n, t, self._shift)

    def _simulate(
        self, params: FloatArray, n_customers: int, T: FloatArray, seed: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        return _bg_sample(params, n_customers, T, seed, self._shift)


class BetaGeo(BetaGeoFamily):
    """BG/NBD: beta-geometric/negative binomial purchase model.

    While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``;
    after every repeat purchase the customer drops out with probability
    ``p ~ Beta(a, b)``. Continuous time; reads ``frequency`` (repeat
    purchases ``x``), ``recency`` (``t_x``) and ``T`` from the customer view.

    Time-invariant covariates (Fader & Hardie 2007; the convention of
    CLVTools, so estimates compare one to one): with purchase covariates
    ``z_p`` and dropout covariates ``z_d`` of customer ``i``,
    ``alpha_i = alpha * exp(-gamma_purchase' z_p)``, ``a_i = a *
    exp(gamma_dropout' z_d)`` and ``b_i = b * exp(gamma_dropout' z_d)``
    (``r`` shared): a positive purchase coefficient raises the mean
    purchase rate; a dropout coefficient keeps the mean dropout probability
    ``a / (a + b)`` and changes how concentrated it is across customers.
    Categorical columns are one-hot encoded against a reference level.
    ``p_alive``, ``conditional_expected_purchases``, ``p_no_purchase`` and
    ``log_likelihood`` then use each customer's own parameters, while
    ``expected_purchases``, ``purchase_pmf`` and ``sample`` describe a
    customer with all covariates 0.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters (``penalizer * sum(params**2)``; with
        covariates also ``penalizer * sum(coef**2)``).
    purchase_covariates : list of str, optional
        View columns acting on the purchase process (``alpha``).
    dropout_covariates : list of str, optional
        View columns acting on the dropout process (``a`` and ``b``).
    shared_covariates : list of str, optional
        View columns acting on both processes with one coefficient each
        (CLVTools' constrained covariates, ``names.cov.constr``), named
        ``shared.<column>`` in ``summary()``.

    Attributes
    ----------
    params_ : BetaGeoParams
        Fitted ``r, alpha, a, b`` (with covariates: those of a customer
        whose covariates are all 0).
    coef_ : ndarray of shape (n_coefficients,)
        With covariates only: purchase coefficients, then dropout ones,
        named by ``coefficient_names_``.
    coef_standard_errors_ : ndarray of shape (n_coefficients,)
        With covariates only: their standard errors (observed information).
    full_covariance_ : ndarray of shape (4 + n_coefficients, 4 + n_coefficients)
        With covariates only: covariance of the base parameters (natural
        scale) and the coefficients.
    covariates_ : CovariateDesign
        With covariates only: the columns and their encodings.
    standard_errors_ : BetaGeoParams
        Their standard errors (observed information).
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
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your
    customers" the easy way: an alternative to the Pareto/NBD model.
    Marketing Science, 24(2), 275-284.

    Fader, P. S. & Hardie, B. G. S. (2007). Incorporating time-invariant
    covariates into the Pareto/NBD and BG/NBD models.
    http://brucehardie.com/notes/019/

    Examples
    --------
    >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> view = m.sample(5000, 39.0, seed=1)
    >>> fitted = BetaGeo().fit(view)
    >>> fitted.converged_
    True
    >>> view = {"frequency": [0, 2], "recency": [0.0, 30.0], "T": [38.0, 38.0]}
    >>> m.p_alive(view).round(3).tolist()
    [1.0, 0.73]
    >>> m.conditional_expected_purchases(view, 52).round(3).tolist()
    [0.257, 1.592]
    """

    _shift: ClassVar[int] = 0
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

    def fit(self, view: pd.DataFrame | Mapping[str, Any], weights: Any = None) -> BetaGeo:
        """Fit the model by maximum likelihood.

        Without covariates this is exactly the plain BG/NBD fit (identical
        customers collapsed, L-BFGS-B with the analytic gradient, a Newton
        polish). With ``purchase_covariates`` or ``dropout_covariates`` the
        fit starts from the plain estimates with all coefficients 0 and
        maximises over base parameters and coefficients (BFGS, analytic
        gradient); standard errors from the observed information.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            Columns ``frequency`` (whole numbers), ``recency`` and ``T``
            (``recency <= T``), and the covariate columns.
        weights : array-like of shape (n_customers,), optional
            Number of customers each row stands for.

        Returns
        -------
        BetaGeo
            ``self``, fitted.

        Raises
        ------
        InvalidParameterError
            For an invalid ``penalizer`` or covariate list.
        SchemaError
            For missing or invalid columns, a constant covariate, an empty
            view, a single customer, or data without repeat buyers.
        ConvergenceError
            When the optimiser fails.

        Examples
        --------
        >>> import numpy as np
        >>> truth = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> view = truth.sample(2000, 39.0, seed=3)
        >>> view["web"] = np.arange(2000) % 2
        >>> m = BetaGeo(purchase_covariates=["web"]).fit(view)
        >>> m.summary().index.tolist()
        ['r', 'alpha', 'a', 'b', 'purchase.web']
        """
        self._drop_covariate_state()
        if self._wants_covariates():
            self._fit_covariates(view, weights)
            return self
        return super().fit(view, weights)
