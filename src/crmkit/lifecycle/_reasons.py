"""The reason texts of the stagers: a stage clause and, when lapsed, a status clause.

Each reason states the customer's own numbers, e.g. ``"development: 4
purchases over 38 weeks, last 3 weeks ago, purchases growing (trend
+0.40)"`` and ``"lapsed: no purchase for 30 weeks, 3.2x its usual gap of 9.4
weeks, P(alive) 0.21"``; clauses are joined with ``"; "`` as in
``churn_reasons``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crmkit._vocab import LAPSED, STAGES

__all__ = ["history_clauses", "join_clauses", "lapse_clauses", "number", "numbers"]

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
    values = np.ascontiguousarray(values, dtype=np.float64)
    if len(values) == 0:
        return []
    # distinct bit patterns (-0.0 apart from 0.0, as number() writes them)
    bits, inverse = np.unique(values.view(np.int64), return_inverse=True)
    texts = np.array([number(v) for v in bits.view(np.float64).tolist()], dtype=object)
    out: list[str] = texts[inverse.reshape(-1)].tolist()
    return out


def history_clauses(
    codes: npt.NDArray[np.intp],
    n_purchases: FloatArray,
    T: FloatArray,
    idle: FloatArray,
    details: Sequence[str],
    unit: str,
) -> list[str]:
    """The stage clause of each customer: stage, purchases, span, last purchase, why.

    Parameters
    ----------
    codes : numpy.ndarray of int, shape (n_customers,)
        Stage codes into :data:`crmkit.plugins.STAGES`.
    n_purchases : numpy.ndarray of float, shape (n_customers,)
        Purchase periods (``frequency + 1``).
    T, idle : numpy.ndarray of float, shape (n_customers,)
        Time since the first and since the last purchase.
    details : sequence of str
        What decided the stage (empty for none), one per customer.
    unit : str
        Plural name of the time unit (``"weeks"``).

    Returns
    -------
    list of str

    Examples
    --------
    >>> history_clauses(np.array([0, 2]), np.array([np.nan, 4.0]), np.array([np.nan, 38.0]),
    ...                 np.array([np.nan, 3.0]), ["", "purchases growing (trend +0.40)"],
    ...                 "weeks")
    ['acquisition: no purchase yet', 'development: 4 purchases over 38 weeks, last 3.0 weeks \
ago, purchases growing (trend +0.40)']
    """
    out: list[str] = []
    t_text, i_text = numbers(T), numbers(idle)
    for code, n, t, i, detail in zip(
        codes.tolist(), n_purchases.tolist(), t_text, i_text, details, strict=True
    ):
        stage = STAGES[code]
        if code == 0:
            text = f"{stage}: no purchase yet"
        elif n <= 1:
            text = f"{stage}: 1 purchase, {t} {unit} ago"
        else:
            text = f"{stage}: {int(n)} purchases over {t} {unit}, last {i} {unit} ago"
        out.append(f"{text}, {detail}" if detail else text)
    return out


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
) -> list[str]:
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
    list of str

    Examples
    --------
    >>> lapse_clauses(np.array([True]), np.array([True]), np.array([False]), np.array([30.0]),
    ...               np.array([9.4]), np.array([True]), np.array([0.21]), 0.5, None, "weeks")
    ['lapsed: no purchase for 30 weeks, 3.2x its usual gap of 9.4 weeks, P(alive) 0.21']
    """
    n = len(lapsed)
    pa = np.full(n, np.nan) if p_alive is None else p_alive
    out: list[str] = [""] * n
    shown = np.flatnonzero(np.asarray(lapsed, dtype=bool) | np.asarray(rhythm, dtype=bool))
    idle_text = dict(zip(shown.tolist(), numbers(idle[shown]), strict=True))
    gap_text = dict(zip(shown.tolist(), numbers(gap[shown]), strict=True))
    for k in shown.tolist():
        parts = [f"no purchase for {idle_text[k]} {unit}"]
        if np.isfinite(gap[k]) and gap[k] > 0:
            whose = "its usual gap" if own_gap[k] else "the base's usual gap"
            parts.append(f"{idle[k] / gap[k]:.1f}x {whose} of {gap_text[k]} {unit}")
        if beyond_limit[k] and limit is not None:
            parts.append(f"beyond the {limit:g}-{unit.rstrip('s')} limit")
        if np.isfinite(pa[k]):
            parts.append(f"P(alive) {pa[k]:.2f}")
        if lapsed[k]:
            out[k] = f"{LAPSED}: " + ", ".join(parts)
        else:
            below = "" if threshold is None else f" (lapsed below {threshold:.2f})"
            out[k] = f"active: {', '.join(parts)}, but the purchase model disagrees{below}"
    return out


def join_clauses(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Join two clauses per customer with ``"; "``, skipping empty ones.

    Parameters
    ----------
    first, second : sequence of str
        Clauses, one per customer each.

    Returns
    -------
    list of str

    Examples
    --------
    >>> join_clauses(["onboarding: 1 purchase, 2 weeks ago", "retention: ..."], ["", "lapsed: x"])
    ['onboarding: 1 purchase, 2 weeks ago', 'retention: ...; lapsed: x']
    """
    return [f"{a}; {b}" if b else a for a, b in zip(first, second, strict=True)]
