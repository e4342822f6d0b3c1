"""The Pareto/NBD with time-varying (dynamic) covariates.

See :mod:`crmkit.value._dyncov_ll` for the likelihood and
:mod:`crmkit.value._dyncov_data` for how the inputs are read.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import COLUMN_NAME, Constraint, Interval, Options
from crmkit.data import TIME_UNITS
from crmkit.exceptions import ConvergenceWarning, InvalidParameterError
from crmkit.value._covariate_model import COVARIATES, CoefficientMixin
from crmkit.value._covariates import (
    CovariateDesign,
    Encoding,
    check_identified,
    encode_column,
    store_fit,
)
from crmkit.value._dyncov_data import (
    Covariates,
    CustomerRows,
    fail,
    purchase_sums,
    read_covariates,
    read_view,
)
from crmkit.value._dyncov_ll import (
    Path,
    dyn_conditional,
    dyn_loglik,
    dyn_loglik_grad,
    dyn_p_alive,
)
from crmkit.value._paretonbd import ParetoNBD, ParetoNBDParams

__all__ = ["ParetoNBDDynamic"]

FloatArray = npt.NDArray[np.float64]


class ParetoNBDDynamic(CoefficientMixin):
    """Pareto/NBD with time-varying covariates (Bachmann, Meierer & Näf 2021).

    While alive, customer ``i`` buys at rate ``lambda_i exp(gamma_purchase'
    z_p(t))`` and drops out at rate ``mu_i exp(gamma_dropout' z_d(t))``, with
    ``lambda_i ~ Gamma(r, alpha)``, ``mu_i ~ Gamma(s, beta)`` and covariates
    ``z(t)`` piecewise constant over periods (e.g. weeks): the model CLVTools
    fits as ``pnbd`` after ``SetDynamicCovariates``. Covariates that never
    change give exactly the time-invariant covariate model
    (``ParetoNBD(purchase_covariates=..., dropout_covariates=...)``), all
    coefficients 0 the plain Pareto/NBD. A positive coefficient raises the
    purchase (dropout) rate while the covariate holds.

    The covariates come as a long table, one row per customer and period
    start (``id_column``, ``period_column``, covariate columns); a period
    lasts until the customer's next period start, the last one one time
    unit. Periods must cover each customer's time from the first purchase to
    ``T`` (for predictions, also the forecast window). Categorical columns
    are one-hot encoded against a reference level, as for
    :class:`ParetoNBD`.

    Parameters
    ----------
    purchase_covariates : list of str, optional
        Covariate columns acting on the purchase process.
    dropout_covariates : list of str, optional
        Covariate columns acting on the dropout process.
    penalizer : float, default=0.0
        L2 penalty ``penalizer * (sum(params**2) + sum(coef**2))``.
    time_unit : {"D", "W", "M"}, default="W"
        The view's time unit (that of ``summarize``).
    id_column : str, default="customer_id"
        Customer id column of the covariate table and the transactions.
    period_column : str, default="period"
        Period start dates of the covariate table.
    date_column : str, default="date"
        Purchase dates of the transactions.

    Attributes
    ----------
    params_ : ParetoNBDParams
        ``r, alpha, s, beta`` (``alpha``, ``beta`` at all covariates 0).
    coef_ : ndarray of shape (n_coefficients,)
        Purchase coefficients, then dropout ones (``coefficient_names_``).
    coef_standard_errors_ : ndarray of shape (n_coefficients,)
        Their standard errors (observed information).
    full_covariance_ : ndarray of shape (4 + n_coefficients, 4 + n_coefficients)
        Covariance of the base parameters (natural scale) and coefficients.
    covariates_ : CovariateDesign
        The covariate columns and their encodings.
    standard_errors_ : ParetoNBDParams
        Standard errors of ``params_``.
    covariance_ : ndarray of shape (4, 4)
        Covariance of ``params_``.
    log_likelihood_ : float
        Log-likelihood at the estimates (without penalty).
    n_customers_ : float
        Customers fitted on.
    converged_ : bool
        Whether the optimiser converged.
    n_iter_ : int
        Optimiser iterations.

    References
    ----------
    .. [1] Bachmann, P., Meierer, M. & Näf, J. (2021). The role of
       time-varying contextual factors in latent attrition models for
       customer base analysis. Marketing Science, 40(4), 783-809.
    .. [2] Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the
       Pareto/NBD model and related expressions.

    Examples
    --------
    >>> import crmkit
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "c", "c"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-03",
    ...                             "2024-01-02", "2024-01-09", "2024-02-01"]),
    ...     "amount": 10.0})
    >>> view = crmkit.summarize(tx, as_of="2024-02-04", time_unit="W")
    >>> weeks = pd.date_range("2023-12-31", periods=6, freq="W-SUN")
    >>> cov = pd.DataFrame({"customer_id": np.repeat(["a", "b", "c"], 6),
    ...                     "period": np.tile(weeks, 3),
    ...                     "promo": np.tile([0.0, 1.0, 0.0, 1.0, 1.0, 0.0], 3)})
    >>> m = ParetoNBDDynamic.from_params(r=0.5, alpha=5.0, s=0.5, beta=10.0,
    ...     purchase_covariates=["promo"], coef={"purchase.promo": 0.7})
    >>> m.p_alive(view, cov).round(3).tolist()
    [0.9, 0.791, 0.984]
    """

    _params_class: ClassVar[type[Any]] = ParetoNBDParams
    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        "purchase_covariates": COVARIATES,
        "dropout_covariates": COVARIATES,
        "penalizer": [Interval("float", 0, None)],
        "time_unit": [Options(frozenset(TIME_UNITS))],
        "id_column": [COLUMN_NAME],
        "period_column": [COLUMN_NAME],
        "date_column": [COLUMN_NAME],
    }

    def __init__(
        self,
        purchase_covariates: list[str] | tuple[str, ...] | None = None,
        dropout_covariates: list[str] | tuple[str, ...] | None = None,
        penalizer: float = 0.0,
        time_unit: str = "W",
        id_column: str = "customer_id",
        period_column: str = "period",
        date_column: str = "date",
    ) -> None:
        self.purchase_covariates = purchase_covariates
        self.dropout_covariates = dropout_covariates
        self.penalizer = penalizer
        self.time_unit = time_unit
        self.id_column = id_column
        self.period_column = period_column
        self.date_column = date_column

    # ----------------------------------------------------------- construction
    @classmethod
    def from_params(
        cls,
        r: float,
        alpha: float,
        s: float,
        beta: float,
        coef: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> ParetoNBDDynamic:
        """A model with given parameters and coefficients (no fit, no standard errors).

        Parameters
        ----------
        r, alpha, s, beta : float
            Base parameters (all > 0).
        coef : mapping of str to float, optional
            Coefficients by name, ``purchase.<column>`` / ``dropout.<column>``
            (numeric columns only); missing ones are 0.
        **kwargs
            Constructor parameters (``purchase_covariates`` ...).

        Returns
        -------
        ParetoNBDDynamic

        Raises
        ------
        InvalidParameterError
            For an invalid constructor parameter, a non-positive parameter
            or an unknown coefficient name.

        Examples
        --------
        >>> m = ParetoNBDDynamic.from_params(0.5, 5.0, 0.5, 10.0,
        ...     dropout_covariates=["x"], coef={"dropout.x": -0.2})
        >>> m.summary()["estimate"].tolist()
        [0.5, 5.0, 0.5, 10.0, -0.2]
        """
        model = cls(**kwargs)
        model._validate_params()
        base = [float(v) for v in (r, alpha, s, beta)]
        if not all(np.isfinite(v) and v > 0 for v in base):
            raise InvalidParameterError(
                f"ParetoNBDDynamic.from_params: parameters must be finite and > 0, got {base}"
            )
        design = CovariateDesign(
            tuple(Encoding(c) for c in model.purchase_covariates or ()),
            tuple(Encoding(c) for c in model.dropout_covariates or ()),
        )
        names = design.coefficient_names()
        unknown = set(coef or {}) - set(names)
        if unknown:
            raise InvalidParameterError(
                f"ParetoNBDDynamic.from_params: unknown coefficients {sorted(unknown)}; "
                f"known: {list(names)}"
            )
        k = len(names)
        model.covariates_ = design
        model.coef_ = np.array([float((coef or {}).get(n, 0.0)) for n in names])
        model.coef_standard_errors_ = np.full(k, np.nan)
        model.full_covariance_ = np.full((4 + k, 4 + k), np.nan)
        model.params_ = ParetoNBDParams(*base)
        model.standard_errors_ = ParetoNBDParams(*[np.nan] * 4)
        model.covariance_ = np.full((4, 4), np.nan)
        model.log_likelihood_ = np.nan
        model.n_customers_ = 0.0
        model.converged_ = True
        model.n_iter_ = 0
        return model

    # ----------------------------------------------------------- helpers
    def _design(self) -> CovariateDesign:
        design: CovariateDesign = self.covariates_
        return design

    def _split(self, coef: FloatArray) -> tuple[FloatArray, FloatArray]:
        kp = self._design().sizes()[0]
        return coef[:kp], coef[kp:]

    def _inputs(self, view: Any, covariates: Any, who: str) -> tuple[CustomerRows, Covariates]:
        rows = read_view(view, self.time_unit, who)
        cov = read_covariates(
            covariates, rows, self.id_column, self.period_column, self.time_unit, who
        )
        return rows, cov

    def _calibration(self, rows: CustomerRows, cov: Covariates, who: str) -> Path:
        d = self._design()
        return cov.path(rows, d.purchase, d.dropout, np.zeros(len(rows.T)), rows.T, who)

    # ----------------------------------------------------------- fit
    def fit(
        self, view: pd.DataFrame, covariates: pd.DataFrame, transactions: Any = None
    ) -> ParetoNBDDynamic:
        """Fit by maximum likelihood.

        Starts from the plain Pareto/NBD's estimates with all coefficients
        0 (so the log-likelihood is at least the plain model's); BFGS on the
        log base parameters and the coefficients with the analytic
        gradient, finished by Newton steps; standard errors from the
        observed information (central differences of the gradient).

        Parameters
        ----------
        view : DataFrame
            Customer view of the calibration period (``frequency``,
            ``recency``, ``T``, ``first_purchase``), indexed by customer id.
        covariates : DataFrame
            Long covariate table (``id_column``, ``period_column`` and the
            covariate columns); rows of customers not in the view are ignored.
        transactions : DataFrame, optional
            Purchases (``id_column``, ``date_column``): needed with purchase
            covariates, whose values at the repeat purchases enter the
            likelihood.

        Returns
        -------
        ParetoNBDDynamic
            ``self``, fitted.

        Raises
        ------
        InvalidParameterError
            For an invalid constructor parameter, inputs that are not
            DataFrames, or no transactions with purchase covariates.
        SchemaError
            For missing columns, covariate values or periods, a covariate
            constant over all periods and customers, or transactions that
            do not match the view.
        ConvergenceError
            When the optimiser fails.

        Examples
        --------
        See :class:`ParetoNBDDynamic` and the user guide.
        """
        self._validate_params()
        self._drop_covariate_state()
        who = "ParetoNBDDynamic.fit"
        if isinstance(view, pd.DataFrame) and not view.index.is_monotonic_increasing:
            # a canonical customer order: the fit does not depend on row order
            with contextlib.suppress(TypeError):  # ids that do not sort: keep the order
                view = view.sort_index()
        rows, cov = self._inputs(view, covariates, who)
        design = CovariateDesign(
            tuple(encode_column(cov.frame, str(c), who) for c in self.purchase_covariates or ()),
            tuple(encode_column(cov.frame, str(c), who) for c in self.dropout_covariates or ()),
        )
        self.covariates_ = design
        path = self._calibration(rows, cov, who)
        check_identified(design.purchase, path.zp, "purchase", who)
        check_identified(design.dropout, path.zd, "dropout", who)
        sp = purchase_sums(
            transactions,
            rows,
            cov,
            design.purchase,
            self.id_column,
            self.date_column,
            self.time_unit,
            who,
        )
        plain = ParetoNBD(penalizer=self.penalizer).fit(
            {"frequency": rows.x, "recency": rows.tx, "T": rows.T}
        )
        kp, kd, _ = design.sizes()
        penalizer = float(self.penalizer)
        x, tx = rows.x, rows.tx

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            base = np.exp(theta[:4])
            ll, grad = dyn_loglik_grad(base, theta[4 : 4 + kp], theta[4 + kp :], x, tx, sp, path)
            grad[:4] *= base  # wrt the log base parameters
            total, grad = -ll, -grad
            if penalizer:
                total += penalizer * float(np.sum(base**2) + np.sum(theta[4:] ** 2))
                grad[:4] += 2.0 * penalizer * base**2
                grad[4:] += 2.0 * penalizer * theta[4:]
            if not np.isfinite(total):
                return np.inf, np.zeros(len(theta))
            return total, grad

        theta0 = np.concatenate([np.log(plain._param_array()), np.zeros(kp + kd)])
        store_fit(self, design, objective, theta0, 4, float(len(x)), penalizer, who)
        spans = np.concatenate([np.ptp(path.zp, axis=0), np.ptp(path.zd, axis=0)])
        wild = [
            f"{name}={coef:.3g}"
            for name, coef, span in zip(design.coefficient_names(), self.coef_, spans, strict=True)
            if abs(coef) * span > 10.0
        ]
        if wild:
            warnings.warn(
                f"ParetoNBDDynamic: coefficients ran towards infinity ({', '.join(wild)}: an "
                "effect above e^10 across the covariate's observed range): the data cannot pin "
                "them down (e.g. no purchases, or no dropout evidence, while the covariate "
                "holds) and their standard errors are meaningless; drop the covariate from "
                "that process or set a 'penalizer' > 0.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    # ----------------------------------------------------------- predictions
    def log_likelihood(
        self, view: pd.DataFrame, covariates: pd.DataFrame, transactions: Any = None
    ) -> pd.Series:
        """Log-likelihood of each customer's calibration history.

        Parameters
        ----------
        view, covariates, transactions
            As in :meth:`fit`.

        Returns
        -------
        Series of shape (n_customers,)
            Named ``log_likelihood``, indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns or periods.

        Examples
        --------
        >>> view = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [2.0],
        ...     "first_purchase": pd.to_datetime(["2024-01-01"])}, index=["a"])
        >>> cov = pd.DataFrame({"customer_id": "a", "period": ["2024-01-01", "2024-01-08"],
        ...                     "promo": [0.0, 1.0]})
        >>> m = ParetoNBDDynamic.from_params(0.5, 5.0, 0.5, 10.0, dropout_covariates=["promo"])
        >>> m.log_likelihood(view, cov).round(4).tolist()
        [-0.1606]
        """
        self._check_fitted()
        who = "ParetoNBDDynamic.log_likelihood"
        rows, cov = self._inputs(view, covariates, who)
        design = self._design()
        sp = purchase_sums(
            transactions,
            rows,
            cov,
            design.purchase,
            self.id_column,
            self.date_column,
            self.time_unit,
            who,
        )
        gp, gd = self._split(np.asarray(self.coef_))
        ll = dyn_loglik(
            self._param_array(), gp, gd, rows.x, rows.tx, sp, self._calibration(rows, cov, who)
        )
        return pd.Series(ll, index=rows.index, name="log_likelihood")

    def p_alive(self, view: pd.DataFrame, covariates: pd.DataFrame) -> pd.Series:
        """Probability that each customer is alive at ``T``, given the covariate path.

        Parameters
        ----------
        view : DataFrame
            As in :meth:`fit`.
        covariates : DataFrame
            Covariate table covering each customer's ``[0, T]``.

        Returns
        -------
        Series of shape (n_customers,)
            Named ``p_alive``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns or periods.

        Examples
        --------
        See :class:`ParetoNBDDynamic`.
        """
        self._check_fitted()
        who = "ParetoNBDDynamic.p_alive"
        rows, cov = self._inputs(view, covariates, who)
        gp, gd = self._split(np.asarray(self.coef_))
        out = dyn_p_alive(
            self._param_array(), gp, gd, rows.x, rows.tx, self._calibration(rows, cov, who)
        )
        return pd.Series(out, index=rows.index, name="p_alive")

    def conditional_expected_purchases(
        self, view: pd.DataFrame, covariates: pd.DataFrame, t: Any
    ) -> pd.Series:
        """Expected purchases in ``(T, T + t]`` given the history and the covariate path.

        Parameters
        ----------
        view : DataFrame
            As in :meth:`fit`.
        covariates : DataFrame
            Covariate table covering each customer's ``[0, T + t]`` (the
            forecast window needs the future covariates, e.g. planned
            campaigns or the season calendar).
        t : float or array-like of shape (n_customers,)
            Length of the forecast window in time units (>= 0).

        Returns
        -------
        Series of shape (n_customers,)
            Named ``expected_purchases``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns or periods, or a negative ``t``.

        Examples
        --------
        >>> view = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [1.0],
        ...     "first_purchase": pd.to_datetime(["2024-01-01"])}, index=["a"])
        >>> cov = pd.DataFrame({"customer_id": "a", "period": ["2024-01-01", "2024-01-08"],
        ...                     "promo": [0.0, 1.0]})
        >>> m = ParetoNBDDynamic.from_params(0.5, 5.0, 0.5, 10.0,
        ...     purchase_covariates=["promo"], coef={"purchase.promo": 1.0})
        >>> m.conditional_expected_purchases(view, cov, 1.0).round(4).tolist()
        [0.2108]
        """
        self._check_fitted()
        who = "ParetoNBDDynamic.conditional_expected_purchases"
        rows, cov = self._inputs(view, covariates, who)
        horizon = np.broadcast_to(np.asarray(t, dtype=np.float64), rows.T.shape)
        bad = ~np.isfinite(horizon) | (horizon < 0)
        if bad.any():
            raise fail("arguments", "t", f"must be finite and >= 0 ({who})", list(rows.index[bad]))
        design = self._design()
        future = cov.path(rows, design.purchase, design.dropout, rows.T, rows.T + horizon, who)
        gp, gd = self._split(np.asarray(self.coef_))
        out = dyn_conditional(
            self._param_array(),
            gp,
            gd,
            rows.x,
            rows.tx,
            self._calibration(rows, cov, who),
            future,
        )
        return pd.Series(out, index=rows.index, name="expected_purchases")
