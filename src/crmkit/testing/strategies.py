"""Hypothesis strategies for customer views and raw transaction frames.

Requires the ``hypothesis`` package (in crmkit's ``test`` extra).

Views obey the customer view's invariants (frequency an int >= 0,
``0 <= recency <= T``, ``monetary_value`` 0 exactly when ``frequency`` is 0,
dates consistent with ``T`` and ``recency`` ...) and are drawn from small
value pools often enough that customers tie. A view may hold a single
customer.

Examples
--------
>>> from hypothesis import given, settings
>>> from crmkit.testing.strategies import customer_views
>>> @settings(max_examples=5, database=None)
... @given(customer_views(max_customers=4, requires=("clv",)))
... def test_views(view):
...     assert (view["recency"] <= view["T"]).all()
...     assert ((view["monetary_value"] == 0) == (view["frequency"] == 0)).all()
>>> test_views()
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from crmkit.testing._views import ATTRIBUTE_LEVELS, assemble_view

__all__ = ["customer_views", "transactions"]

_PRIME = 100_003


def _scaled(low: int, high: int, scale: float) -> st.SearchStrategy[float]:
    return st.integers(low, high).map(lambda v: v / scale)


def _primitive_strategies() -> dict[str, st.SearchStrategy[Any]]:
    # integer draws only (cheap, and small ranges make ties common)
    return {
        "frequency": st.integers(0, 12),
        "t_days": st.integers(0, 730),
        "recency_frac": _scaled(0, 20, 20.0),
        "first_amount": _scaled(1, 10**6, 100.0),
        "monetary": _scaled(1, 10**6, 100.0),
        "extra_rows": st.integers(0, 5),
        "margin_rate": _scaled(-4, 16, 20.0),
        "n_products": st.integers(1, 8),
        "trend": _scaled(-10, 10, 10.0),
        "tenure_extra": st.integers(0, 400),
    }


def _column(strategy: st.SearchStrategy[Any], n: int) -> st.SearchStrategy[list[Any]]:
    return st.lists(strategy, min_size=n, max_size=n)


@st.composite
def customer_views(
    draw: st.DrawFn,
    min_customers: int = 1,
    max_customers: int = 20,
    *,
    requires: Iterable[str] = (),
    attributes: bool = True,
    allow_missing: bool = True,
    time_unit: str = "W",
) -> pd.DataFrame:
    """Draw a valid customer view.

    Parameters
    ----------
    min_customers, max_customers : int, default=1, 20
        Size range.
    requires : iterable of str, default=()
        Extra columns to include (see
        :func:`crmkit.testing.make_customer_view` for how each is made).
    attributes : bool, default=True
        Include ``industry``, ``size_class``, ``region`` and ``key_account``.
    allow_missing : bool, default=True
        Let attributes and the nullable aggregates (``last_nps``,
        ``mean_csat``, ``days_since_address_change``) be missing.
    time_unit : {"D", "W", "M"}, default="W"
        Unit of the time columns.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.DataFrame
        Customer ids are distinct and not in sorted order.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=3, database=None)
    ... @given(customer_views(max_customers=3, requires=("last_nps",)))
    ... def check(view):
    ...     assert 1 <= len(view) <= 3 and view.index.is_unique
    ...     assert view["last_nps"].dropna().between(0, 10).all()
    >>> check()
    """
    n = draw(st.integers(min_customers, max_customers))
    requires = tuple(dict.fromkeys(requires))
    draws: dict[str, np.ndarray] = {
        name: np.asarray(draw(_column(strategy, n)))
        for name, strategy in _primitive_strategies().items()
    }
    lowest = -1 if allow_missing else 0
    for attr, levels in ATTRIBUTE_LEVELS.items():
        # one draw per customer: a level, or -1 for missing
        codes = np.asarray(draw(_column(st.integers(lowest, len(levels) - 1), n)), dtype=float)
        draws[f"{attr}_u"] = (np.maximum(codes, 0) + 0.5) / len(levels)
        draws[f"{attr}_missing"] = codes < 0
    draws["key_account"] = np.asarray(draw(_column(st.booleans(), n)), dtype=bool)
    for name in requires:
        codes = np.asarray(draw(_column(st.integers(lowest, 20), n)), dtype=float)
        draws[f"{name}_u"] = np.clip(codes, 0, 19.5) / 20.0
        draws[f"{name}_missing"] = codes < 0
    # ids in a scrambled but distinct order: multiplication modulo a prime
    offset = draw(st.integers(0, _PRIME - 1))
    ids = [f"cid{(offset + 7919 * k) % _PRIME:06d}" for k in range(n)]
    needs_attr = attributes or any(r in (*ATTRIBUTE_LEVELS, "key_account") for r in requires)
    return assemble_view(draws, ids, requires=requires, attributes=needs_attr, time_unit=time_unit)


@st.composite
def transactions(
    draw: st.DrawFn,
    min_customers: int = 1,
    max_customers: int = 8,
    *,
    max_rows_per_customer: int = 6,
    products: tuple[str, ...] = ("a", "b", "c"),
    refunds: bool = False,
    start: str = "2023-01-01",
    days: int = 540,
) -> pd.DataFrame:
    """Draw a raw transaction frame with canonical columns.

    Parameters
    ----------
    min_customers, max_customers : int, default=1, 8
        Number of distinct customers.
    max_rows_per_customer : int, default=6
        Rows per customer at most (at least 1).
    products : tuple of str, default=("a", "b", "c")
        Product codes; empty for a frame without ``product``.
    refunds : bool, default=False
        Allow negative amounts.
    start : str, default="2023-01-01"
        First possible date.
    days : int, default=540
        Length of the period dates fall in; same-day purchases occur.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of pandas.DataFrame
        Columns ``customer_id`` (str), ``date`` (datetime64), ``amount``
        (float) and ``product`` (str), one row per transaction line.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(transactions(), lambda t: True).columns.tolist()
    ['customer_id', 'date', 'amount', 'product']
    """
    n = draw(st.integers(min_customers, max_customers))
    amount = st.integers(-50_000 if refunds else 1, 500_000).map(lambda c: c / 100)
    line = st.tuples(
        st.one_of(st.sampled_from([0, 1, 30]), st.integers(0, days - 1)),
        st.one_of(st.sampled_from([10.0, 25.0]), amount),
        st.sampled_from(products) if products else st.just(""),
    )
    ids: list[str] = []
    dates: list[int] = []
    amounts: list[float] = []
    items: list[str] = []
    for k in range(n):
        lines = draw(st.lists(line, min_size=1, max_size=max_rows_per_customer))
        for day, value, product in lines:
            ids.append(f"cid{k:05d}")
            dates.append(day)
            amounts.append(value)
            items.append(product)
    frame: pd.DataFrame = pd.DataFrame(
        {
            "customer_id": pd.array(ids, dtype="str"),
            "date": pd.Timestamp(start) + pd.to_timedelta(np.asarray(dates), unit="D"),
            "amount": np.asarray(amounts, dtype=np.float64),
        }
    )
    if products:
        frame["product"] = pd.array(items, dtype="str")
    return frame
