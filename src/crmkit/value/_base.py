"""Base class of crmkit's parametric value models."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import attrs
import numpy as np
import pandas as pd

from crmkit._display import value_model_html
from crmkit._estimator import BaseEstimator, check_is_fitted
from crmkit._persist import Persistable
from crmkit.exceptions import ConvergenceWarning, ModelFileError
from crmkit.value._mle import MLEResult

__all__ = ["ValueModel"]


class ValueModel(BaseEstimator, Persistable):
    """Shared fitted state, ``summary()`` and persistence of value models.

    Subclasses set ``_params_class`` (a frozen attrs class whose fields are
    the model's parameters, in optimisation order) and call
    :meth:`_store_result` at the end of ``fit``.

    Attributes
    ----------
    params_ : attrs instance
        Fitted parameters (frozen).
    log_likelihood_ : float
        Log-likelihood at the estimates (without the penalty).
    standard_errors_ : attrs instance
        Standard errors of the parameters, same class as ``params_``.
    n_customers_ : float
        Total weight of customers fitted on.
    converged_ : bool
        Whether the optimiser converged. It may converge where the likelihood
        is flat (the data cannot identify some parameters): then those
        standard errors and ``covariance_`` are NaN and ``fit`` warns with
        :class:`~crmkit.exceptions.ConvergenceWarning` (see the user guide's
        warning policy).
    n_iter_ : int
        Optimiser iterations.
    covariance_ : ndarray of shape (n_params, n_params)
        Asymptotic covariance of the estimates (inverse observed information,
        parameters in ``params_`` order); all NaN when unavailable (a
        non-positive-definite Hessian, or a model built with ``from_params``).

    Examples
    --------
    See the concrete models, e.g. :class:`crmkit.value.BetaGeo`.
    """

    _params_class: ClassVar[type[Any]]
    _fitted_attrs: ClassVar[tuple[str, ...]] = ("params_",)
    # undefined standard errors (a flat likelihood, ``from_params``) are NaN
    _nonfinite_state: ClassVar[frozenset[str]] = frozenset(
        {"standard_errors", "covariance", "log_likelihood"}
    )

    @classmethod
    def _param_fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in attrs.fields(cls._params_class))

    def _store_result(self, result: MLEResult, n_customers: float) -> None:
        self.params_ = self._params_class(*[float(v) for v in result.params])
        self.standard_errors_ = self._params_class(*[float(v) for v in result.standard_errors])
        self.log_likelihood_ = float(result.log_likelihood)
        self.n_customers_ = float(n_customers)
        self.converged_ = bool(result.converged)
        self.n_iter_ = int(result.n_iter)
        k = len(self._param_fields())
        cov = result.covariance
        self.covariance_ = (
            np.full((k, k), np.nan) if cov is None else np.array(cov, dtype=np.float64)
        )
        undefined = list(result.flat)
        if undefined:
            estimates = ", ".join(
                f"{n}={float(v):.4g}"
                for n, v in zip(self._param_fields(), result.params, strict=True)
            )
            warnings.warn(
                f"{type(self).__name__}: the likelihood is flat at the estimates ({estimates}): "
                f"it barely changes along a direction that moves {', '.join(undefined)} (or "
                "levels off at the edge of the parameter space), so their standard errors are "
                "undefined (NaN) and the data cannot pin these parameters down (e.g. too few "
                "or too similar customers). Predictions may still be usable; for stable "
                "estimates fit on more customers or set a 'penalizer' > 0.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _check_fitted(self) -> None:
        check_is_fitted(self, self._fitted_attrs)

    def _param_array(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        self._check_fitted()
        return np.array(attrs.astuple(self.params_), dtype=np.float64)

    def _repr_html_(self) -> str:
        return value_model_html(self)

    def summary(self) -> pd.DataFrame:
        """Table of the fitted parameters.

        Returns
        -------
        DataFrame
            Index: parameter names; columns ``estimate``, ``se``, ``lower_95``,
            ``upper_95`` (Wald intervals, floored at 0).

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        See the concrete models.
        """
        self._check_fitted()
        est = np.array(attrs.astuple(self.params_), dtype=float)
        se = np.array(attrs.astuple(self.standard_errors_), dtype=float)
        table: pd.DataFrame = pd.DataFrame(
            {
                "estimate": est,
                "se": se,
                "lower_95": np.maximum(est - 1.959963984540054 * se, 0.0),
                "upper_95": est + 1.959963984540054 * se,
            },
            index=pd.Index(self._param_fields(), name="parameter"),
        )
        return table

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "params_"):
            return None
        return {
            "params": {k: float(v) for k, v in attrs.asdict(self.params_).items()},
            "standard_errors": {
                k: float(v) for k, v in attrs.asdict(self.standard_errors_).items()
            },
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
            "converged": self.converged_,
            "n_iter": self.n_iter_,
            "covariance": getattr(self, "covariance_", None),
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        names = set(self._param_fields())
        for key in ("params", "standard_errors"):
            if set(state[key]) != names:
                raise ModelFileError(
                    f"{type(self).__name__} file has parameters {sorted(state[key])}, "
                    f"expected {sorted(names)}"
                )
        values = {k: float(v) for k, v in state["params"].items()}
        invalid = {k: v for k, v in values.items() if not (np.isfinite(v) and v > 0)}
        if invalid:
            # a NaN or negative parameter would give NaN or wrong predictions silently
            raise ModelFileError(
                f"{type(self).__name__} file has invalid parameters {invalid}; every "
                "parameter must be a finite number > 0"
            )
        self.params_ = self._params_class(**values)
        self.standard_errors_ = self._params_class(
            **{k: float(v) for k, v in state["standard_errors"].items()}
        )
        self.log_likelihood_ = float(state["log_likelihood"])
        self.n_customers_ = float(state["n_customers"])
        self.converged_ = bool(state["converged"])
        self.n_iter_ = int(state["n_iter"])
        k = len(names)
        cov = state.get("covariance")
        if cov is None:
            self.covariance_ = np.full((k, k), np.nan)
        else:
            arr = np.asarray(cov, dtype=np.float64)
            if arr.shape != (k, k):
                raise ModelFileError(
                    f"{type(self).__name__} file has a covariance of shape {arr.shape}, "
                    f"expected {(k, k)}"
                )
            self.covariance_ = arr
