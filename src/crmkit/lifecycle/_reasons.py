"""The reason texts of the stagers: a stage clause and, when lapsed, a status clause.

Each reason states the customer's own numbers, e.g. ``"development: 4
purchases over 38 weeks, last 3 weeks ago, purchases growing (trend
+0.40)"`` and ``"lapsed: no purchase for 30 weeks, 3.2x its usual gap of 9.4
weeks, P(alive) 0.21"``; clauses are joined with ``"; "`` as in
``churn_reasons``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._text import Coded, coded, fixed, formatted, join_texts
from crmkit._vocab import LAPSED, STAGES

__all__ = [
    "Pieces",
    "history_clauses",
    "join_clauses",
    "lapse_clauses",
    "number",
    "number_piece",
    "numbers",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def number(value: float) -> str:
    """A time or count for a reason: one decimal below 10, whole above.

    Parameters
    ----------
    value : float
        The number (NaN gives ``"?"``).

    Returns
    -------
    str

    Examples
    --------
    >>> number(3.14159), number(38.4), number(float("nan"))
    ('3.1', '38', '?')
    """
    if not np.isfinite(value):
        return "?"
    return f"{value:.1f}" if abs(value) < 9.95 else f"{value:.0f}"


def number_piece(values: FloatArray, where: BoolArray | None = None) -> Coded:
    """:func:`number` of every value as a text piece (``""`` outside ``where``).

    Parameters
    ----------
    values : numpy.ndarray of float, shape (n,)
        The numbers.
    where : numpy.ndarray of bool, shape (n,), optional
        The values written; the others give ``""``.

    Returns
    -------
    Coded

    Examples
    --------
    >>> number_piece(np.array([3.14159, 38.4, np.nan])).values().tolist()
    ['3.1', '38', '?']
    """
    v = np.ascontiguousarray(values, dtype=np.float64)
    shown = np.ones(len(v), dtype=bool) if where is None else np.asarray(where, dtype=bool)
    finite = np.isfinite(v)
    with np.errstate(invalid="ignore"):
        decimals = np.where(np.abs(v) < 9.95, 1, 0)
    return fixed(v, decimals, where=shown & finite).put(shown & ~finite, "?")


def numbers(values: FloatArray) -> list[str]:
    """:func:`number` of every value, formatting each distinct value once.

    Parameters
    ----------
    values : numpy.ndarray of float, shape (n,)
        The numbers (times, counts; they repeat a lot).

    Returns
    -------
    list of str
        ``[number(v) for v in values]``.

    Examples
    --------
    >>> numbers(np.array([3.14159, 38.4, np.nan, 3.14159]))
    ['3.1', '38', '?', '3.1']
    """
    out: list[str] = number_piece(values).values().tolist()
    return out


@attrs.frozen
class Pieces:
    """A text per customer as pieces joined on demand (:func:`crmkit._text.join_texts`).

    Attributes
    ----------
    parts : list of str or Coded
        The pieces in order.
    present : numpy.ndarray of bool, shape (n_customers,)
        Customers whose text is not empty.

    Examples
    --------
    >>> from crmkit._text import coded
    >>> Pieces(["n: ", coded([0, 1], ["1", "2"])], np.array([True, True])).join().tolist()
    ['n: 1', 'n: 2']
    """

    parts: list[str | Coded]
    present: BoolArray

    def join(self) -> Any:
        """The texts, a ``"str"`` array.

        Returns
        -------
        pandas.api.extensions.ExtensionArray

        Examples
        --------
        >>> Pieces.of(["a", ""]).join().tolist()
        ['a', '']
        """
        return join_texts(self.parts, len(self.present))

    @classmethod
    def of(cls, texts: Sequence[str]) -> Pieces:
        """The pieces of ready texts, one per customer.

        Parameters
        ----------
        texts : sequence of str

        Returns
        -------
        Pieces

        Examples
        --------
        >>> Pieces.of(["x", ""]).present.tolist()
        [True, False]
        """
        codes, distinct = pd.factorize(np.asarray(texts, dtype=object), use_na_sentinel=False)
        codes = np.asarray(codes, dtype=np.intp)
        nonempty = np.asarray([bool(t) for t in distinct], dtype=bool)
        present = nonempty[codes] if len(nonempty) else np.zeros(len(codes), dtype=bool)
        return cls([Coded(codes, [str(t) for t in distinct])], present)


def history_clauses(
    codes: npt.NDArray[np.intp],
    n_purchases: FloatArray,
    T: FloatArray,
    idle: FloatArray,
    details: Sequence[str] | Pieces,
    unit: str,
) -> Pieces:
    """The stage clause of each customer: stage, purchases, span, last purchase, why.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_customers,)
        Stage codes into :data:`crmkit.plugins.STAGES`.
    n_purchases : numpy.ndarray of float, shape (n_customers,)
        Purchase periods (``frequency + 1``).
    T, idle : numpy.ndarray of float, shape (n_customers,)
        Time since the first and since the last purchase.
    details : sequence of str or Pieces
        What decided the stage (empty for none), one per customer.
    unit : str
        Plural name of the time unit (``"weeks"``).

    Returns
    -------
    Pieces

    Examples
    --------
    >>> history_clauses(np.array([0, 2]), np.array([np.nan, 4.0]), np.array([np.nan, 38.0]),
    ...                 np.array([np.nan, 3.0]), ["", "purchases growing (trend +0.40)"],
    ...                 "weeks").join().tolist()
    ['acquisition: no purchase yet', 'development: 4 purchases over 38 weeks, last 3.0 weeks \
ago, purchases growing (trend +0.40)']
    """
    why = details if isinstance(details, Pieces) else Pieces.of(details)
    # 0: no purchase yet, 1: a single purchase period, 2: several
    branch = np.where(codes == 0, 0, np.where(n_purchases <= 1, 1, 2))
    several = branch == 2
    parts: list[str | Coded] = [
        coded(codes, [f"{stage}: " for stage in STAGES]),
        coded(branch, ["no purchase yet", "1 purchase, ", ""]),
        formatted(n_purchases, lambda n: f"{int(n)} purchases over ", where=several),
        number_piece(T, where=branch != 0),
        coded(branch, ["", f" {unit} ago", f" {unit}, last "]),
        number_piece(idle, where=several),
        coded(several, ["", f" {unit} ago"]),
        coded(why.present, ["", ", "]),
        *why.parts,
    ]
    return Pieces(parts, np.ones(len(codes), dtype=bool))


def lapse_clauses(
    lapsed: BoolArray,
    rhythm: BoolArray,
    beyond_limit: BoolArray,
    idle: FloatArray,
    gap: FloatArray,
    own_gap: BoolArray,
    p_alive: FloatArray | None,
    threshold: float | None,
    limit: float | None,
    unit: str,
) -> Pieces:
    """The status clause of each customer (empty for an unremarkable active one).

    A lapsed customer gets ``"lapsed: ..."`` with its idle time, the gap it
    is measured against and the model's P(alive); an active customer whose
    rhythm alone says lapsed but whose P(alive) disagrees gets ``"active:
    ..."`` saying so.

    Parameters
    ----------
    lapsed, rhythm, beyond_limit : numpy.ndarray of bool, shape (n_customers,)
        Lapsed; the rhythm rule fired; idle beyond the absolute limit.
    idle, gap : numpy.ndarray of float, shape (n_customers,)
        Time since the last purchase; the usual gap (NaN when unknown).
    own_gap : numpy.ndarray of bool, shape (n_customers,)
        Whether the gap is the customer's own (else the base's typical one).
    p_alive : numpy.ndarray of float or None, shape (n_customers,)
        The informative P(alive) (NaN where the model says nothing).
    threshold : float or None
        P(alive) below which the model agrees the customer is lapsed.
    limit : float or None
        The absolute idle limit.
    unit : str
        Plural name of the time unit.

    Returns
    -------
    Pieces

    Examples
    --------
    >>> lapse_clauses(np.array([True]), np.array([True]), np.array([False]), np.array([30.0]),
    ...               np.array([9.4]), np.array([True]), np.array([0.21]), 0.5, None,
    ...               "weeks").join().tolist()
    ['lapsed: no purchase for 30 weeks, 3.2x its usual gap of 9.4 weeks, P(alive) 0.21']
    """
    lapsed = np.asarray(lapsed, dtype=bool)
    shown = lapsed | np.asarray(rhythm, dtype=bool)
    pa = np.full(len(lapsed), np.nan) if p_alive is None else p_alive
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = idle / gap
        measured = shown & np.isfinite(gap) & (gap > 0)
    beyond = shown & np.asarray(beyond_limit, dtype=bool) & (limit is not None)
    below = "" if threshold is None else f" (lapsed below {threshold:.2f})"
    never = np.zeros(len(lapsed), dtype=np.intp)
    parts: list[str | Coded] = [
        coded(lapsed, ["active: no purchase for ", f"{LAPSED}: no purchase for "], where=shown),
        number_piece(idle, where=shown),
        coded(never, [f" {unit}"], where=shown),
        coded(never, [", "], where=measured),
        fixed(ratio, 1, where=measured),
        coded(own_gap, ["x the base's usual gap of ", "x its usual gap of "], where=measured),
        number_piece(gap, where=measured),
        coded(never, [f" {unit}"], where=measured),
        coded(never, [f", beyond the {limit:g}-{unit.rstrip('s')} limit"], where=beyond)
        if limit is not None
        else "",
        coded(never, [", P(alive) "], where=shown & np.isfinite(pa)),
        fixed(pa, 2, where=shown & np.isfinite(pa)),
        coded(never, [f", but the purchase model disagrees{below}"], where=shown & ~lapsed),
    ]
    return Pieces(parts, shown)


def join_clauses(first: Pieces, second: Pieces) -> Any:
    """Join two clauses per customer with ``"; "``, skipping empty second ones.

    Parameters
    ----------
    first, second : Pieces
        Clauses, one per customer each.

    Returns
    -------
    pandas.api.extensions.ExtensionArray
        dtype ``"str"``.

    Examples
    --------
    >>> join_clauses(Pieces.of(["onboarding: 1 purchase, 2 weeks ago", "retention: ..."]),
    ...              Pieces.of(["", "lapsed: x"])).tolist()
    ['onboarding: 1 purchase, 2 weeks ago', 'retention: ...; lapsed: x']
    """
    parts = [*first.parts, coded(second.present, ["", "; "]), *second.parts]
    return join_texts(parts, len(first.present))
