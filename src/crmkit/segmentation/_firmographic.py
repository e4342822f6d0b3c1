"""Firmographic segmentation: size class, industry and purchase-volume band."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import (
    COLUMN_NAME,
    NON_EMPTY_STR,
    Constraint,
    Interval,
    Predicate,
    parameter_error,
)
from crmkit.segmentation._base import (
    OUTPUT_NAME_CONSTRAINT,
    SegmenterBase,
    bin_index,
    quantile_edges,
)
from crmkit.segmentation._text import format_number, join_texts, number_texts, pick

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["FirmographicSegmenter"]

VOLUME = "volume"
_DEFAULT_BAND_NAMES = {2: ("low", "high"), 3: ("low", "medium", "high")}


def _is_names(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) > 0
        and all(isinstance(v, str) and v for v in value)
        and len(set(value)) == len(value)
    )


def _is_bands(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return 2 <= int(value) <= 20
    if not isinstance(value, (tuple, list)) or not value:
        return False
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value):
        return False
    edges = [float(v) for v in value]
    return all(np.isfinite(edges)) and all(a < b for a, b in itertools.pairwise(edges))


class FirmographicSegmenter(SegmenterBase):
    """Segments by company attributes and purchase-volume band (B2B).

    Each customer's label joins the levels of the ``by`` dimensions with
    ``" / "``, e.g. ``"large / manufacturing / high"``. A dimension is any
    attribute column (``size_class``, ``industry``, ``region``,
    ``key_account`` ...) or ``"volume"``: the band of ``volume_column``
    (equal-frequency bands learned in ``fit``, or absolute band edges). A
    missing attribute reads ``missing_label``. The segments are the
    combinations seen in the fitting view with at least ``min_customers``
    customers; every other combination (rare, or new in a later view) is
    ``other_label``, so the categories are fixed at fit time.

    Parameters
    ----------
    by : sequence of str, default=("size_class", "industry", "volume")
        The dimensions, in label order.
    volume_column : str, default="revenue"
        Purchase volume, for the ``"volume"`` dimension.
    volume_bands : int or sequence of float, default=3
        Number of equal-frequency bands, or increasing absolute inner band
        edges (a value on an edge joins the lower band).
    volume_labels : sequence of str or None, default=None
        Band names, lowest first; None gives ``("low", "medium", "high")``
        for 3 bands, ``("low", "high")`` for 2, else ``"band 1"`` ...
    min_customers : int, default=1
        Smallest fitted combination kept as a segment of its own.
    missing_label : str, default="unknown"
        Level for a missing attribute value.
    other_label : str, default="other"
        Segment of the combinations not kept.
    output_name : str, default="segment"
        Name of the output Series.

    Attributes
    ----------
    band_edges_ : numpy.ndarray of float
        Inner volume band edges (empty without a volume dimension).
    categories_ : tuple of str
        The kept combinations (sorted), then ``other_label``.
    counts_ : numpy.ndarray of int
        Customers per category in the fitting view.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"size_class": ["large", "small", "large", None],
    ...                      "industry": ["retail", "it", "retail", "it"],
    ...                      "revenue": [900.0, 10.0, 500.0, 40.0]},
    ...                     index=pd.Index(list("abcd"), name="customer_id"))
    >>> seg = FirmographicSegmenter(volume_bands=2).fit(view)
    >>> seg.assign(view).tolist()
    ['large / retail / high', 'small / it / low', 'large / retail / high', 'unknown / it / low']
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "by": [Predicate(_is_names, "a non-empty sequence of distinct column names")],
        "volume_column": [COLUMN_NAME],
        "volume_bands": [
            Predicate(_is_bands, "an int in 2..20 or an increasing sequence of finite numbers")
        ],
        "volume_labels": [None, Predicate(_is_names, "a sequence of distinct names")],
        "min_customers": [Interval("int", 1, None)],
        "missing_label": [NON_EMPTY_STR],
        "other_label": [NON_EMPTY_STR],
        "output_name": OUTPUT_NAME_CONSTRAINT,
    }

    def __init__(
        self,
        *,
        by: Sequence[str] = ("size_class", "industry", "volume"),
        volume_column: str = "revenue",
        volume_bands: int | Sequence[float] = 3,
        volume_labels: Sequence[str] | None = None,
        min_customers: int = 1,
        missing_label: str = "unknown",
        other_label: str = "other",
        output_name: str = "segment",
    ) -> None:
        self.by = by
        self.volume_column = volume_column
        self.volume_bands = volume_bands
        self.volume_labels = volume_labels
        self.min_customers = min_customers
        self.missing_label = missing_label
        self.other_label = other_label
        self.output_name = output_name

    @property
    def requires(self) -> tuple[str, ...]:
        """The attribute columns of ``by`` and, for ``"volume"``, the volume column.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> FirmographicSegmenter(by=("industry", "volume"), volume_column="margin").requires
        ('industry', 'margin')
        """
        cols = [self.volume_column if d == VOLUME else d for d in self.by]
        return tuple(dict.fromkeys(cols))

    def _numeric(self) -> tuple[str, ...]:
        return (self.volume_column,) if VOLUME in self.by else ()

    def _n_bands(self) -> int:
        bands = self.volume_bands
        if isinstance(bands, Sequence):
            return len(bands) + 1
        return int(bands)

    def _band_names(self) -> tuple[str, ...]:
        n = self._n_bands()
        if self.volume_labels is not None:
            return tuple(self.volume_labels)
        return _DEFAULT_BAND_NAMES.get(n, tuple(f"band {i}" for i in range(1, n + 1)))

    def _levels(self, view: pd.DataFrame) -> list[np.ndarray]:
        """Each dimension's level per customer (attribute text or volume band)."""
        parts: list[np.ndarray] = []
        for dim in self.by:
            if dim == VOLUME:
                values = view[self.volume_column].to_numpy(dtype=np.float64)
                names = np.asarray(self._band_names(), dtype=object)
                parts.append(names[bin_index(values, self.band_edges_)])
            else:
                parts.append(self._attribute(view[dim]))
        return parts

    def _attribute(self, col: pd.Series) -> np.ndarray:
        """An attribute's level per customer: ``str`` of the value, or ``missing_label``."""
        if isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.infer_dtype(
            col, skipna=True
        ) in ("string", "empty"):
            # values that are all text: each distinct value converted once
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
            texts = np.asarray([*(str(u) for u in uniques), self.missing_label], dtype=object)
            level: np.ndarray = texts[codes]  # code -1 (missing) takes the last
            return level
        text = col.astype(object).where(col.notna(), self.missing_label)
        return np.asarray([str(v) for v in text], dtype=object)

    def _combinations(
        self, view: pd.DataFrame, levels: list[np.ndarray] | None = None
    ) -> pd.Series:
        parts = self._levels(view) if levels is None else levels
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + " / " + part
        result: pd.Series = pd.Series(joined, index=view.index, dtype=object)
        return result

    def _band_texts(self) -> list[str]:
        """Each volume band's name and range, e.g. ``" (high: > 800)"``."""
        edges = [format_number(e) for e in self.band_edges_]
        texts = []
        for b, name in enumerate(self._band_names()):
            if b == 0:
                where = f"<= {edges[0]}"
            elif b == len(edges):
                where = f"> {edges[-1]}"
            else:
                where = f"> {edges[b - 1]} and <= {edges[b]}"
            texts.append(f" ({name}: {where})")
        return texts

    def _explain(self, view: pd.DataFrame) -> tuple[np.ndarray, Any]:
        n = len(view)
        levels = self._levels(view)
        combos = self._combinations(view, levels)
        codes = self._lookup(combos)
        other = len(self.categories_) - 1
        rule = " is not a fitted segment"
        if self.min_customers > 1:
            rule += f" (segments need >= {self.min_customers} customers in the fitting view)"
        is_other = codes == other
        parts: list[Any] = [
            pick([f"{c}: " for c in self.categories_], codes),
            pd.Series(pd.array(combos.to_numpy(), dtype="str")).where(pd.Series(is_other), ""),
            pick(["", f"{rule}; "], is_other.astype(np.intp)),
        ]
        for i, dim in enumerate(self.by):
            parts.append(", " if i else "")
            if dim == VOLUME:
                values = view[self.volume_column].to_numpy(dtype=np.float64)
                parts += [
                    f"{self.volume_column} ",
                    number_texts(values),
                    pick(self._band_texts(), bin_index(values, self.band_edges_)),
                ]
            else:
                missing = view[dim].isna().to_numpy()
                text = pd.Series(pd.array(list(levels[i]), dtype="str"))
                parts += [f"{dim} ", text, pick(["", " (missing)"], missing.astype(np.intp))]
        return codes, join_texts(parts, n)

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn volume bands and the combinations that form segments.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns (at least one row).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters, e.g. ``volume_labels`` of the wrong length.
        SchemaError
            For missing columns or an invalid volume column.

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> seg = FirmographicSegmenter(by=("size_class",)).fit(make_customer_view(40))
        >>> seg.categories_[-1]
        'other'
        """
        self._validate_params()
        if VOLUME in self.by and len(self._band_names()) != self._n_bands():
            raise parameter_error(
                "FirmographicSegmenter",
                "volume_labels",
                f"None or a sequence that must name {self._n_bands()} bands, one label per "
                "band of 'volume_bands'",
                self.volume_labels,
            )
        view = self._check_view(view, min_customers=1)
        if VOLUME not in self.by:
            self.band_edges_ = np.zeros(0)
        elif isinstance(self.volume_bands, Sequence):
            self.band_edges_ = np.asarray(self.volume_bands, dtype=np.float64)
        else:
            values = view[self.volume_column].to_numpy(dtype=np.float64)
            self.band_edges_ = quantile_edges(values, int(self.volume_bands))
        combos = self._combinations(view)
        sizes = combos.value_counts()
        kept = sorted(str(c) for c, n in sizes.items() if n >= self.min_customers)
        if self.other_label in kept:
            raise parameter_error(
                "FirmographicSegmenter",
                "other_label",
                "a label no segment of the data has (it equals a segment's name; choose another)",
                self.other_label,
            )
        self.categories_ = (*kept, self.other_label)
        codes = self._codes(view)
        self.counts_ = np.bincount(codes, minlength=len(self.categories_)).astype(np.int64)
        return self

    def _codes(self, view: pd.DataFrame) -> np.ndarray:
        return self._lookup(self._combinations(view))

    def _lookup(self, combos: pd.Series) -> np.ndarray:
        lookup = pd.Index(self.categories_[:-1], dtype=object)
        codes: np.ndarray = lookup.get_indexer(combos.to_numpy())
        codes[codes < 0] = len(self.categories_) - 1
        return codes.astype(np.intp)

    def _describe(self) -> pd.DataFrame:
        result: pd.DataFrame = pd.DataFrame(
            {
                "n_customers": self.counts_,
                "customer_share": self.counts_ / self.counts_.sum(),
            },
            index=pd.Index(list(self.categories_), name=self.output_name),
        )
        return result

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "categories_"):
            return None
        return {
            "band_edges": self.band_edges_,
            "categories": tuple(self.categories_),
            "counts": self.counts_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.band_edges_ = np.asarray(state["band_edges"], dtype=np.float64)
        self.categories_ = tuple(str(c) for c in state["categories"])
        self.counts_ = np.asarray(state["counts"], dtype=np.int64)
