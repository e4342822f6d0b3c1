"""Shared machinery of crmkit's purchase (transaction-count) models.

:class:`PurchaseModel` reads and checks the customer view, refuses
degenerate data, collapses identical customers to weighted rows, runs the
maximum-likelihood fit and provides ``from_params`` and the per-customer
``log_likelihood``. A concrete model supplies its parameter class, the
columns it reads, an objective for the collapsed data and a per-row
log-likelihood; its predictions live in its own module.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Constraint, Interval
from crmkit.exceptions import (
    ConvergenceError,
    InvalidParameterError,
    SchemaError,
    SchemaFailure,
)
from crmkit.value._base import ValueModel
from crmkit.value._canonical import canonical_rows
from crmkit.value._inputs import read_columns
from crmkit.value._mle import CachedObjective, Objective, fit_mle
from crmkit.value._purchase_utils import (
    _WARM_START_ROWS,
    _WARM_START_SIZE,
    check_argument,
    check_count,
    collapse_rows,
    expm1_ratio,
    near_one,
    newton_minimize,
    per_customer,
)

__all__ = [
    "PurchaseModel",
    "collapse_rows",
    "check_argument",
    "check_count",
    "near_one",
    "expm1_ratio",
    "newton_minimize",
    "per_customer",
]

FloatArray = npt.NDArray[np.float64]
_M = TypeVar("_M", bound="PurchaseModel")


#: Above this many distinct rows, ``fit`` first fits a subsample of
#: 5% of the rows (at least 5,000, at most ``_WARM_START_SIZE``) and starts
#: the full fit from its optimum.
class PurchaseModel(ValueModel):
    """Base of the purchase models: input checks, fitting, ``from_params``, log-likelihood.

    Subclasses set ``_params_class`` (frozen attrs class of the parameters,
    in optimisation order), ``_columns`` (view columns read, in the order
    the hooks receive them) and ``_integer_columns``, and implement
    ``_objective(data, weights)`` (negative log-likelihood and gradient with
    respect to log-parameters, for collapsed data), ``_start(data,
    weights)`` (starting points) and ``_loglik(params, data)`` (per-row
    log-likelihood); ``_check_rows`` may add model-specific row checks.

    Parameters
    ----------
    penalizer : float, default=0.0
        L2 penalty on the parameters (``penalizer * sum(params**2)``).

    Attributes
    ----------
    params_ : attrs instance
        Fitted parameters (frozen).
    standard_errors_ : attrs instance
        Their standard errors.
    log_likelihood_ : float
        Log-likelihood at the estimates (without penalty).
    n_customers_ : float
        Total weight of customers fitted on.
    converged_ : bool
        Whether the optimiser converged.
    n_iter_ : int
        Optimiser iterations.

    Examples
    --------
    See the concrete models, e.g. :class:`crmkit.value.BetaGeo`.
    """

    _columns: ClassVar[tuple[str, ...]] = ("frequency", "recency", "T")
    _integer_columns: ClassVar[tuple[str, ...]] = ("frequency",)
    _parameter_constraints: ClassVar[Mapping[str, list[Constraint]]] = {
        "penalizer": [Interval("float", 0, None)]
    }

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    # ----------------------------------------------------------- hooks
    def _objective(self, data: tuple[FloatArray, ...], weights: FloatArray) -> Objective:
        raise NotImplementedError  # pragma: no cover

    def _start(self, data: tuple[FloatArray, ...], weights: FloatArray) -> list[list[float]]:
        raise NotImplementedError  # pragma: no cover

    def _loglik(self, params: FloatArray, data: tuple[FloatArray, ...]) -> FloatArray:
        raise NotImplementedError  # pragma: no cover

    def _check_rows(self, data: tuple[FloatArray, ...]) -> list[tuple[str, str, Any]]:
        """Model-specific row checks: ``[(column, problem, failing mask), ...]``."""
        return []

    # ----------------------------------------------------------- helpers
    def _read(
        self, view: pd.DataFrame | Mapping[str, Any], who: str, weights: Any = None
    ) -> tuple[tuple[FloatArray, ...], FloatArray, pd.Index]:
        name = f"{type(self).__name__}.{who}"
        arrays, w, _ = read_columns(
            view,
            self._columns,
            who=name,
            integer=self._integer_columns,
            weights=weights,
            index_labels=False,
        )
        index = view.index if isinstance(view, pd.DataFrame) else pd.RangeIndex(len(w))
        data = tuple(arrays[c] for c in self._columns)
        failures = []
        for column, problem, mask in self._check_rows(data):
            if np.any(mask):
                labels = tuple(np.asarray(index, dtype=object)[mask][:5].tolist())
                values = tuple(arrays[column][mask][:5].tolist())
                failures.append(
                    SchemaFailure(
                        frame="view",
                        column=column,
                        check=problem,
                        n_failing=int(np.sum(mask)),
                        rows=labels,
                        values=values,
                    )
                )
        if failures:
            raise SchemaError(failures)
        return data, w, index

    @staticmethod
    def _series(values: FloatArray, index: pd.Index, name: str) -> pd.Series:
        return pd.Series(values, index=index, name=name, copy=False)

    # ----------------------------------------------------------- public API
    def fit(self: _M, view: pd.DataFrame | Mapping[str, Any], weights: Any = None) -> _M:
        """Fit the model by maximum likelihood.

        Identical customers are collapsed to weighted rows first, in an
        order fixed by their values (the likelihood is unchanged): the
        result (parameters, log-likelihood, warnings and errors) is the same
        for any order of the rows.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            The customer view with the model's columns.
        weights : array-like of shape (n_customers,), optional
            Number of customers each row stands for (e.g. an aggregated
            table).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For an invalid ``penalizer``.
        SchemaError
            For missing or invalid columns, an empty view, a single customer,
            or data without repeat buyers.
        ConvergenceError
            When the optimiser fails, or the likelihood keeps rising at the
            edge of the parameter space.

        Warns
        -----
        ConvergenceWarning
            When the likelihood is flat at the estimates (some parameters
            are not pinned down by the data; their standard errors are NaN).

        Examples
        --------
        See the concrete models.
        """
        self._validate_params()
        who = f"{type(self).__name__}.fit"
        data, w, _ = self._read(view, "fit", weights=weights)
        if len(w) < 2:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column="<frame>",
                        check=f"has a single customer; {who} needs at least two customer rows "
                        "to identify the model",
                    )
                ]
            )
        if not np.any(data[0] > 0):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view",
                        column=self._columns[0],
                        check="no repeat buyers: the dropout process cannot be identified; "
                        "fit on a longer calibration period or a larger sample",
                        n_failing=len(w),
                    )
                ]
            )
        # the canonical form: the fit depends on the multiset of customers only
        cols, cw = canonical_rows(data, w)
        starts = self._start(tuple(cols), cw)
        names = self._param_fields()
        model = type(self).__name__
        penalizer = float(self.penalizer)
        objective = self._objective(tuple(cols), cw)
        newton_steps = None
        if len(cw) > _WARM_START_ROWS:
            if not callable(getattr(objective, "hessian", None)):
                objective = CachedObjective(objective)  # a numerical Hessian for Newton
            starts, newton_steps = self._warm_start(objective, tuple(cols), cw, starts, penalizer)
        result = fit_mle(
            objective,
            starts[0],
            names=names,
            penalizer=penalizer,
            model=model,
            starts=starts[1:],
            converged_start=newton_steps,
        )
        hessian = getattr(objective, "hessian", None)
        exact = not getattr(objective, "numerical_hessian", False)
        if (
            callable(hessian)
            and exact
            and newton_steps is None
            and penalizer == 0
            and not result.flat
        ):
            # L-BFGS-B stops on a relative decrease of the objective, which can
            # leave the estimates ~1e-5 short of the maximum: finish with Newton
            theta, converged, steps = newton_minimize(
                objective, hessian, np.log(result.params), max_steps=6
            )
            if converged and steps > 0:
                result = fit_mle(
                    objective,
                    np.exp(theta).tolist(),
                    names=names,
                    model=model,
                    converged_start=result.n_iter + steps,
                )
        self._store_result(result, float(cw.sum()))
        return self

    def _warm_start(
        self,
        objective: Objective,
        cols: tuple[FloatArray, ...],
        cw: FloatArray,
        starts: list[list[float]],
        penalizer: float,
    ) -> tuple[list[list[float]], int | None]:
        """Better starting points for a large fit (the likelihood is unchanged).

        The optimum for a fixed random subsample of customers is close to the
        full one; when the objective has a Hessian, Newton steps on the full
        data then bring it to the optimum. Returns the starts and, when the
        Newton iterations converged, their number (the first start is then
        the optimum and needs no optimiser run).
        """
        size = min(_WARM_START_SIZE, max(5_000, len(cw) // 20))
        # a sample of customers (rows drawn in proportion to the customers
        # they stand for), so that heavy collapsed rows are represented
        total = float(cw.sum())
        counts = np.random.default_rng(0).multinomial(size, cw / total)
        pick = np.flatnonzero(counts)
        sub_w = counts[pick].astype(np.float64) * (total / size)
        sub = tuple(c[pick] for c in cols)
        if not np.any(sub[0] > 0):
            return starts, None
        try:
            warm = fit_mle(
                self._objective(sub, sub_w),
                starts[0],
                names=self._param_fields(),
                penalizer=penalizer,
                model=type(self).__name__,
                starts=starts[1:],
            )
        except ConvergenceError:
            return starts, None
        theta = np.log(warm.params)
        hessian = getattr(objective, "hessian", None)
        if penalizer != 0 or not callable(hessian):
            return [np.exp(theta).tolist(), *starts], None
        # a numerical Hessian costs several objective evaluations: one, then BFGS updates
        quasi = bool(getattr(objective, "numerical_hessian", False))
        theta, converged, steps = newton_minimize(
            objective, hessian, theta, max_steps=12 if quasi else 6, reuse_hessian=quasi
        )
        return [np.exp(theta).tolist(), *starts], (steps if converged else None)

    @classmethod
    def from_params(cls: type[_M], **params: float) -> _M:
        """Build a fitted-state model with known parameters.

        Useful for simulation and for scoring with published parameters.
        ``standard_errors_`` and ``log_likelihood_`` are NaN,
        ``n_customers_`` is 0, ``converged_`` is True and ``n_iter_`` 0.

        Parameters
        ----------
        **params : float
            Every parameter of the model, each finite and ``> 0``.

        Returns
        -------
        model
            A new, fitted-state instance with default hyperparameters.

        Raises
        ------
        InvalidParameterError
            For missing, unknown or invalid parameters.

        Examples
        --------
        See the concrete models.
        """
        names = cls._param_fields()
        if set(params) != set(names):
            raise InvalidParameterError(
                f"{cls.__name__}.from_params needs exactly the parameters "
                f"{', '.join(names)}; got {', '.join(sorted(params)) or 'none'}"
            )
        values = {}
        for name in names:
            v = params[name]
            ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
                v, (bool, np.bool_)
            )
            if not ok or not math.isfinite(float(v)) or float(v) <= 0:
                raise InvalidParameterError(
                    f"The {name!r} parameter of {cls.__name__} must be a finite float > 0. "
                    f"Got {v!r} instead."
                )
            values[name] = float(v)
        model = cls()
        model.params_ = cls._params_class(**values)
        model.standard_errors_ = cls._params_class(**{n: math.nan for n in names})
        model.log_likelihood_ = math.nan
        model.n_customers_ = 0.0
        model.converged_ = True
        model.n_iter_ = 0
        return model

    def log_likelihood(self, view: pd.DataFrame | Mapping[str, Any]) -> pd.Series:
        """Log-likelihood of each customer's history under the fitted parameters.

        Parameters
        ----------
        view : DataFrame or mapping of str to array-like
            The customer view with the model's columns.

        Returns
        -------
        Series of shape (n_customers,)
            Named ``log_likelihood``, indexed like ``view``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For missing or invalid columns.

        Examples
        --------
        See the concrete models.
        """
        p = self._param_array()
        data, _, index = self._read(view, "log_likelihood")
        return self._series(self._loglik(p, data), index, "log_likelihood")
