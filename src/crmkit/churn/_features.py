"""Standardised model features from view columns, with explicit missing-value indicators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._params import Predicate, validate_args
from crmkit.churn._common import column_values
from crmkit.exceptions import ModelFileError

__all__ = ["FeatureMap", "default_log_columns"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_LOG_NAMES = frozenset(
    {"frequency", "recency", "T", "tenure", "monetary_value", "revenue", "margin",
     "mean_interpurchase", "days_since_last", "n_transactions", "n_products"}
)  # fmt: skip


def _is_name_sequence(value: Any) -> bool:
    return (
        isinstance(value, (Sequence, pd.Index, np.ndarray))
        and not isinstance(value, (str, bytes))
        and all(isinstance(c, str) for c in value)
    )


@validate_args({"columns": [Predicate(_is_name_sequence, "a sequence of column names (str)")]})
def default_log_columns(columns: Sequence[str]) -> tuple[str, ...]:
    """The columns put on a (signed) log scale by default: skewed counts, money, times.

    Those named ``n_*`` or ``days_since_*`` and ``frequency``, ``recency``,
    ``T``, ``tenure``, ``monetary_value``, ``revenue``, ``margin``,
    ``mean_interpurchase``, ``n_transactions``, ``n_products``.

    Parameters
    ----------
    columns : sequence of str
        The model's columns.

    Returns
    -------
    tuple of str

    Raises
    ------
    InvalidParameterError
        When ``columns`` is a single string or not a sequence of strings
        (also a ``TypeError``).

    Examples
    --------
    >>> default_log_columns(["last_nps", "days_since_complaint", "frequency"])
    ('days_since_complaint', 'frequency')
    >>> default_log_columns(["frequency", 3])
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: The 'columns' parameter of default_log_columns
    must be a sequence of column names (str). Got ['frequency', 3] instead.
    """
    names = list(columns)
    return tuple(
        c for c in names
        if c in _LOG_NAMES or c.startswith(("n_", "days_since_"))
    )  # fmt: skip


@attrs.frozen
class FeatureMap:
    """How view columns become standardised model features.

    A column in ``log_columns`` is first mapped to ``sign(x) * log1p(|x|)``;
    every column is then centred and scaled by its mean and standard
    deviation in the fitting view (scale 1 for a constant column). A column
    that had missing values when fitted also gets an indicator feature
    (1 = missing) and its missing values are set to the mean (0 after
    standardising); a missing value in a column that had none when fitted is
    set to the mean without an indicator, so it contributes nothing.

    Parameters
    ----------
    columns : tuple of str
        View columns, in feature order.
    log_columns : tuple of str
        Columns on the signed log scale.
    center, scale : numpy.ndarray of float, shape (n_columns,)
        Mean and standard deviation (after the log map).
    has_indicator : numpy.ndarray of bool, shape (n_columns,)
        Which columns have a missing-value indicator.

    Examples
    --------
    >>> view = pd.DataFrame({"a": [1.0, 3.0, np.nan], "b": [0.0, 0.0, 1.0]})
    >>> fm = FeatureMap.fit(view, ("a", "b"), ())
    >>> z, ind = fm.transform(view)
    >>> z.round(3).tolist(), ind.tolist()
    ([[-1.0, -0.707], [1.0, -0.707], [0.0, 1.414]], [[0.0], [0.0], [1.0]])
    """

    columns: tuple[str, ...]
    log_columns: tuple[str, ...]
    center: FloatArray
    scale: FloatArray
    has_indicator: BoolArray

    @classmethod
    def fit(
        cls, view: pd.DataFrame, columns: Sequence[str], log_columns: Sequence[str]
    ) -> FeatureMap:
        """Learn means, scales and which columns need an indicator.

        Parameters
        ----------
        view : pandas.DataFrame
            The (validated) fitting view.
        columns : sequence of str
            Numeric or bool view columns.
        log_columns : sequence of str
            Which of them go on the signed log scale.

        Returns
        -------
        FeatureMap

        Examples
        --------
        See :class:`FeatureMap`.
        """
        cols = tuple(columns)
        logs = tuple(c for c in log_columns if c in cols)
        raw = _raw(view, cols, logs)
        missing = np.isnan(raw)
        count = (~missing).sum(axis=0)
        filled = np.where(missing, 0.0, raw)
        safe = np.maximum(count, 1)
        center = np.where(count > 0, filled.sum(axis=0) / safe, 0.0)
        dev = np.where(missing, 0.0, raw - center[None, :])
        std = np.sqrt((dev**2).sum(axis=0) / safe)
        scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(center)), std, 1.0)
        return cls(cols, logs, center, scale, np.asarray(missing.any(axis=0), dtype=bool))

    @property
    def n_features(self) -> int:
        """Number of model features: the columns plus the missing-value indicators.

        Returns
        -------
        int

        Examples
        --------
        >>> FeatureMap(("a",), (), np.zeros(1), np.ones(1), np.array([True])).n_features
        2
        """
        return len(self.columns) + int(self.has_indicator.sum())

    def transform(self, view: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
        """Standardised values and missing-value indicators of a view.

        Parameters
        ----------
        view : pandas.DataFrame
            A (validated) view with the columns.

        Returns
        -------
        values : numpy.ndarray of float, shape (n_customers, n_columns)
            Standardised values, 0 where missing.
        indicators : numpy.ndarray of float, shape (n_customers, n_indicators)
            1 where the column is missing, for the columns with an indicator.

        Examples
        --------
        See :class:`FeatureMap`.
        """
        raw = _raw(view, self.columns, self.log_columns)
        missing = np.isnan(raw)
        z = (raw - self.center[None, :]) / self.scale[None, :]
        z = np.where(missing, 0.0, z)
        indicators = missing[:, self.has_indicator].astype(np.float64)
        return z, indicators

    def design(self, view: pd.DataFrame) -> FloatArray:
        """The model matrix: standardised values, then the indicators.

        Parameters
        ----------
        view : pandas.DataFrame
            A (validated) view with the columns.

        Returns
        -------
        numpy.ndarray of float, shape (n_customers, n_features)

        Examples
        --------
        >>> fm = FeatureMap(("a",), (), np.zeros(1), np.ones(1), np.array([True]))
        >>> fm.design(pd.DataFrame({"a": [2.0, np.nan]})).tolist()
        [[2.0, 0.0], [0.0, 1.0]]
        """
        z, ind = self.transform(view)
        return np.hstack([z, ind])

    def owners(self) -> npt.NDArray[np.intp]:
        """For each model feature, the index of its view column.

        Returns
        -------
        numpy.ndarray of int, shape (n_features,)

        Examples
        --------
        >>> FeatureMap(("a", "b"), (), np.zeros(2), np.ones(2), np.array([False, True])).owners()
        array([0, 1, 1])
        """
        k = len(self.columns)
        out: npt.NDArray[np.intp] = np.concatenate(
            [np.arange(k, dtype=np.intp), np.flatnonzero(self.has_indicator).astype(np.intp)]
        )
        return out

    def to_state(self) -> dict[str, Any]:
        """Plain values for persistence.

        Returns
        -------
        dict

        Examples
        --------
        >>> sorted(FeatureMap(("a",), (), np.zeros(1), np.ones(1), np.array([False])).to_state())
        ['center', 'columns', 'has_indicator', 'log_columns', 'scale']
        """
        return {
            "columns": self.columns,
            "log_columns": self.log_columns,
            "center": np.asarray(self.center, dtype=np.float64),
            "scale": np.asarray(self.scale, dtype=np.float64),
            "has_indicator": np.asarray(self.has_indicator, dtype=bool),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FeatureMap:
        """Rebuild from :meth:`to_state`.

        Parameters
        ----------
        state : dict
            As returned by :meth:`to_state`.

        Returns
        -------
        FeatureMap

        Raises
        ------
        ModelFileError
            When the arrays do not match the columns.

        Examples
        --------
        >>> fm = FeatureMap(("a",), (), np.zeros(1), np.ones(1), np.array([False]))
        >>> FeatureMap.from_state(fm.to_state()).columns
        ('a',)
        """
        cols = tuple(str(c) for c in state["columns"])
        fm = cls(
            cols,
            tuple(str(c) for c in state["log_columns"]),
            np.asarray(state["center"], dtype=np.float64),
            np.asarray(state["scale"], dtype=np.float64),
            np.asarray(state["has_indicator"], dtype=bool),
        )
        if not (len(fm.center) == len(fm.scale) == len(fm.has_indicator) == len(cols)):
            raise ModelFileError("feature arrays do not match the number of columns")
        return fm


def _raw(view: pd.DataFrame, columns: tuple[str, ...], logs: tuple[str, ...]) -> FloatArray:
    out = np.empty((len(view), len(columns)), dtype=np.float64)
    log_set = set(logs)
    for j, c in enumerate(columns):
        values = column_values(view, c)
        if c in log_set:
            values = np.sign(values) * np.log1p(np.abs(values))
        out[:, j] = values
    return out
