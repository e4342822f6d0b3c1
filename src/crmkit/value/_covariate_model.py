"""The covariate side of :class:`ParetoNBD` and :class:`BetaGeo`: state, summary, persistence.

See :mod:`crmkit.value._covariates` for the parameterisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import Constraint, Predicate
from crmkit.exceptions import ModelFileError
from crmkit.value._base import ValueModel
from crmkit.value._covariates import CovariateDesign, fit_covariates, group_apply
from crmkit.value._purchase import PurchaseModel

__all__ = ["COVARIATES", "CoefficientMixin", "CovariateMixin"]


def _column_list(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and all(isinstance(v, str) and bool(v) for v in value)
        and len(set(value)) == len(value)
    )


#: The constraint of ``purchase_covariates`` / ``dropout_covariates``.
COVARIATES: list[Constraint] = [
    None,
    Predicate(_column_list, "a list of distinct column names (non-empty str)"),
]

_Z95 = 1.959963984540054


class CoefficientMixin(ValueModel):
    """Fitted coefficients of covariates: ``summary()`` rows and persistence.

    A model fitted with covariates has ``covariates_`` (a
    :class:`~crmkit.value._covariates.CovariateDesign`), ``coef_``,
    ``coef_standard_errors_`` and ``full_covariance_`` (base parameters on
    the natural scale, then the coefficients); without covariates it is
    exactly the plain model.

    Examples
    --------
    >>> from crmkit.value import GammaGamma
    >>> issubclass(GammaGamma, CoefficientMixin)
    True
    """

    _nonfinite_state = frozenset(
        {
            "standard_errors",
            "covariance",
            "log_likelihood",
            "coef_standard_errors",
            "full_covariance",
        }
    )

    def _uses_covariates(self) -> bool:
        return "coef_" in self.__dict__

    def _drop_covariate_state(self) -> None:
        for key in ("covariates_", "coef_", "coef_standard_errors_", "full_covariance_"):
            self.__dict__.pop(key, None)

    @property
    def coefficient_names_(self) -> tuple[str, ...]:
        """Names of ``coef_``: ``purchase.<column>`` then ``dropout.<column>``."""
        self._check_fitted()
        if not self._uses_covariates():
            return ()
        design: CovariateDesign = self.covariates_
        return design.coefficient_names()

    def summary(self) -> pd.DataFrame:
        """Table of the fitted parameters and, with covariates, their coefficients.

        Returns
        -------
        DataFrame
            Index: parameter names (the base parameters, e.g. ``alpha`` being
            ``alpha0`` for customers with all covariates 0), then
            ``purchase.<column>`` and ``dropout.<column>`` coefficients;
            columns ``estimate``, ``se``, ``lower_95``, ``upper_95`` (Wald
            intervals; floored at 0 for the base parameters only).

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> from crmkit.value import ParetoNBD
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.summary().index.tolist()
        ['r', 'alpha', 's', 'beta']
        """
        table = super().summary()
        if not self._uses_covariates():
            return table
        est = np.asarray(self.coef_, dtype=float)
        se = np.asarray(self.coef_standard_errors_, dtype=float)
        extra = pd.DataFrame(
            {
                "estimate": est,
                "se": se,
                "lower_95": est - _Z95 * se,
                "upper_95": est + _Z95 * se,
            },
            index=pd.Index(self.coefficient_names_, name="parameter"),
        )
        out: pd.DataFrame = pd.concat([table, extra])
        out.index.name = "parameter"
        return out

    def _get_state(self) -> dict[str, Any] | None:
        state = super()._get_state()
        if state is not None and self._uses_covariates():
            state["covariates"] = self.covariates_.to_state()
            state["coef"] = np.asarray(self.coef_, dtype=np.float64)
            state["coef_standard_errors"] = np.asarray(self.coef_standard_errors_)
            state["full_covariance"] = np.asarray(self.full_covariance_)
        return state

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        self._drop_covariate_state()
        if state.get("covariates") is None:
            return
        design = CovariateDesign.from_state(state["covariates"])
        k = sum(design.sizes())
        n_base = len(self._param_fields())
        coef = np.asarray(state["coef"], dtype=np.float64)
        se = np.asarray(state["coef_standard_errors"], dtype=np.float64)
        cov = np.asarray(state["full_covariance"], dtype=np.float64)
        if coef.shape != (k,) or se.shape != (k,) or cov.shape != (k + n_base, k + n_base):
            raise ModelFileError(
                f"{type(self).__name__} file has covariate state of shapes {coef.shape}, "
                f"{se.shape}, {cov.shape}; expected ({k},), ({k},), ({k + n_base}, {k + n_base})"
            )
        if not np.all(np.isfinite(coef)):
            raise ModelFileError(
                f"{type(self).__name__} file has non-finite covariate coefficients"
            )
        self.covariates_ = design
        self.coef_ = coef
        self.coef_standard_errors_ = se
        self.full_covariance_ = cov


class CovariateMixin(CoefficientMixin, PurchaseModel):
    """Adds ``purchase_covariates`` / ``dropout_covariates`` to a purchase model.

    A model fitted without covariates is exactly the plain model. Fitted
    with covariates it also has ``covariates_`` (the encodings),
    ``coef_`` and ``coef_standard_errors_`` (purchase coefficients, then
    dropout ones, see :attr:`coefficient_names_`) and ``full_covariance_``
    (base parameters on the natural scale, then coefficients).

    Examples
    --------
    >>> from crmkit.value import ParetoNBD
    >>> issubclass(ParetoNBD, CovariateMixin)
    True
    """

    _kind: ClassVar[str] = "pnbd"

    def _fit_covariates(self, view: Any, weights: Any) -> None:
        self._validate_params()
        for key in ("covariates_", "coef_", "coef_standard_errors_", "full_covariance_"):
            self.__dict__.pop(key, None)
        fit_covariates(self, view, weights, self._objective)

    def _wants_covariates(self) -> bool:
        return any(
            bool(getattr(self, name, None))
            for name in ("purchase_covariates", "dropout_covariates", "shared_covariates")
        )

    def _by_customer(self, view: Any, who: str, fn: Any, name: str, *args: Any) -> pd.Series:
        out, index = group_apply(self, view, who, fn, *args)
        return self._series(out, index, name)

    def log_likelihood(self, view: pd.DataFrame | Mapping[str, Any]) -> pd.Series:
        """Log-likelihood of each customer's history under the fitted parameters.

        With covariates, each customer's own parameters are used (the view
        must hold the covariate columns).

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
        >>> from crmkit.value import ParetoNBD
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.log_likelihood({"frequency": [0], "recency": [0.0], "T": [39.0]}).round(3).tolist()
        [-0.522]
        """
        self._check_fitted()
        if self._uses_covariates():
            return self._by_customer(
                view, "log_likelihood", lambda p, *d: self._loglik(p, d), "log_likelihood"
            )
        return super().log_likelihood(view)
