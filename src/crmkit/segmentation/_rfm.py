"""RFM segmentation: recency, frequency and monetary scores and named segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit._params import (
    COLUMN_NAME,
    Constraint,
    Interval,
    Predicate,
    parameter_error,
    validate_args,
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

__all__ = ["RFM_RULES", "RFMSegmenter"]

Rule = tuple[str, tuple[int, int], tuple[int, int], tuple[int, int]]

#: The default rule table for 5 bins: (segment, (R lo, R hi), (F lo, F hi),
#: (M lo, M hi)), score ranges inclusive, 5 = best. The first matching rule
#: wins; together the rules cover all 125 cells.
RFM_RULES: tuple[Rule, ...] = (
    ("champions", (4, 5), (4, 5), (4, 5)),
    ("can't lose", (1, 2), (4, 5), (4, 5)),
    ("loyal", (3, 5), (4, 5), (1, 5)),
    ("at risk", (1, 2), (3, 5), (1, 5)),
    ("potential loyalists", (4, 5), (2, 3), (1, 5)),
    ("new", (5, 5), (1, 1), (1, 5)),
    ("promising", (4, 4), (1, 1), (1, 5)),
    ("need attention", (3, 3), (2, 3), (1, 5)),
    ("about to sleep", (3, 3), (1, 1), (1, 5)),
    ("hibernating", (2, 2), (1, 2), (1, 5)),
    ("lost", (1, 1), (1, 2), (1, 5)),
)

_DIMENSIONS = ("R", "F", "M")


def _is_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    )


def _is_rule(rule: Any) -> bool:
    return (
        isinstance(rule, (tuple, list))
        and len(rule) == 4
        and isinstance(rule[0], str)
        and bool(rule[0])
        and all(_is_pair(v) for v in rule[1:])
    )


def _is_rule_table(rules: Any) -> bool:
    return (
        isinstance(rules, Sequence)
        and not isinstance(rules, (str, bytes))
        and bool(rules)
        and all(_is_rule(r) for r in rules)
    )


#: The shape of a rule table (the ranges' bounds depend on ``bins``).
RULE_TABLE = Predicate(
    _is_rule_table,
    "a non-empty sequence of rules, each (name, r_range, f_range, m_range) with a "
    "non-empty name and ranges (low, high) of ints",
)


def _range(rule_name: str, dim: str, value: Any, bins: int) -> tuple[int, int]:
    low, high = int(value[0]), int(value[1])
    if not 1 <= low <= high <= bins:
        hint = "; the default rules are written for bins=5, pass your own rules"
        hint = hint if bins != 5 else ""
        raise parameter_error(
            "RFMSegmenter",
            "rules",
            f"ranges (low, high) with 1 <= low <= high <= bins={bins}{hint}; "
            f"rule {rule_name!r} has the {dim} range",
            value,
        )
    return low, high


@validate_args({"rules": [RULE_TABLE], "bins": [Interval("int", 2, 9)]}, owner="RFMSegmenter")
def compile_rules(rules: Sequence[Any], bins: int) -> tuple[tuple[str, ...], np.ndarray]:
    """Turn a rule table into segment names and a cell -> segment lookup.

    Parameters
    ----------
    rules : sequence of (name, (r_lo, r_hi), (f_lo, f_hi), (m_lo, m_hi))
        Inclusive score ranges; the first matching rule wins.
    bins : int
        Number of score levels.

    Returns
    -------
    names : tuple of str
        Segment names in order of first appearance.
    table : numpy.ndarray of int, shape (bins, bins, bins)
        Code of the segment of each (R-1, F-1, M-1) cell.

    Raises
    ------
    InvalidParameterError
        For a malformed rule, a range outside ``1..bins`` or a cell no rule
        covers.

    Examples
    --------
    >>> names, table = compile_rules(RFM_RULES, 5)
    >>> names[table[4, 4, 4]], names[table[0, 0, 0]]
    ('champions', 'lost')
    """
    names: dict[str, int] = {}
    table = np.full((bins, bins, bins), -1, dtype=np.intp)
    for rule in rules:
        name = rule[0]
        (r0, r1), (f0, f1), (m0, m1) = (
            _range(name, dim, value, bins) for dim, value in zip(_DIMENSIONS, rule[1:], strict=True)
        )
        code = names.setdefault(name, len(names))
        block = table[r0 - 1 : r1, f0 - 1 : f1, m0 - 1 : m1]
        block[block < 0] = code
    uncovered = np.argwhere(table < 0)
    if uncovered.size:
        r, f, m = (int(v) + 1 for v in uncovered[0])
        raise parameter_error(
            "RFMSegmenter",
            "rules",
            f"rules that cover every (R, F, M) cell; the table leaves {len(uncovered)} cells "
            f"without a segment, e.g. R={r}, F={f}, M={m}",
            rules,
        )
    return tuple(names), table


class RFMSegmenter(SegmenterBase):
    """Recency, frequency and monetary scores by quantile, and named segments.

    Each dimension is scored 1 (worst) to ``bins`` (best) by equal-frequency
    cut points learned in ``fit`` and applied in ``assign``. R is scored on
    the time since the last purchase (lower is better): ``days_since_last``
    by default, or ``T - recency`` when ``recency_column`` is None. F and M
    are scored on ``frequency_column`` and ``monetary_column`` (higher is
    better). Bins are right-closed as in :func:`pandas.qcut`: a value on a cut
    point takes the lower bin, so equal values always share a score (ties are
    never split, and scores between coinciding cut points stay unused). The
    (R, F, M) cell maps to a named segment through a rule table.

    Parameters
    ----------
    bins : int, default=5
        Score levels per dimension (2 to 9).
    recency_column : str or None, default="days_since_last"
        Time since the last purchase; None computes ``T - recency``.
    frequency_column : str, default="frequency"
        Purchase frequency column.
    monetary_column : str, default="revenue"
        Spend column.
    rules : sequence of (name, (r_lo, r_hi), (f_lo, f_hi), (m_lo, m_hi)) or None, default=None
        The segment rule table (inclusive score ranges, first match wins,
        every cell must be covered). None uses :data:`RFM_RULES`: champions,
        can't lose, loyal, at risk, potential loyalists, new, promising, need
        attention, about to sleep, hibernating, lost (written for 5 bins).
    output_name : str, default="segment"
        Name of the output Series.

    Attributes
    ----------
    cut_points_ : dict of str to numpy.ndarray
        ``{"R": ..., "F": ..., "M": ...}``: the inner cut points (shape
        ``(bins - 1,)``) of time since last purchase, frequency and spend.
    categories_ : tuple of str
        Segment names, in rule-table order.
    cell_segments_ : numpy.ndarray of int, shape (bins, bins, bins)
        Segment code of each (R-1, F-1, M-1) cell.
    counts_ : numpy.ndarray of int
        Customers per segment in the fitting view.

    References
    ----------
    .. [1] Hughes, A. M. (1994). Strategic Database Marketing. Probus.

    Examples
    --------
    >>> from crmkit.testing import make_customer_view
    >>> view = make_customer_view(200, seed=1)
    >>> rfm = RFMSegmenter().fit(view)
    >>> rfm.scores(view).columns.tolist()
    ['r_score', 'f_score', 'm_score', 'rfm_cell', 'segment']
    >>> rfm.assign(view).notna().all()
    np.True_
    """

    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {
        "bins": [Interval("int", 2, 9)],
        "recency_column": [COLUMN_NAME, None],
        "frequency_column": [COLUMN_NAME],
        "monetary_column": [COLUMN_NAME],
        "rules": [None, RULE_TABLE],
        "output_name": OUTPUT_NAME_CONSTRAINT,
    }

    def __init__(
        self,
        *,
        bins: int = 5,
        recency_column: str | None = "days_since_last",
        frequency_column: str = "frequency",
        monetary_column: str = "revenue",
        rules: Sequence[Rule] | None = None,
        output_name: str = "segment",
    ) -> None:
        self.bins = bins
        self.recency_column = recency_column
        self.frequency_column = frequency_column
        self.monetary_column = monetary_column
        self.rules = rules
        self.output_name = output_name

    @property
    def requires(self) -> tuple[str, ...]:
        """The recency (or ``T`` and ``recency``), frequency and spend columns.

        Returns
        -------
        tuple of str

        Examples
        --------
        >>> RFMSegmenter(recency_column=None).requires
        ('T', 'recency', 'frequency', 'revenue')
        """
        recency = ("T", "recency") if self.recency_column is None else (self.recency_column,)
        return (*recency, self.frequency_column, self.monetary_column)

    def _values(self, view: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        def col(name: str) -> np.ndarray:
            return view[name].to_numpy(dtype=np.float64)

        if self.recency_column is None:
            since = col("T") - col("recency")
        else:
            since = col(self.recency_column)
        return since, col(self.frequency_column), col(self.monetary_column)

    def _scores(self, view: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._score_values(*self._values(view))

    def _score_values(
        self, since: np.ndarray, freq: np.ndarray, money: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cuts = self.cut_points_
        r = self.bins - bin_index(since, cuts["R"])
        f = bin_index(freq, cuts["F"]) + 1
        m = bin_index(money, cuts["M"]) + 1
        return r, f, m

    def fit(self, view: pd.DataFrame) -> Self:
        """Learn the score cut points from a customer view.

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
            For invalid parameters or a rule table that leaves cells uncovered.
        SchemaError
            For missing columns, non-numeric, missing or infinite values.

        Examples
        --------
        >>> from crmkit.testing import make_customer_view
        >>> RFMSegmenter(bins=3, rules=[("all", (1, 3), (1, 3), (1, 3))]).fit(
        ...     make_customer_view(30)).cut_points_["F"].shape
        (2,)
        """
        self._validate_params()
        rules = RFM_RULES if self.rules is None else self.rules
        names, table = compile_rules(rules, self.bins)
        view = self._check_view(view, min_customers=1)
        since, freq, money = self._values(view)
        self.cut_points_ = {
            "R": quantile_edges(since, self.bins),
            "F": quantile_edges(freq, self.bins),
            "M": quantile_edges(money, self.bins),
        }
        self.cell_segments_ = table
        self.categories_ = names
        codes = self._codes(view)
        self.counts_ = np.bincount(codes, minlength=len(names)).astype(np.int64)
        return self

    def _codes(self, view: pd.DataFrame) -> np.ndarray:
        r, f, m = self._scores(view)
        return np.asarray(self.cell_segments_[r - 1, f - 1, m - 1], dtype=np.intp)

    def scores(self, view: pd.DataFrame) -> pd.DataFrame:
        """R, F and M scores, the RFM cell and the segment of each customer.

        Parameters
        ----------
        view : pandas.DataFrame
            Customer view with the ``requires`` columns.

        Returns
        -------
        pandas.DataFrame
            Indexed like ``view``: ``r_score``, ``f_score``, ``m_score``
            (int, 1 .. bins, higher is better), ``rfm_cell`` (str such as
            ``"545"``) and the segment (named ``output_name``).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        SchemaError
            When a required column is missing or invalid.

        Examples
        --------
        >>> import pandas as pd
        >>> view = pd.DataFrame(
        ...     {"days_since_last": [5.0, 300.0], "frequency": [9, 0], "revenue": [900.0, 10.0]},
        ...     index=pd.Index(["a", "b"], name="customer_id"))
        >>> RFMSegmenter().fit(view).scores(view)
                     r_score  f_score  m_score rfm_cell    segment
        customer_id
        a                  5        5        5      555  champions
        b                  1        1        1      111       lost
        """
        check_is_fitted(self, "categories_")
        view = self._check_view(view, min_customers=0)
        r, f, m = self._scores(view)
        codes = np.asarray(self.cell_segments_[r - 1, f - 1, m - 1], dtype=np.intp)
        cell = (r * 100 + f * 10 + m).astype(str)
        result: pd.DataFrame = pd.DataFrame(
            {
                "r_score": r.astype(np.int64),
                "f_score": f.astype(np.int64),
                "m_score": m.astype(np.int64),
                "rfm_cell": pd.array(cell, dtype="str"),
                self.output_name: self._series(codes, view.index).array,
            },
            index=view.index,
        )
        return result

    def _ranges(self, dim: str) -> list[str]:
        """Text of each score's range of values, e.g. ``" (R5: <= 30)"``, score 1 first."""
        edges = [format_number(e) for e in self.cut_points_[dim]]
        texts = []
        for score in range(1, self.bins + 1):
            bin_ = self.bins - score if dim == "R" else score - 1
            if bin_ == 0:
                where = f"<= {edges[0]}"
            elif bin_ == self.bins - 1:
                where = f"> {edges[-1]}"
            else:
                where = f"> {edges[bin_ - 1]} and <= {edges[bin_]}"
            texts.append(f" ({dim}{score}: {where})")
        return texts

    def _explain(self, view: pd.DataFrame) -> tuple[np.ndarray, Any]:
        since, freq, money = self._values(view)
        r, f, m = self._score_values(since, freq, money)
        codes = np.asarray(self.cell_segments_[r - 1, f - 1, m - 1], dtype=np.intp)
        bins = self.bins
        cell = ((r - 1) * bins + (f - 1)) * bins + (m - 1)
        used = np.flatnonzero(np.bincount(cell, minlength=bins**3))
        heads = [""] * bins**3
        for c in used:
            rc, fc, mc = c // (bins * bins) + 1, (c // bins) % bins + 1, c % bins + 1
            name = self.categories_[self.cell_segments_[rc - 1, fc - 1, mc - 1]]
            heads[c] = f"{name} (R{rc} F{fc} M{mc}): "
        if self.recency_column == "days_since_last":
            recency, unit = "last purchase ", " days ago"
        elif self.recency_column is None:
            recency, unit = "time since last purchase (T - recency) ", ""
        else:
            recency, unit = f"{self.recency_column} ", ""
        parts = [
            pick(heads, cell),
            recency,
            number_texts(since),
            unit,
            pick(self._ranges("R"), r - 1),
            f", {self.frequency_column} ",
            number_texts(freq),
            pick(self._ranges("F"), f - 1),
            f", {self.monetary_column} ",
            number_texts(money),
            pick(self._ranges("M"), m - 1),
        ]
        return codes, join_texts(parts, len(codes))

    def _describe(self) -> pd.DataFrame:
        rules = RFM_RULES if self.rules is None else self.rules
        texts: dict[str, list[str]] = {name: [] for name in self.categories_}
        for name, r, f, m in rules:
            texts[name].append(f"R {r[0]}-{r[1]}, F {f[0]}-{f[1]}, M {m[0]}-{m[1]}")
        total = int(self.counts_.sum())
        result: pd.DataFrame = pd.DataFrame(
            {
                "rule": [" or ".join(texts[name]) for name in self.categories_],
                "n_customers": self.counts_,
                "customer_share": self.counts_ / total,
            },
            index=pd.Index(list(self.categories_), name=self.output_name),
        )
        return result

    def _get_state(self) -> dict[str, Any] | None:
        if not hasattr(self, "categories_"):
            return None
        return {
            "cut_points": dict(self.cut_points_),
            "categories": self.categories_,
            "cell_segments": self.cell_segments_,
            "counts": self.counts_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        self.cut_points_ = {
            k: np.asarray(v, dtype=np.float64) for k, v in state["cut_points"].items()
        }
        self.categories_ = tuple(str(c) for c in state["categories"])
        self.cell_segments_ = np.asarray(state["cell_segments"], dtype=np.intp)
        self.counts_ = np.asarray(state["counts"], dtype=np.int64)
