"""Shared machinery of crmkit's segmenters: validation, labels, quantile cuts."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import NON_EMPTY_STR, Constraint
from crmkit.plugins import REASONS_SUFFIX, PluginBase, validate_view

__all__ = ["SegmenterBase", "quantile_edges", "bin_index", "OUTPUT_NAME_CONSTRAINT"]

#: Constraint of every segmenter's ``output_name`` parameter.
OUTPUT_NAME_CONSTRAINT: list[Constraint] = [NON_EMPTY_STR]


def quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner cut points splitting ``values`` into ``n_bins`` equal-frequency bins.

    Parameters
    ----------
    values : numpy.ndarray of float, shape (n_customers,)
        Finite values, at least one.
    n_bins : int
        Number of bins (>= 1).

    Returns
    -------
    numpy.ndarray of float, shape (n_bins - 1,)
        The quantiles at ``1/n_bins, ..., (n_bins-1)/n_bins`` (linear
        interpolation, as :func:`pandas.qcut` uses). They may coincide when
        values tie.

    Examples
    --------
    >>> quantile_edges(np.arange(1.0, 11.0), 2)
    array([5.5])
    """
    levels = np.arange(1, n_bins, dtype=np.float64) / n_bins
    return np.asarray(np.quantile(values, levels), dtype=np.float64)


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """0-based bin of each value; bins are right-closed like :func:`pandas.qcut`.

    A value equal to a cut point goes to the lower bin, so equal values always
    share a bin; when ties make cut points coincide, the bins between them
    stay empty rather than splitting equal customers.

    Parameters
    ----------
    values : numpy.ndarray of float
        Values to bin (outside the fitted range they go to the first or last
        bin).
    edges : numpy.ndarray of float, shape (n_bins - 1,)
        Sorted inner cut points, from :func:`quantile_edges`.

    Returns
    -------
    numpy.ndarray of int
        Bin numbers in ``0 .. n_bins - 1``.

    Examples
    --------
    >>> bin_index(np.array([1.0, 5.5, 6.0, 99.0]), np.array([5.5]))
    array([0, 0, 1, 1])
    """
    if len(edges) > 32:
        return np.searchsorted(edges, values, side="left").astype(np.intp)
    # a few cut points: counting the edges below each value is faster than a
    # binary search per value, and gives the same bins
    out = np.zeros(len(values), dtype=np.intp)
    for edge in edges:
        out += values > edge
    return out


class SegmenterBase(PluginBase):
    """Base of crmkit's segmenters: ``assign``/``describe`` around ``_codes``.

    Subclasses define ``__init__`` (with an ``output_name`` parameter),
    ``requires``, ``fit`` (setting ``categories_``), ``_codes`` (category
    codes of each customer), ``_reasons`` (the reason text of each customer,
    from the view and the codes; or ``_explain`` for codes and reasons in one
    pass) and ``_describe``; ``_get_state``/``_set_state`` persist the
    fitted state.

    Examples
    --------
    >>> from crmkit.segmentation import DecileSegmenter
    >>> issubclass(DecileSegmenter, SegmenterBase)
    True
    """

    output_name: str
    categories_: tuple[Any, ...]
    #: Numeric columns that may hold missing values.
    _nullable: ClassVar[tuple[str, ...]] = ()

    @property
    def provides(self) -> tuple[str, ...]:
        """The single output column: ``(output_name,)``.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> from crmkit.segmentation import RFMSegmenter
        >>> RFMSegmenter(output_name="rfm_segment").provides
        ('rfm_segment',)
        """
        return (self.output_name,)

    def _numeric(self) -> tuple[str, ...]:
        return self.requires

    def _check_view(self, view: object, min_customers: int) -> pd.DataFrame:
        return validate_view(
            view,
            type(self).__name__,
            required=self.requires,
            numeric=self._numeric(),
            nullable=self._nullable,
            min_customers=min_customers,
        )

    def _codes(self, view: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    def _describe(self) -> pd.DataFrame:
        raise NotImplementedError  # pragma: no cover

    def _series(self, codes: np.ndarray, index: pd.Index) -> pd.Series:
        categories = pd.Index(list(self.categories_))
        labels = pd.Categorical.from_codes(codes, categories=categories)
        result: pd.Series = pd.Series(labels, index=index, name=self.output_name)
        return result

    def assign(self, view: pd.DataFrame) -> pd.Series:
        """Label every customer of ``view`` with its segment.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view (indexed by customer id) with the ``requires``
            columns.

        Returns
        -------
        pandas.Series
            Categorical with the fitted categories, index ``view.index``,
            name ``output_name``; never missing.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When a required column is missing or holds invalid values.

        Examples
        --------
        >>> from crmkit.segmentation import DecileSegmenter
        >>> from crmkit.testing import make_customer_view
        >>> view = make_customer_view(30)
        >>> DecileSegmenter(n_groups=3).fit(view).assign(view).value_counts().sort_index()
        segment
        1    10
        2    10
        3    10
        Name: count, dtype: int64
        """
        check_is_fitted(self, "categories_")
        view = self._check_view(view, min_customers=0)
        return self._series(self._codes(view), view.index)

    @property
    def reasons_name(self) -> str:
        """Name of the reasons column: ``output_name`` + ``"_reasons"``.

        Returns
        -------
        str

        Examples
        --------
        >>> from crmkit.segmentation import PortfolioSegmenter
        >>> PortfolioSegmenter(output_name="portfolio").reasons_name
        'portfolio_reasons'
        """
        return f"{self.output_name}{REASONS_SUFFIX}"

    def _reasons(self, view: pd.DataFrame, codes: np.ndarray) -> Any:
        raise NotImplementedError  # pragma: no cover

    def _explain(self, view: pd.DataFrame) -> tuple[np.ndarray, Any]:
        codes = self._codes(view)
        return codes, self._reasons(view, codes)

    def explain(self, view: pd.DataFrame) -> pd.DataFrame:
        """Label every customer and say why, in one pass.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view (indexed by customer id) with the ``requires``
            columns.

        Returns
        -------
        pandas.DataFrame
            Index ``view.index``; column ``output_name`` (exactly what
            :meth:`assign` returns) and ``reasons_name`` (dtype ``"str"``,
            never missing): the label, the customer's own numbers and the
            fitted thresholds they were compared with. Reasons use only the
            state learned in ``fit``, so a customer's reason is the same in
            any view.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When a required column is missing or holds invalid values.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmkit.segmentation import DecileSegmenter
        >>> view = pd.DataFrame({"revenue": [10.0, 20.0, 30.0, 40.0]},
        ...                     index=pd.Index(list("abcd"), name="customer_id"))
        >>> out = DecileSegmenter(n_groups=2).fit(view).explain(view)
        >>> out.columns.tolist()
        ['segment', 'segment_reasons']
        >>> out.loc["d", "segment_reasons"]
        '1: revenue 40 (top 50 %, > 25)'
        """
        check_is_fitted(self, "categories_")
        view = self._check_view(view, min_customers=0)
        codes, reasons = self._explain(view)
        labels = self._series(codes, view.index)
        result: pd.DataFrame = pd.DataFrame(
            {self.output_name: labels.array, self.reasons_name: reasons}, index=view.index
        )
        return result

    def reasons(self, view: pd.DataFrame) -> pd.Series:
        """Why each customer of ``view`` is in its segment.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.Series
            dtype ``"str"``, index ``view.index``, name ``reasons_name``;
            never missing. See :meth:`explain` (labels and reasons at once).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When a required column is missing or holds invalid values.

        Examples
        --------
        >>> import pandas as pd
        >>> from crmkit.segmentation import KeyAccountSegmenter
        >>> view = pd.DataFrame({"revenue": [700.0, 200.0, 60.0, 40.0]},
        ...                     index=pd.Index(list("abcd"), name="customer_id"))
        >>> KeyAccountSegmenter(share=0.8).fit(view).reasons(view)["c"]
        'other: revenue 60 < 200 (key accounts: the largest customers making 80 % of revenue)'
        """
        reasons: pd.Series = self.explain(view)[self.reasons_name]
        return reasons

    def describe(self) -> pd.DataFrame:
        """Summarise the fitted segments (sizes, rules, centroids ...).

        Returns
        -------
        pandas.DataFrame
            One row per segment, indexed by the segment labels.

        Raises
        ------
        NotFittedError
            Before ``fit``.

        Examples
        --------
        >>> from crmkit.segmentation import DecileSegmenter
        >>> from crmkit.testing import make_customer_view
        >>> DecileSegmenter(n_groups=2).fit(make_customer_view(10)).describe()["n_customers"]
        segment
        1    5
        2    5
        Name: n_customers, dtype: int64
        """
        check_is_fitted(self, "categories_")
        return self._describe()
