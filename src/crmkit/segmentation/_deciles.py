"""Decile (or n-quantile) segmentation by any value column, 1 = top."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import COLUMN_NAME, Constraint, Interval
from crmkit.exceptions import DataWarning
from crmkit.segmentation._base import (
    OUTPUT_NAME_CONSTRAINT,
    SegmenterBase,
    bin_index,
    quantile_edges,
)
from crmkit.segmentation._text import format_number, join_texts, number_texts, percent, pick

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["DecileSegmenter"]


class DecileSegmenter(SegmenterBase):
    """Equal-frequency groups by a value column (revenue, margin, CLV ...), 1 = top.

    Cut points are the quantiles of ``column`` in the fitting view (linear
    interpolation, right-closed bins as in :func:`pandas.qcut`); ``assign``
    applies them to any view. A value on a cut point joins the lower group,
    so equal values always share a group; heavy ties can leave a group empty.
    ``describe`` gives each group's customer and value shares and their
    cumulative sums, from which the 20/80 (or 10/90) rule can be read: the
    cumulative value share of group 2 (of 10) is the share of the top 20 %.

    Parameters
    ----------
    column : str, default="revenue"
        The value column to rank customers by.
    n_groups : int, default=10
        Number of groups (10 = deciles, 5 = quintiles ...).
    output_name : str, default="segment"
        Name of the output Series.

    Attributes
    ----------
    cut_points_ : numpy.ndarray of float, shape (n_groups - 1,)
        Inner cut points in increasing order.
    categories_ : tuple of int
        ``(1, ..., n_groups)``; 1 holds the highest values.
    counts_ : numpy.ndarray of int, shape (n_groups,)
        Customers per group in the fitting view.
    totals_ : numpy.ndarray of float, shape (n_groups,)
        Sum of ``column`` per group in the fitting view.

    Examples
    --------
    >>> from crmkit.testing import make_customer_view
    >>> view = make_customer_view(100, seed=3)
    >>> deciles = DecileSegmenter().fit(view)
    >>> d = deciles.describe()
    >>> d.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['n_customers', 'customer_share', 'cum_customer_share', 'value',
     'value_share', 'cum_value_share', 'lower', 'upper']
    >>> round(float(d["cum_value_share"].iloc[1]), 3)  # the top 20 % hold this share
    0.516
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "column": [COLUMN_NAME],
        "n_groups": [Interval("int", 2, 1000)],
        "output_name": OUTPUT_NAME_CONSTRAINT,
    }

    def __init__(
        self, *, column: str = "revenue", n_groups: int = 10, output_name: str = "segment"
    ) -> None:
        self.column = column
        self.n_groups = n_groups
        self.output_name = output_name

    @property
    def requires(self) -> tuple[str, ...]:
        """The value column.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> DecileSegmenter(column="clv").requires
        ('clv',)
        """
        return (self.column,)

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn the cut points and each group's size and value from a view.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with ``column`` (at least one row).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters.
        SchemaError
            For a missing, non-numeric, missing-valued or infinite column.

        Warns
        -----
        DataWarning
            When the column's total is not positive: value shares are then
            undefined and reported as NaN.

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> DecileSegmenter(n_groups=4).fit(make_customer_view(40)).cut_points_.shape
        (3,)
        """
        self._validate_params()
        view = self._check_view(view, min_customers=1)
        values = view[self.column].to_numpy(dtype=np.float64)
        self.cut_points_ = quantile_edges(values, self.n_groups)
        self.categories_ = tuple(range(1, self.n_groups + 1))
        codes = self._codes(view)
        self.counts_ = np.bincount(codes, minlength=self.n_groups).astype(np.int64)
        self.totals_ = np.bincount(codes, weights=values, minlength=self.n_groups)
        if not self.totals_.sum() > 0:
            warnings.warn(
                f"DecileSegmenter: the total of {self.column!r} is {self.totals_.sum():g} "
                "(not positive); value shares are undefined and reported as NaN",
                DataWarning,
                stacklevel=2,
            )
        return self

    def _codes(self, view: pd.DataFrame) -> np.ndarray:
        values = view[self.column].to_numpy(dtype=np.float64)
        return (self.n_groups - 1) - bin_index(values, self.cut_points_)

    def _reasons(self, view: pd.DataFrame, codes: np.ndarray) -> Any:
        n = self.n_groups
        edges = [format_number(e) for e in self.cut_points_]
        suffixes = []
        for code in range(n):
            group, bin_ = code + 1, n - 1 - code  # group g holds bin n - g
            share = f"{percent(code / n)}-{percent(group / n)}" if code else percent(1 / n)
            if bin_ == n - 1:
                where = f"> {edges[-1]}"
            elif bin_ == 0:
                where = f"<= {edges[0]}"
                share = f"bottom {percent(1 / n)}"
            else:
                where = f"> {edges[bin_ - 1]} and <= {edges[bin_]}"
            top = "" if share.startswith("bottom") else "top "
            suffixes.append(f" ({top}{share} %, {where})")
        parts = [
            pick([f"{g}: {self.column} " for g in self.categories_], codes),
            number_texts(view[self.column].to_numpy(dtype=np.float64)),
            pick(suffixes, codes),
        ]
        return join_texts(parts, len(codes))

    def _describe(self) -> pd.DataFrame:
        n = self.n_groups
        counts = self.counts_
        total_value = float(self.totals_.sum())
        if total_value > 0:
            value_share = self.totals_ / total_value
        else:
            value_share = np.full(n, np.nan)
        customer_share = counts / counts.sum()
        # group g (code g-1) holds bin n-g: (edges[n-g-1], edges[n-g]]
        edges = np.concatenate(([-np.inf], self.cut_points_, [np.inf]))
        bins = (n - 1) - np.arange(n)
        result: pd.DataFrame = pd.DataFrame(
            {
                "n_customers": counts,
                "customer_share": customer_share,
                "cum_customer_share": np.cumsum(customer_share),
                "value": self.totals_,
                "value_share": value_share,
                "cum_value_share": np.cumsum(value_share),
                "lower": edges[bins],
                "upper": edges[bins + 1],
            },
            index=pd.Index(list(self.categories_), name=self.output_name),
        )
        return result

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "categories_"):
            return None
        return {"cut_points": self.cut_points_, "counts": self.counts_, "totals": self.totals_}

    def _set_state(self, state: dict[str, Any]) -> None:
        self.cut_points_ = np.asarray(state["cut_points"], dtype=np.float64)
        self.counts_ = np.asarray(state["counts"], dtype=np.int64)
        self.totals_ = np.asarray(state["totals"], dtype=np.float64)
        self.categories_ = tuple(range(1, len(self.counts_) + 1))
