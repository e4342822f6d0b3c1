"""Shared machinery of the stagers: reading the view, the onboarding rule, output."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Constraint, Interval
from crmkit.domain import STAGE_ORDER, LifecycleStage
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import STAGES, PluginBase, validate_view

__all__ = [
    "ACQUISITION",
    "DEVELOPMENT",
    "LAPSED_CODE",
    "ONBOARDING",
    "ONBOARDING_CONSTRAINTS",
    "RETENTION",
    "STAGE_DTYPE",
    "StagerBase",
    "as_float_or_none",
    "onboarding_mask",
    "stage_series",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# the plugin contract's categories and the domain's stage order must agree
if tuple(STAGES) != tuple(STAGE_ORDER):  # pragma: no cover - a packaging error
    raise ImportError("crmkit.plugins.STAGES and crmkit.domain.STAGE_ORDER disagree")

#: Category codes of the stage labels in :data:`crmkit.plugins.STAGES`.
ACQUISITION = STAGES.index(LifecycleStage.ACQUISITION.value)
ONBOARDING = STAGES.index(LifecycleStage.ONBOARDING.value)
DEVELOPMENT = STAGES.index(LifecycleStage.DEVELOPMENT.value)
RETENTION = STAGES.index(LifecycleStage.RETENTION.value)
LAPSED_CODE = len(STAGES) - 1

#: The dtype of every stage column: unordered categorical with :data:`STAGES`.
STAGE_DTYPE = pd.CategoricalDtype(categories=list(STAGES), ordered=False)

#: Constraints of the onboarding parameters both stagers share.
ONBOARDING_CONSTRAINTS: Mapping[str, list[Constraint]] = {
    "onboarding_window": [Interval("float", 0, None)],
    "onboarding_purchases": [Interval("int", 1, None)],
}

_MAX_SHOWN = 5


def stage_series(codes: npt.NDArray[np.intp], index: pd.Index) -> pd.Series:
    """A stage column from category codes into :data:`crmkit.plugins.STAGES`.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_customers,)
        0 = acquisition ... 4 = lapsed.
    index : pandas.Index
        The customer ids.

    Returns
    -------
    pandas.Series
        Categorical (:data:`STAGE_DTYPE`), named ``"stage"``.

    Examples
    --------
    >>> stage_series(np.array([0, 4]), pd.Index(["a", "b"], name="customer_id")).tolist()
    ['acquisition', 'lapsed']
    """
    labels = pd.Categorical.from_codes(np.asarray(codes, dtype=np.intp), dtype=STAGE_DTYPE)
    result: pd.Series = pd.Series(labels, index=index, name="stage")
    return result


def onboarding_mask(
    T: FloatArray, frequency: FloatArray, window: float, min_purchases: int
) -> BoolArray:
    """Customers still being taken over: young, or with few purchases.

    Parameters
    ----------
    T : numpy.ndarray of float, shape (n_customers,)
        Time since the first purchase (view time units).
    frequency : numpy.ndarray of float, shape (n_customers,)
        Repeat purchase periods (purchases = ``frequency + 1``).
    window : float
        Onboarding window after the first purchase (view time units).
    min_purchases : int
        Customers with fewer purchase periods are still onboarding.

    Returns
    -------
    numpy.ndarray of bool, shape (n_customers,)

    Examples
    --------
    >>> onboarding_mask(np.array([4.0, 40.0, 40.0]), np.array([5.0, 0.0, 5.0]), 13.0, 2)
    array([ True,  True, False])
    """
    result: BoolArray = (window >= T) | (frequency + 1 < min_purchases)
    return result


def _failure(
    column: str, check: str, mask: BoolArray, index: pd.Index, values: FloatArray | None = None
) -> SchemaFailure:
    shown = tuple(index[mask][:_MAX_SHOWN].tolist())
    vals = () if values is None else tuple(values[mask][:_MAX_SHOWN].tolist())
    return SchemaFailure("view", column, check, int(mask.sum()), shown, vals)


class StagerBase(PluginBase):
    """Base of crmkit's stagers: reading and checking the view, the output.

    Subclasses define ``requires``, ``fit`` and ``_codes``; the output is a
    categorical Series named ``"stage"`` with the categories
    :data:`crmkit.plugins.STAGES`.

    Examples
    --------
    >>> from crmkit.lifecycle import RuleStager
    >>> issubclass(RuleStager, StagerBase), RuleStager().provides
    (True, ('stage',))
    """

    #: Columns that must lie in [0, 1].
    _unit_columns: tuple[str, ...] = ("p_alive",)
    #: Columns that must be >= 0.
    _nonnegative: tuple[str, ...] = ("expected_purchases", "n_products")

    @property
    def provides(self) -> tuple[str, ...]:
        """The output column: ``("stage",)``.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> from crmkit.lifecycle import ModelStager
        >>> ModelStager().provides
        ('stage',)
        """
        return ("stage",)

    def _optional(self) -> tuple[str, ...]:
        """Numeric columns read when the view has them (none unless overridden)."""
        return ()

    def _read(self, view: object) -> tuple[pd.DataFrame, dict[str, FloatArray], BoolArray]:
        """Check the view and return its numeric columns and the prospect mask.

        Rows with ``n_transactions == 0`` are prospects (no purchase yet):
        their other columns may be missing. Every other row must hold every
        required column; ``frequency`` must be a whole number >= 0,
        ``recency`` within ``[0, T]``, ``tenure`` >= 0, unit columns in
        ``[0, 1]``. Optional columns (:meth:`_optional`) are read when present.
        """
        owner = type(self).__name__
        required = tuple(self.requires)
        present = [
            c for c in self._optional() if isinstance(view, pd.DataFrame) and c in view.columns
        ]
        numeric = (*required, *present)
        frame = validate_view(
            view,
            owner,
            required=required,
            numeric=numeric,
            nullable=[c for c in numeric if c != "n_transactions"],
        )
        index = frame.index
        cols = {
            c: frame[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in dict.fromkeys(numeric)
        }
        failures: list[SchemaFailure] = []
        n_tx = cols["n_transactions"]
        bad = n_tx < 0
        if bad.any():
            failures.append(_failure("n_transactions", "is negative", bad, index, n_tx))
        prospect = n_tx == 0
        for c in required:
            if c == "n_transactions":
                continue
            missing = np.isnan(cols[c]) & ~prospect
            if missing.any():
                failures.append(
                    _failure(
                        c, "contains missing values for customers with purchases", missing, index
                    )
                )
        freq = cols["frequency"]
        bad = ~prospect & ~np.isnan(freq) & ((freq < 0) | (freq != np.floor(freq)))
        if bad.any():
            failures.append(_failure("frequency", "is not a whole number >= 0", bad, index, freq))
        for c in ("recency", "T", "tenure"):
            if c in cols:
                bad = ~prospect & (cols[c] < 0)
                if bad.any():
                    failures.append(_failure(c, "is negative", bad, index, cols[c]))
        if "recency" in cols and "T" in cols:
            bad = ~prospect & (cols["recency"] > cols["T"] * (1 + 1e-9) + 1e-9)
            if bad.any():
                failures.append(_failure("recency", "exceeds T", bad, index, cols["recency"]))
        for c in self._nonnegative:
            if c in cols:
                bad = ~prospect & (cols[c] < 0)
                if bad.any():
                    failures.append(_failure(c, "is negative", bad, index, cols[c]))
        for c in self._unit_columns:
            if c in cols:
                bad = ~prospect & ((cols[c] < 0) | (cols[c] > 1))
                if bad.any():
                    failures.append(_failure(c, "is not within [0, 1]", bad, index, cols[c]))
        if failures:
            raise SchemaError(failures)
        return frame, cols, prospect

    def _codes(
        self, frame: pd.DataFrame, cols: dict[str, FloatArray], prospect: BoolArray
    ) -> npt.NDArray[np.intp]:
        raise NotImplementedError  # pragma: no cover

    def _check_fitted(self) -> None:
        raise NotImplementedError  # pragma: no cover

    def stage(self, view: pd.DataFrame) -> pd.Series:
        """Stage every customer of ``view``.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view (indexed by customer id) with the ``requires``
            columns. Rows with ``n_transactions == 0`` are prospects and
            are staged ``acquisition``.

        Returns
        -------
        pandas.Series
            Categorical with the categories :data:`crmkit.plugins.STAGES`
            (acquisition, onboarding, development, retention, lapsed),
            index ``view.index``, named ``"stage"``; never missing.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When a required column is missing or holds invalid values.

        Examples
        --------
        >>> from crmkit.lifecycle import RuleStager
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(8, seed=1)
        >>> stages = RuleStager().fit(view).stage(view)
        >>> stages.name, stages.cat.categories.tolist()
        ('stage', ['acquisition', 'onboarding', 'development', 'retention', 'lapsed'])
        """
        self._check_fitted()
        frame, cols, prospect = self._read(view)
        return stage_series(self._codes(frame, cols, prospect), frame.index)


def as_float_or_none(value: Any) -> float | None:
    """``float(value)``, or None for None or NaN (for fitted state).

    Parameters
    ----------
    value : float or None
        The value.

    Returns
    -------
    float or None

    Examples
    --------
    >>> as_float_or_none(float("nan")) is None, as_float_or_none(2)
    (True, 2.0)
    """
    if value is None:
        return None
    v = float(value)
    return None if np.isnan(v) else v
