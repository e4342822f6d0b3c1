"""Key accounts versus the rest, by a value-share rule or a flag column."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._params import COLUMN_NAME, Constraint, Interval, Options, Predicate
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure
from crmkit.segmentation._base import OUTPUT_NAME_CONSTRAINT, SegmenterBase
from crmkit.segmentation._text import format_number, join_texts, number_texts, percent, pick

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["KeyAccountSegmenter"]


def _is_label_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, str) and v for v in value)
        and value[0] != value[1]
    )


def _flags(view: pd.DataFrame, column: str) -> np.ndarray:
    """Read a key-account flag column as bool; missing values read False."""
    col = view[column]
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.fillna(False).to_numpy(dtype=bool)
    values = col.to_numpy(dtype=object)
    out = np.zeros(len(values), dtype=bool)
    bad = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, (bool, np.bool_)) or (isinstance(v, numbers.Real) and v in (0, 1)):
            out[i] = bool(v)
        else:
            bad[i] = True
    if bad.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=column,
                    check="is not a true/false flag (expected bool or 0/1)",
                    n_failing=int(bad.sum()),
                    rows=tuple(view.index[bad][:5].tolist()),
                    values=tuple(values[bad][:5].tolist()),
                )
            ]
        )
    return out


class KeyAccountSegmenter(SegmenterBase):
    """Splits customers into key accounts and the rest.

    Rules:

    - ``"value_share"``: the largest customers who together make at least
      ``share`` of the (positive) total of ``value_column``;
    - ``"customer_share"``: the top ``share`` of customers by
      ``value_column`` (rounded up to whole customers);
    - ``"flag"``: customers whose ``flag_column`` is true (missing reads
      false).

    The value rules learn a threshold in ``fit``; ``assign`` marks every
    customer at or above it, so customers tied on the threshold are treated
    alike.

    Parameters
    ----------
    rule : {"value_share", "customer_share", "flag"}, default="value_share"
        How key accounts are chosen.
    value_column : str, default="revenue"
        Value column of the value rules.
    share : float, default=0.5
        Share of value (or of customers) in (0, 1].
    flag_column : str, default="key_account"
        Flag column of the ``"flag"`` rule.
    labels : (str, str), default=("key account", "other")
        Names of the two segments.
    output_name : str, default="segment"
        Name of the output Series.

    Attributes
    ----------
    threshold_ : float or None
        Smallest value of a key account (``inf`` when no customer has a
        positive value); None for the flag rule.
    categories_ : tuple of str
        ``labels``.
    counts_ : numpy.ndarray of int, shape (2,)
        Key accounts and others in the fitting view.
    value_totals_ : numpy.ndarray of float, shape (2,)
        Sum of ``value_column`` per segment (zeros for the flag rule).

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"revenue": [700.0, 200.0, 60.0, 40.0]},
    ...                     index=pd.Index(list("abcd"), name="customer_id"))
    >>> KeyAccountSegmenter(share=0.8).fit(view).assign(view).tolist()
    ['key account', 'key account', 'other', 'other']
    """

    _nonfinite_state: ClassVar[frozenset[str]] = frozenset({"threshold"})  # inf: no key account
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "rule": [Options(frozenset({"value_share", "customer_share", "flag"}))],
        "value_column": [COLUMN_NAME],
        "share": [Interval("float", 0, 1, closed="right")],
        "flag_column": [COLUMN_NAME],
        "labels": [Predicate(_is_label_pair, "a pair of two different non-empty names")],
        "output_name": OUTPUT_NAME_CONSTRAINT,
    }

    def __init__(
        self,
        *,
        rule: str = "value_share",
        value_column: str = "revenue",
        share: float = 0.5,
        flag_column: str = "key_account",
        labels: tuple[str, str] = ("key account", "other"),
        output_name: str = "segment",
    ) -> None:
        self.rule = rule
        self.value_column = value_column
        self.share = share
        self.flag_column = flag_column
        self.labels = labels
        self.output_name = output_name

    @property
    def requires(self) -> tuple[str, ...]:
        """The flag column for ``rule="flag"``, else the value column.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> KeyAccountSegmenter(rule="flag").requires
        ('key_account',)
        """
        return (self.flag_column,) if self.rule == "flag" else (self.value_column,)

    def _numeric(self) -> tuple[str, ...]:
        return () if self.rule == "flag" else (self.value_column,)

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn the value threshold of a key account.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` column (at least one row).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            For invalid parameters.
        SchemaError
            For a missing or invalid column.

        Warns
        -----
        DataWarning
            When the value total is not positive: value shares in
            ``describe`` are then NaN (and with ``"value_share"`` nobody is a
            key account).

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> seg = KeyAccountSegmenter(rule="customer_share", share=0.1)
        >>> int(seg.fit(make_customer_view(50)).counts_[0])
        5
        """
        self._validate_params()
        view = self._check_view(view, min_customers=1)
        self.categories_ = tuple(self.labels)
        if self.rule == "flag":
            self.threshold_: float | None = None
            key = _flags(view, self.flag_column)
            self.value_totals_ = np.zeros(2)
        else:
            values = view[self.value_column].to_numpy(dtype=np.float64)
            ranked = np.sort(values)[::-1]
            share = float(self.share)
            positive = np.clip(ranked, 0.0, None)
            total = float(positive.sum())
            if self.rule == "customer_share":
                n_key = max(1, math.ceil(share * len(ranked) - 1e-9))
                self.threshold_ = float(ranked[n_key - 1])
            elif total > 0:
                cum = np.cumsum(positive)
                n_pos = int((ranked > 0).sum())
                n_key = min(int(np.searchsorted(cum, share * total, side="left")) + 1, n_pos)
                self.threshold_ = float(ranked[n_key - 1])
            else:
                self.threshold_ = math.inf
            if not values.sum() > 0:
                warnings.warn(
                    f"KeyAccountSegmenter: the total of {self.value_column!r} is not positive; "
                    + ("nobody is a key account and " if self.rule == "value_share" else "")
                    + "value shares in describe() are NaN",
                    DataWarning,
                    stacklevel=2,
                )
            key = values >= self.threshold_
            self.value_totals_ = np.array([values[key].sum(), values[~key].sum()])
        self.counts_ = np.array([int(key.sum()), int((~key).sum())], dtype=np.int64)
        return self

    def _codes(self, view: pd.DataFrame) -> np.ndarray:
        if self.rule == "flag":
            key = _flags(view, self.flag_column)
        else:
            threshold = math.inf if self.threshold_ is None else self.threshold_
            key = view[self.value_column].to_numpy(dtype=np.float64) >= threshold
        return np.where(key, 0, 1).astype(np.intp)

    def _reasons(self, view: pd.DataFrame, codes: np.ndarray) -> Any:
        key, rest = self.categories_
        if self.rule == "flag":
            missing = view[self.flag_column].isna().to_numpy()
            which = np.where(codes == 0, 0, np.where(missing, 2, 1))
            flag = self.flag_column
            texts = [
                f"{key}: {flag} is true",
                f"{rest}: {flag} is false",
                f"{rest}: {flag} is missing",
            ]
            return join_texts([pick(texts, which)], len(codes))
        column = self.value_column
        share = percent(float(self.share))
        if self.rule == "value_share":
            rule = f"key accounts: the largest customers making {share} % of {column}"
        else:
            rule = f"key accounts: the top {share} % of customers by {column}"
        threshold = math.inf if self.threshold_ is None else self.threshold_
        if math.isinf(threshold):
            rule = f"no key accounts: no customer had a positive {column} when fitted"
        limit = format_number(threshold)
        parts = [
            pick([f"{key}: {column} ", f"{rest}: {column} "], codes),
            number_texts(view[column].to_numpy(dtype=np.float64)),
            pick([f" >= {limit} ({rule})", f" < {limit} ({rule})"], codes),
        ]
        return join_texts(parts, len(codes))

    def _describe(self) -> pd.DataFrame:
        if self.rule == "flag":
            rules = [f"{self.flag_column} is true", f"{self.flag_column} is false or missing"]
        else:
            rules = [
                f"{self.value_column} >= {self.threshold_:.6g}",
                f"{self.value_column} < {self.threshold_:.6g}",
            ]
        frame: pd.DataFrame = pd.DataFrame(
            {
                "rule": rules,
                "n_customers": self.counts_,
                "customer_share": self.counts_ / self.counts_.sum(),
            },
            index=pd.Index(list(self.categories_), name=self.output_name),
        )
        if self.rule != "flag":
            total = float(self.value_totals_.sum())
            frame["value_share"] = self.value_totals_ / total if total > 0 else np.full(2, np.nan)
        return frame

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "categories_"):
            return None
        return {
            "threshold": self.threshold_,
            "counts": self.counts_,
            "value_totals": self.value_totals_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        threshold = state["threshold"]
        self.threshold_ = None if threshold is None else float(threshold)
        self.counts_ = np.asarray(state["counts"], dtype=np.int64)
        self.value_totals_ = np.asarray(state["value_totals"], dtype=np.float64)
        self.categories_ = tuple(self.labels)
