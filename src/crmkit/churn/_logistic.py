"""LogisticChurn: L2-penalised logistic regression on view columns, explained by its terms."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

from crmkit._estimator import check_is_fitted
from crmkit._params import Constraint, Interval, column_names, validate_params
from crmkit.churn._common import (
    LABELS,
    check_churn_view,
    check_labels,
    format_reasons,
    score_frame,
)
from crmkit.churn._features import FeatureMap, default_log_columns
from crmkit.exceptions import ConvergenceWarning, ModelFileError
from crmkit.plugins import CHURN_SCORE_COLUMNS, PluginBase

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["LogisticChurn", "DEFAULT_CHURN_COLUMNS"]

FloatArray = npt.NDArray[np.float64]

#: The view columns LogisticChurn reads by default: the purchase history and
#: the CRM aggregates behind the early-warning signals.
DEFAULT_CHURN_COLUMNS: tuple[str, ...] = (
    "frequency",
    "recency",
    "T",
    "days_since_last",
    "mean_interpurchase",
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

_INTERCEPT_PRECISION = 1e-4  # a very weak prior keeps the intercept finite for one-class labels


def _fit_logistic(
    x: FloatArray, y: FloatArray, l2: float, max_iter: int
) -> tuple[FloatArray, float, int, bool]:
    n, p = x.shape
    scale = float(max(n, 1))

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        b0, beta = theta[0], theta[1:]
        z = b0 + x @ beta
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        value = nll + 0.5 * l2 * float(beta @ beta) + 0.5 * _INTERCEPT_PRECISION * b0 * b0
        r = expit(z) - y
        grad = np.empty(p + 1)
        grad[0] = float(r.sum()) + _INTERCEPT_PRECISION * b0
        grad[1:] = x.T @ r + l2 * beta
        return value / scale, grad / scale  # per customer: steps of a sensible size

    result = minimize(
        objective, np.zeros(p + 1), jac=True, method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": 1e-9},
    )  # fmt: skip
    # a line-search stop at a point whose gradient is already tiny is an optimum
    _, grad = objective(result.x)
    ok = bool(result.success) or float(np.max(np.abs(grad))) <= 1e-6
    return np.asarray(result.x[1:], dtype=np.float64), float(result.x[0]), int(result.nit), ok


class LogisticChurn(PluginBase):
    """L2-penalised logistic regression of churn on view columns, explained by its terms.

    Each column is optionally put on a signed log scale (``sign(x) *
    log1p(|x|)``), then standardised with the mean and standard deviation of
    the fitting view. Missing values are handled explicitly: a column with
    missing values in the fitting view gets an indicator feature (1 =
    missing) and its missing values sit at the mean, so the model learns what
    "no NPS answer" or "never complained" means on its own. The coefficients
    minimise the negative log-likelihood plus ``l2 / 2 * ||coef||**2`` (the
    intercept is not penalised, beyond a negligible prior that keeps it
    finite when every label is the same), by L-BFGS with the analytic gradient.

    The explanation is additive on the log-odds scale: a column's
    contribution for a customer is ``coef * standardised value`` (plus the
    indicator's coefficient when the value is missing); ``churn_risk =
    expit(intercept + sum of contributions)``. ``signal_<column>`` holds the
    contributions and ``reasons`` the columns that raise the risk by more
    than ``min_contribution`` (log-odds), largest first.

    Parameters
    ----------
    columns : tuple of str, optional
        Numeric or bool view columns; default :data:`DEFAULT_CHURN_COLUMNS`.
    log_columns : tuple of str, optional
        Columns on the signed log scale; default: the skewed ones among
        ``columns`` (counts ``n_*``, ``days_since_*``, money, times; see
        :func:`crmkit.churn.default_log_columns`). Pass ``()`` for none.
    l2 : float, default=1.0
        Penalty on the squared coefficients (> 0).
    min_contribution : float, default=0.05
        Smallest log-odds contribution listed in ``reasons``.
    max_iter : int, default=1000
        Optimiser iterations at most.

    Attributes
    ----------
    features_ : FeatureMap
        Log scale, means, scales and indicators of the columns.
    coef_ : numpy.ndarray of float, shape (n_columns,)
        Coefficient of each standardised column.
    missing_coef_ : numpy.ndarray of float, shape (n_columns,)
        Coefficient of each column's missing-value indicator (0 without one).
    intercept_ : float
        Log-odds of a customer at the mean of every column.
    n_iter_ : int
        Optimiser iterations.
    converged_ : bool
        Whether the optimiser converged.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> view = pd.DataFrame({"last_nps": np.where(x > 1.5, np.nan, np.round(7 - 2 * x)),
    ...                      "T": rng.uniform(10, 50, 400)},
    ...                     index=pd.Index([f"c{i}" for i in range(400)], name="customer_id"))
    >>> y = pd.Series(rng.random(400) < expit(-2 + 1.5 * x), index=view.index)
    >>> model = LogisticChurn(columns=("last_nps", "T")).fit(view, y)
    >>> bool(model.coef_[0] < 0), bool(model.missing_coef_[0] > 0)
    (True, True)
    >>> model.score(view.iloc[:1])["reasons"].tolist()
    ['last_nps (0.23)']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "columns": [column_names(), None],
        "log_columns": [
            column_names(allow_empty=True),
            None,
        ],
        "l2": [Interval("float", 0, None, closed="neither")],
        "min_contribution": [Interval("float", 0, None)],
        "max_iter": [Interval("int", 1, None)],
    }  # fmt: skip

    def __init__(
        self,
        *,
        columns: tuple[str, ...] | None = None,
        log_columns: tuple[str, ...] | None = None,
        l2: float = 1.0,
        min_contribution: float = 0.05,
        max_iter: int = 1000,
    ) -> None:
        self.columns = columns
        self.log_columns = log_columns
        self.l2 = l2
        self.min_contribution = min_contribution
        self.max_iter = max_iter

    def _columns(self) -> tuple[str, ...]:
        columns = self._validated("columns")
        return DEFAULT_CHURN_COLUMNS if columns is None else tuple(columns)

    @property
    def requires(self) -> tuple[str, ...]:
        """The model's view columns.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> LogisticChurn(columns=("last_nps", "T")).requires
        ('last_nps', 'T')
        """
        return self._columns()

    @property
    def provides(self) -> tuple[str, ...]:
        """``churn_risk``, ``reasons`` and ``signal_<column>`` for each column.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> LogisticChurn(columns=("last_nps",)).provides
        ('churn_risk', 'reasons', 'signal_last_nps')
        """
        return (*CHURN_SCORE_COLUMNS, *(f"signal_{c}" for c in self._columns()))

    def _check_view(self, view: pd.DataFrame, who: str) -> pd.DataFrame:
        return check_churn_view(view, f"{type(self).__name__}.{who}", self._columns())

    def _log_columns(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        if self.log_columns is None:
            return default_log_columns(columns)
        return tuple(self.log_columns)

    def fit(self, view: pd.DataFrame, y: pd.Series | None = None) -> Self:
        """Fit the coefficients to churn labels.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.
        y : pandas.Series of bool
            Whether each customer churned, indexed like ``view`` (required).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters, or without ``y``.
        SchemaError
            For missing or non-numeric columns or bad labels.

        Warns
        -----
        ConvergenceWarning
            When the optimiser stops before converging.

        Examples
        --------
        See :class:`LogisticChurn`.
        """
        self._validate_params()
        validate_params(f"{type(self).__name__}.fit", {"y": y}, {"y": [LABELS]})
        view = self._check_view(view, "fit")
        labels = check_labels(y, view, f"{type(self).__name__}.fit").astype(np.float64)
        cols = self._columns()
        features = FeatureMap.fit(view, cols, self._log_columns(cols))
        design = features.design(view)
        beta, b0, n_iter, ok = _fit_logistic(design, labels, float(self.l2), int(self.max_iter))
        if not ok:
            warnings.warn(
                f"{type(self).__name__}: the optimiser stopped after {n_iter} iterations "
                "without converging; raise max_iter or l2",
                ConvergenceWarning,
                stacklevel=2,
            )
        k = len(cols)
        missing = np.zeros(k)
        missing[features.has_indicator] = beta[k:]
        self.features_ = features
        self.coef_ = np.asarray(beta[:k], dtype=np.float64)
        self.missing_coef_ = missing
        self.intercept_ = b0
        self.n_iter_ = n_iter
        self.converged_ = ok
        return self

    def contributions(self, view: pd.DataFrame) -> pd.DataFrame:
        """Each column's log-odds contribution for each customer.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            One float column per model column, indexed like ``view``;
            ``intercept_`` plus a row's sum is the customer's log-odds.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or non-numeric columns.

        Examples
        --------
        See :class:`LogisticChurn`.
        """
        check_is_fitted(self, "coef_")
        view = self._check_view(view, "contributions")
        frame: pd.DataFrame = pd.DataFrame(
            self._contributions(view), index=view.index.copy(), columns=list(self.features_.columns)
        )
        return frame

    def _contributions(self, view: pd.DataFrame) -> FloatArray:
        z, indicators = self.features_.transform(view)
        parts = z * self.coef_[None, :]
        owners = np.flatnonzero(self.features_.has_indicator)
        for j, col in enumerate(owners):
            parts[:, col] = parts[:, col] + indicators[:, j] * self.missing_coef_[col]
        return np.asarray(parts, dtype=np.float64)

    def score(self, view: pd.DataFrame) -> pd.DataFrame:
        """Score each customer: risk, reasons and each column's log-odds contribution.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``churn_risk``, ``reasons`` and
            ``signal_<column>`` (log-odds contribution) per column.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or non-numeric columns.

        Examples
        --------
        See :class:`LogisticChurn`.
        """
        check_is_fitted(self, "coef_")
        view = self._check_view(view, "score")
        parts = self._contributions(view)
        log_odds = np.full(len(view), self.intercept_, dtype=np.float64)
        for j in range(parts.shape[1]):  # column by column: the same sums for any row count
            log_odds = log_odds + parts[:, j]
        cols = self.features_.columns
        reasons = format_reasons(parts, cols, minimum=float(self.min_contribution))
        return score_frame(view.index, expit(log_odds), reasons,
                           {c: parts[:, j] for j, c in enumerate(cols)})  # fmt: skip

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "coef_"):
            return None
        return {
            "features": self.features_.to_state(),
            "coef": self.coef_,
            "missing_coef": self.missing_coef_,
            "intercept": self.intercept_,
            "n_iter": self.n_iter_,
            "converged": self.converged_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        features = FeatureMap.from_state(state["features"])
        k = len(features.columns)
        coef = np.asarray(state["coef"], dtype=np.float64)
        missing = np.asarray(state["missing_coef"], dtype=np.float64)
        if coef.shape != (k,) or missing.shape != (k,):
            raise ModelFileError(
                f"malformed fitted state for LogisticChurn: 'coef' and 'missing_coef' must "
                f"each hold one value per feature column ({k}); got shapes {coef.shape} "
                f"and {missing.shape}"
            )
        self.features_ = features
        self.coef_ = coef
        self.missing_coef_ = missing
        self.intercept_ = float(state["intercept"])
        self.n_iter_ = int(state["n_iter"])
        self.converged_ = bool(state["converged"])
