"""``purchase_pmf`` and ``sample``, defined once for the continuous-time purchase models.

:class:`~crmkit.value.BetaGeo`, :class:`~crmkit.value.ModifiedBetaGeo` and
:class:`~crmkit.value.ParetoNBD` share the checks, the docstrings and the
output frame; each supplies only its formula (``_pmf_values``) and its
simulator (``_simulate``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.value._purchase import PurchaseModel, check_argument, check_count

__all__ = ["ContinuousTimeMixin"]

FloatArray = npt.NDArray[np.float64]


class ContinuousTimeMixin(PurchaseModel):
    """``purchase_pmf`` and ``sample`` of a continuous-time purchase model.

    A subclass implements ``_pmf_values(params, n, t)`` (``P(X(t) = n)``
    for a new customer, broadcast) and ``_simulate(params, n_customers, T,
    seed)`` (arrays ``x``, ``t_x``, ``T``) on its parameter array.

    Examples
    --------
    >>> from crmkit.value import BetaGeo, ParetoNBD
    >>> issubclass(BetaGeo, ContinuousTimeMixin), issubclass(ParetoNBD, ContinuousTimeMixin)
    (True, True)
    """

    def _pmf_values(self, params: FloatArray, n: FloatArray, t: FloatArray) -> FloatArray:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    def _simulate(
        self, params: FloatArray, n_customers: int, T: FloatArray, seed: Any
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    def purchase_pmf(self, n: Any, t: Any) -> FloatArray:
        """Probability that a new customer makes ``n`` purchases in ``(0, t]``.

        With covariates: a customer whose covariates are all 0.

        Parameters
        ----------
        n : int or array-like of int
            Numbers of purchases (``>= 0``).
        t : float or array-like
            Horizon(s), broadcast against ``n``.

        Returns
        -------
        ndarray
            ``P(X(t) = n)``, broadcast shape of ``n`` and ``t``.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For an invalid ``n`` or ``t``.

        Examples
        --------
        >>> from crmkit.value import BetaGeo, ParetoNBD
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> m.purchase_pmf([0, 1, 2], 39).round(3).tolist()
        [0.594, 0.166, 0.082]
        >>> m = BetaGeo.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.purchase_pmf([0, 1, 2], 39).round(3).tolist()
        [0.574, 0.199, 0.085]
        """
        prm = self._param_array()
        who = f"{type(self).__name__}.purchase_pmf"
        nv = check_argument(n, "n", integer=True, who=who)
        tv = check_argument(t, "t", who=who)
        return self._pmf_values(prm, nv, tv)

    def sample(self, n_customers: int, T: Any, *, seed: Any = None) -> pd.DataFrame:
        """Simulate customer histories from the fitted parameters.

        With covariates: customers whose covariates are all 0.

        Parameters
        ----------
        n_customers : int
            How many customers.
        T : float or array-like of shape (n_customers,)
            Each customer's observation time (``>= 0``).
        seed : int or numpy Generator, optional
            Random seed.

        Returns
        -------
        DataFrame
            Columns ``frequency`` (int), ``recency``, ``T``; index
            ``customer_id`` 0..n-1.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            For an invalid ``n_customers`` or ``T``.

        Examples
        --------
        >>> from crmkit.value import ParetoNBD
        >>> m = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> view = m.sample(3, 39.0, seed=0)
        >>> view.columns.tolist(), view["T"].tolist()
        (['frequency', 'recency', 'T'], [39.0, 39.0, 39.0])
        """
        prm = self._param_array()
        who = f"{type(self).__name__}.sample"
        check_count(n_customers, "n_customers", who)
        Tv = check_argument(T, "T", who=who)
        if Tv.ndim > 0 and Tv.shape != (int(n_customers),):
            wanted = f"a scalar or n_customers ({n_customers}) values"
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="argument",
                        column="T",
                        check=f"must be {wanted}, got shape {Tv.shape} ({who})",
                    )
                ]
            )
        x, tx, Tt = self._simulate(prm, int(n_customers), Tv, seed)
        out: pd.DataFrame = pd.DataFrame(
            {"frequency": x.astype(np.int64), "recency": tx, "T": Tt},
            index=pd.RangeIndex(int(n_customers), name="customer_id"),
        )
        return out
