"""Customer portfolios A-D: a value x potential grid."""

from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import COLUMN_NAME, Constraint, Options, Predicate, parameter_error
from crmkit.exceptions import DataWarning
from crmkit.segmentation._base import OUTPUT_NAME_CONSTRAINT, SegmenterBase
from crmkit.segmentation._text import format_number, join_texts, number_texts, percent, pick

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["PORTFOLIOS", "PortfolioSegmenter"]

#: The portfolios and what each means for customer care.
PORTFOLIOS: dict[str, str] = {
    "A": "high value: contract customers with a care and activity plan",
    "B": "room to grow purchases: high potential, not yet high value",
    "C": "smaller customers, contacted as needed and developed toward B",
    "D": "low value and low potential: not actively invested in, watched for growth",
}


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
        and all(np.isfinite(float(v)) for v in value)
        and float(value[0]) <= float(value[1])
    )


class PortfolioSegmenter(SegmenterBase):
    """Portfolios A/B/C/D on a value x potential grid (care models per portfolio).

    With value thresholds ``v_low <= v_high`` and potential thresholds
    ``p_low <= p_high``:

    - **A** ``value >= v_high`` — high value, contract customers;
    - **B** ``value < v_high`` and ``potential >= p_high`` — room to grow;
    - **D** ``value < v_low`` and ``potential < p_low`` — low value, watched;
    - **C** everyone else — smaller customers, developed toward B.

    The four rules cover every customer exactly once. Thresholds are
    quantiles of the fitting view (``thresholds="quantile"``) or absolute
    values (``"absolute"``).

    Parameters
    ----------
    value_column : str, default="revenue"
        Current value (revenue, margin ...).
    potential_column : str, default="clv"
        Potential (predicted CLV, a share-of-wallet gap, expected purchases ...).
    thresholds : {"quantile", "absolute"}, default="quantile"
        How ``value_cuts`` and ``potential_cuts`` are read.
    value_cuts : (float, float), default=(0.5, 0.8)
        ``(low, high)``: quantile levels in [0, 1] or absolute values.
    potential_cuts : (float, float), default=(0.5, 0.8)
        ``(low, high)`` for the potential column.
    output_name : str, default="segment"
        Name of the output Series.

    Attributes
    ----------
    thresholds_ : dict of str to float
        ``value_low``, ``value_high``, ``potential_low``, ``potential_high``
        in the columns' units.
    categories_ : tuple of str
        ``("A", "B", "C", "D")``.
    counts_ : numpy.ndarray of int, shape (4,)
        Customers per portfolio in the fitting view.
    value_totals_ : numpy.ndarray of float, shape (4,)
        Sum of ``value_column`` per portfolio in the fitting view.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"revenue": [900.0, 100.0, 300.0, 10.0],
    ...                      "clv": [800.0, 2000.0, 150.0, 5.0]},
    ...                     index=pd.Index(["a", "b", "c", "d"], name="customer_id"))
    >>> seg = PortfolioSegmenter(thresholds="absolute", value_cuts=(50, 500),
    ...                          potential_cuts=(50, 1000)).fit(view)
    >>> seg.assign(view).tolist()
    ['A', 'B', 'C', 'D']
    >>> seg.reasons(view)["b"]
    'B: revenue 100 (50 to 500) and clv 2,000 (>= 1,000)'
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "value_column": [COLUMN_NAME],
        "potential_column": [COLUMN_NAME],
        "thresholds": [Options(frozenset({"quantile", "absolute"}))],
        "value_cuts": [Predicate(_is_pair, "a pair (low, high) of finite numbers, low <= high")],
        "potential_cuts": [
            Predicate(_is_pair, "a pair (low, high) of finite numbers, low <= high")
        ],
        "output_name": OUTPUT_NAME_CONSTRAINT,
    }

    def __init__(
        self,
        *,
        value_column: str = "revenue",
        potential_column: str = "clv",
        thresholds: str = "quantile",
        value_cuts: tuple[float, float] = (0.5, 0.8),
        potential_cuts: tuple[float, float] = (0.5, 0.8),
        output_name: str = "segment",
    ) -> None:
        self.value_column = value_column
        self.potential_column = potential_column
        self.thresholds = thresholds
        self.value_cuts = value_cuts
        self.potential_cuts = potential_cuts
        self.output_name = output_name

    @property
    def requires(self) -> tuple[str, ...]:
        """The value and potential columns.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> PortfolioSegmenter(potential_column="wallet_gap").requires
        ('revenue', 'wallet_gap')
        """
        return tuple(dict.fromkeys((self.value_column, self.potential_column)))

    def _columns(self, view: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        value = view[self.value_column].to_numpy(dtype=np.float64)
        potential = view[self.potential_column].to_numpy(dtype=np.float64)
        return value, potential

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn the value and potential thresholds.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with both columns (at least one row).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters (quantile cuts outside [0, 1] ...).
        SchemaError
            For missing, non-numeric, missing-valued or infinite columns.

        Warns
        -----
        DataWarning
            When the value column's total is not positive (value shares in
            ``describe`` are then NaN).

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> seg = PortfolioSegmenter().fit(make_customer_view(50, requires=("clv",)))
        >>> sorted(seg.thresholds_)
        ['potential_high', 'potential_low', 'value_high', 'value_low']
        """
        self._validate_params()
        if self.thresholds == "quantile":
            for name in ("value_cuts", "potential_cuts"):
                cuts = getattr(self, name)
                if not all(0.0 <= float(c) <= 1.0 for c in cuts):
                    raise parameter_error(
                        "PortfolioSegmenter",
                        name,
                        "a pair of quantile levels in [0, 1] when thresholds='quantile'",
                        cuts,
                    )
        view = self._check_view(view, min_customers=1)
        value, potential = self._columns(view)
        if self.thresholds == "quantile":
            v = np.quantile(value, [float(c) for c in self.value_cuts])
            p = np.quantile(potential, [float(c) for c in self.potential_cuts])
        else:
            v = np.asarray(self.value_cuts, dtype=np.float64)
            p = np.asarray(self.potential_cuts, dtype=np.float64)
        self.thresholds_ = {
            "value_low": float(v[0]),
            "value_high": float(v[1]),
            "potential_low": float(p[0]),
            "potential_high": float(p[1]),
        }
        self.categories_ = tuple(PORTFOLIOS)
        codes = self._codes(view)
        self.counts_ = np.bincount(codes, minlength=4).astype(np.int64)
        self.value_totals_ = np.bincount(codes, weights=value, minlength=4)
        if not self.value_totals_.sum() > 0:
            warnings.warn(
                f"PortfolioSegmenter: the total of {self.value_column!r} is not positive; "
                "value shares in describe() are undefined and reported as NaN",
                DataWarning,
                stacklevel=2,
            )
        return self

    def _codes(self, view: pd.DataFrame) -> np.ndarray:
        value, potential = self._columns(view)
        t = self.thresholds_
        codes = np.full(len(value), 2, dtype=np.intp)  # C
        codes[(value < t["value_low"]) & (potential < t["potential_low"])] = 3  # D
        codes[(value < t["value_high"]) & (potential >= t["potential_high"])] = 1  # B
        codes[value >= t["value_high"]] = 0  # A
        return codes

    def _bands(self, which: str) -> list[str]:
        """Texts of the bottom, middle and top band of the value or potential column."""
        low, high = self.thresholds_[f"{which}_low"], self.thresholds_[f"{which}_high"]
        lo_text, hi_text = format_number(low), format_number(high)
        if self.thresholds == "quantile":
            cuts = self.value_cuts if which == "value" else self.potential_cuts
            return [
                f" (bottom {percent(float(cuts[0]))} %, < {lo_text})",
                f" (middle, {lo_text} to {hi_text})",
                f" (top {percent(1.0 - float(cuts[1]))} %, >= {hi_text})",
            ]
        return [f" (< {lo_text})", f" ({lo_text} to {hi_text})", f" (>= {hi_text})"]

    def _reasons(self, view: pd.DataFrame, codes: np.ndarray) -> Any:
        value, potential = self._columns(view)
        t = self.thresholds_

        def band(x: np.ndarray, which: str) -> np.ndarray:
            out = np.where(x >= t[f"{which}_high"], 2, 1)
            out[(x < t[f"{which}_low"]) & (out == 1)] = 0
            return out

        parts = [
            pick([f"{c}: {self.value_column} " for c in self.categories_], codes),
            number_texts(value),
            pick(self._bands("value"), band(value, "value")),
            f" and {self.potential_column} ",
            number_texts(potential),
            pick(self._bands("potential"), band(potential, "potential")),
        ]
        return join_texts(parts, len(codes))

    def _describe(self) -> pd.DataFrame:
        t = self.thresholds_
        v, p = self.value_column, self.potential_column
        rules = [
            f"{v} >= {t['value_high']:.6g}",
            f"{v} < {t['value_high']:.6g} and {p} >= {t['potential_high']:.6g}",
            "otherwise",
            f"{v} < {t['value_low']:.6g} and {p} < {t['potential_low']:.6g}",
        ]
        total = float(self.value_totals_.sum())
        value_share = self.value_totals_ / total if total > 0 else np.full(4, np.nan)
        result: pd.DataFrame = pd.DataFrame(
            {
                "description": list(PORTFOLIOS.values()),
                "rule": rules,
                "n_customers": self.counts_,
                "customer_share": self.counts_ / self.counts_.sum(),
                "value_share": value_share,
            },
            index=pd.Index(list(self.categories_), name=self.output_name),
        )
        return result

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "categories_"):
            return None
        return {
            "thresholds": dict(self.thresholds_),
            "counts": self.counts_,
            "value_totals": self.value_totals_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.thresholds_ = {str(k): float(v) for k, v in state["thresholds"].items()}
        self.counts_ = np.asarray(state["counts"], dtype=np.int64)
        self.value_totals_ = np.asarray(state["value_totals"], dtype=np.float64)
        self.categories_ = tuple(PORTFOLIOS)
